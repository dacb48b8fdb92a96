//! Email addresses, parsed once at the edge (the `email_address` crate checks RFC 5321/5322 shape).
use serde::{Deserialize, Serialize};
use std::fmt;

/// A syntactically valid email address; the domain part is lower-cased so that lookups match.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a valid email address")]
pub struct EmailError;

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.len() > 254 || trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError);
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            trimmed,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        )
        .map_err(|_| EmailError)?;
        let (local, domain) = (parsed.local_part(), parsed.domain());
        // A real, routable domain: at least one dot, no empty labels.
        if !domain.contains('.') || domain.split('.').any(str::is_empty) {
            return Err(EmailError);
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The form used to match console logins: the whole address lower-cased.
    pub fn login_key(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(l, _)| l).unwrap_or_default()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;
    fn try_from(raw: String) -> Result<Self, EmailError> {
        Self::parse(&raw)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

/// An email destination, or why not (7010).
pub fn parse_destination(raw: &str) -> Result<EmailAddress, super::Problem> {
    EmailAddress::parse(raw)
        .map_err(|_| super::Problem::Destination("is not a valid email address.".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_domain() {
        let e = EmailAddress::parse("  Ana.Silva+otp@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Ana.Silva+otp@example.com");
        assert_eq!(e.login_key(), "ana.silva+otp@example.com");
        assert_eq!(e.local_part(), "Ana.Silva+otp");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@@example.com",
            "a b@example.com",
            "a@example..com",
            "Ana <ana@example.com>",
            "a@[127.0.0.1]",
        ] {
            assert!(
                EmailAddress::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = EmailAddress::parse(&s);
        }

        #[test]
        fn parsed_addresses_reparse_to_themselves(local in "[a-z0-9._%+-]{1,20}", domain in "[a-z0-9-]{1,15}\\.[a-z]{2,6}") {
            let raw = format!("{local}@{domain}");
            if let Ok(e) = EmailAddress::parse(&raw) {
                prop_assert_eq!(EmailAddress::parse(e.as_str()).unwrap(), e);
            }
        }
    }
}
