//! Message templates: `{code}`, `{service}`, `{ttl}` (minutes). Calls speak the code digit by digit.
use super::otp::Channel;

pub const MAX_BODY_CHARS: usize = 1600;

/// The built-in text for a channel when neither the request nor the account gives one.
pub fn default_body(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "Your {service} code is {code}. It expires in {ttl} minutes.",
        Channel::Call => "Your {service} code is {code}.",
        Channel::Email => "Your {service} verification code is {code}.\n\nIt expires in {ttl} minutes. If you did not ask for it, ignore this email.",
    }
}

pub fn default_subject() -> &'static str {
    "Your {service} code"
}

/// Why a caller's body is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    TooLong,
    LacksCode,
}

pub fn validate_body(body: &str) -> Result<(), BodyError> {
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(BodyError::TooLong);
    }
    if !body.contains("{code}") {
        return Err(BodyError::LacksCode);
    }
    Ok(())
}

/// The code as a message shows it: symbol by symbol in a call ("4, 8, 1"), else as it is.
pub fn code_text(channel: Channel, code: &str) -> String {
    if channel == Channel::Call {
        code.chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        code.to_owned()
    }
}

/// Fills the placeholders. For calls the code is spoken symbol by symbol ("4, 8, 1").
pub fn render(
    template: &str,
    channel: Channel,
    code: &str,
    service: &str,
    ttl_minutes: u64,
) -> String {
    let code_text = code_text(channel, code);
    // One pass, so a service name containing "{code}" is not expanded again.
    let ttl = ttl_minutes.to_string();
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let (value, after) = if let Some(r) = tail.strip_prefix("{code}") {
            (code_text.as_str(), r)
        } else if let Some(r) = tail.strip_prefix("{service}") {
            (service, r)
        } else if let Some(r) = tail.strip_prefix("{ttl}") {
            (ttl.as_str(), r)
        } else {
            ("{", &tail[1..])
        };
        out.push_str(value);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A caller's message text, or why not (7012 without `{code}`).
pub fn check_body(raw: &str) -> Result<String, super::Problem> {
    match validate_body(raw) {
        Ok(()) => Ok(raw.to_owned()),
        Err(BodyError::TooLong) => Err(super::Problem::says(format!(
            "must be at most {MAX_BODY_CHARS} characters."
        ))),
        Err(BodyError::LacksCode) => Err(super::Problem::LacksCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_once() {
        assert_eq!(
            render(
                default_body(Channel::Sms),
                Channel::Sms,
                "481592",
                "MyApp",
                10
            ),
            "Your MyApp code is 481592. It expires in 10 minutes."
        );
        assert_eq!(
            render("{code}", Channel::Call, "4815", "x", 1),
            "4, 8, 1, 5"
        );
        assert_eq!(
            render("{service} {code}", Channel::Sms, "1234", "{code}", 1),
            "{code} 1234"
        );
        assert_eq!(
            render("{unknown} {code", Channel::Sms, "1", "s", 1),
            "{unknown} {code"
        );
    }

    #[test]
    fn validates_bodies() {
        assert_eq!(validate_body("Code: {code}"), Ok(()));
        assert_eq!(validate_body("no placeholder"), Err(BodyError::LacksCode));
        assert_eq!(
            validate_body(&format!("{{code}}{}", "x".repeat(1600))),
            Err(BodyError::TooLong)
        );
        for c in Channel::ALL {
            assert_eq!(validate_body(default_body(c)), Ok(()));
        }
    }
}
