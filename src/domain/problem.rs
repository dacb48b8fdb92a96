//! Why a value a caller gave is refused, without naming the field: each adapter names it its own
//! way (REST `workflowTimeout`, the console "Expiry (seconds)") and renders the message with
//! [`Problem::message`]. The stable error code comes with the problem.
use super::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// "{field} is required."
    Required,
    /// "{field} must be a whole number from {min} to {max}."
    Range { min: i64, max: i64 },
    /// "{field} must be {min}–{max} characters long (it has {got})."
    Length { min: usize, max: usize, got: usize },
    /// "{field} must not contain control characters."
    ControlChars,
    /// "{field} {text}": the rest of a sentence that starts with the field's name.
    Says(String),
    /// A whole sentence of its own.
    Sentence(String),
    /// 7010: "{field} {text}" about a phone number or email address.
    Destination(String),
    /// 7012: a message text without the `{code}` placeholder.
    LacksCode,
}

impl Problem {
    pub fn says(text: impl Into<String>) -> Self {
        Problem::Says(text.into())
    }

    pub fn sentence(text: impl Into<String>) -> Self {
        Problem::Sentence(text.into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Problem::Destination(_) => ErrorCode::InvalidDestination,
            Problem::LacksCode => ErrorCode::BodyLacksCode,
            _ => ErrorCode::InvalidParameter,
        }
    }

    /// The message, with the field called `field`.
    pub fn message(&self, field: &str) -> String {
        match self {
            Problem::Required => format!("{field} is required."),
            Problem::Range { min, max } => {
                format!("{field} must be a whole number from {min} to {max}.")
            }
            Problem::Length { min, max, got } => {
                format!("{field} must be {min}–{max} characters long (it has {got}).")
            }
            Problem::ControlChars => format!("{field} must not contain control characters."),
            Problem::Says(text) | Problem::Destination(text) => format!("{field} {text}"),
            Problem::Sentence(text) => text.clone(),
            Problem::LacksCode => format!("{field} must contain the {{code}} placeholder."),
        }
    }
}

/// `n` when it lies in `min..=max`.
pub fn in_range(n: i64, (min, max): (i64, i64)) -> Result<i64, Problem> {
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(Problem::Range { min, max })
    }
}

/// A text of `min..=max` characters without control characters (tabs and line breaks allowed).
pub fn text(raw: &str, (min, max): (usize, usize)) -> Result<String, Problem> {
    let got = raw.chars().count();
    if got < min || got > max {
        return Err(Problem::Length { min, max, got });
    }
    if raw
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Problem::ControlChars);
    }
    Ok(raw.to_owned())
}

/// A single line of `min..=max` characters: no control characters at all (it may become a
/// header of an email or a message).
pub fn line(raw: &str, (min, max): (usize, usize)) -> Result<String, Problem> {
    let got = raw.chars().count();
    if got < min || got > max {
        return Err(Problem::Length { min, max, got });
    }
    if raw.chars().any(char::is_control) {
        return Err(Problem::says(
            "must be a single line without control characters.",
        ));
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field_as_given() {
        assert_eq!(
            Problem::Range {
                min: 60,
                max: 86400
            }
            .message("expiry"),
            "expiry must be a whole number from 60 to 86400."
        );
        assert_eq!(
            Problem::Range {
                min: 60,
                max: 86400
            }
            .message("Expiry (seconds)"),
            "Expiry (seconds) must be a whole number from 60 to 86400."
        );
        assert_eq!(Problem::LacksCode.code(), ErrorCode::BodyLacksCode);
        assert_eq!(
            text("ab", (3, 5)),
            Err(Problem::Length {
                min: 3,
                max: 5,
                got: 2
            })
        );
        assert_eq!(text("a\u{7}b", (1, 5)), Err(Problem::ControlChars));
        assert_eq!(text("a\nb", (1, 5)).as_deref(), Ok("a\nb"));
        assert_eq!(in_range(7, (1, 10)), Ok(7));
    }
}
