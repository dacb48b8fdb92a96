//! Phone destinations: E.164 numbers (validated with libphonenumber's metadata, which also gives
//! the country) or `client:<name>` for client applications. Server only: the metadata is large.
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneDestination {
    /// `+14155550100` or `client:alice`.
    value: String,
    /// ISO 3166 alpha-2, when the destination is a number.
    country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("must be an E.164 number: + and up to 15 digits, like +14155550100")]
    Shape,
    #[error("is not a valid phone number for its country")]
    Invalid,
    #[error("client names are 1–64 letters, digits, '_', '-' or '.'")]
    ClientName,
}

impl PhoneDestination {
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let raw = raw.trim();
        if let Some(name) = raw.strip_prefix("client:") {
            let ok = (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            return if ok {
                Ok(Self {
                    value: raw.to_owned(),
                    country: None,
                })
            } else {
                Err(PhoneError::ClientName)
            };
        }
        let digits = raw.strip_prefix('+').ok_or(PhoneError::Shape)?;
        if digits.is_empty()
            || digits.len() > 15
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(PhoneError::Shape);
        }
        let number = phonenumber::parse(None, raw).map_err(|_| PhoneError::Invalid)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        let country = number.country().id().map(|id| format!("{id:?}"));
        let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
        Ok(Self {
            value: e164,
            country,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }

    pub fn is_client(&self) -> bool {
        self.value.starts_with("client:")
    }
}

impl fmt::Display for PhoneDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl fmt::Debug for PhoneDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneDestination({})", self.value)
    }
}

/// A phone destination, or why not (7010). A form body or URL query decodes "+1415…" to
/// " 1415…": the problem then says how to send it.
pub fn parse_destination(raw: &str) -> Result<PhoneDestination, super::Problem> {
    PhoneDestination::parse(raw).map_err(|e| problem(raw, e))
}

/// A phone number to search for, as stored: E.164 or `client:name` in shape. A number of the
/// right shape that the numbering plan no longer calls valid is still searched for (it may
/// have been valid when it was sent).
pub fn to_find(raw: &str) -> Result<String, super::Problem> {
    match PhoneDestination::parse(raw) {
        Ok(p) => Ok(p.as_str().to_owned()),
        Err(PhoneError::Invalid) => Ok(raw.trim().to_owned()),
        Err(e) => Err(problem(raw, e)),
    }
}

fn problem(raw: &str, e: PhoneError) -> super::Problem {
    let hint = if raw.starts_with(' ') && raw.trim_start().bytes().all(|b| b.is_ascii_digit()) {
        " In a form body or URL query the + must be sent as %2B (curl --data-urlencode 'to=+1…')."
    } else {
        ""
    };
    super::Problem::Destination(format!("{e}.{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_numbers_with_countries() {
        let us = PhoneDestination::parse("+14155550100").unwrap();
        assert_eq!(us.as_str(), "+14155550100");
        assert_eq!(us.country(), Some("US"));
        let pt = PhoneDestination::parse(" +351912345678 ").unwrap();
        assert_eq!(pt.country(), Some("PT"));
        let gb = PhoneDestination::parse("+442079460123").unwrap();
        assert_eq!(gb.country(), Some("GB"));
        let br = PhoneDestination::parse("+5511987654321").unwrap();
        assert_eq!(br.country(), Some("BR"));
    }

    #[test]
    fn rejects_malformed_numbers() {
        assert_eq!(
            PhoneDestination::parse("4155550100"),
            Err(PhoneError::Shape)
        );
        assert_eq!(
            PhoneDestination::parse("+1 415 555 0100"),
            Err(PhoneError::Shape)
        );
        assert_eq!(
            PhoneDestination::parse("+1234567890123456"),
            Err(PhoneError::Shape)
        );
        assert_eq!(PhoneDestination::parse("+"), Err(PhoneError::Shape));
        assert_eq!(PhoneDestination::parse("+0123"), Err(PhoneError::Shape));
        assert_eq!(PhoneDestination::parse("+999123"), Err(PhoneError::Invalid));
    }

    #[test]
    fn client_destinations() {
        let c = PhoneDestination::parse("client:alice.smith").unwrap();
        assert!(c.is_client());
        assert_eq!(c.country(), None);
        assert_eq!(
            PhoneDestination::parse("client:"),
            Err(PhoneError::ClientName)
        );
        assert_eq!(
            PhoneDestination::parse("client:a b"),
            Err(PhoneError::ClientName)
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = PhoneDestination::parse(&s);
        }
    }
}
