//! Identifiers: a fixed prefix followed by 32 lowercase hex digits (`AC…`, `US…`, `SK…`).
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must start with `{0}`")]
    Prefix(&'static str),
    #[error("must be `{0}` followed by 32 lowercase hexadecimal digits")]
    Shape(&'static str),
}

fn parse_sid(prefix: &'static str, raw: &str) -> Result<(), IdError> {
    let rest = raw.strip_prefix(prefix).ok_or(IdError::Prefix(prefix))?;
    let ok = rest.len() == 32 && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(IdError::Shape(prefix))
    }
}

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn parse(raw: &str) -> Result<Self, IdError> {
                parse_sid($prefix, raw).map(|()| Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// A new random identifier (server only: it needs the OS random source).
            #[cfg(feature = "ssr")]
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, crate::server::crypto::random_hex(16)))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(raw: String) -> Result<Self, IdError> {
                parse_sid($prefix, &raw).map(|()| Self(raw))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(raw: &str) -> Result<Self, IdError> {
                Self::parse(raw)
            }
        }
    };
}

sid_type!(
    /// An account (tenant) or sub-account.
    AccountSid,
    "AC"
);
sid_type!(
    /// A console user.
    UserSid,
    "US"
);
sid_type!(
    /// An API key acting as its account.
    ApiKeySid,
    "SK"
);
sid_type!(
    /// A named limit.
    LimitSid,
    "LM"
);
sid_type!(
    /// An OTP request (the `requestID` of the API).
    OtpSid,
    "OTP"
);
sid_type!(
    /// A delivery provider an account configured.
    ProviderSid,
    "PR"
);
sid_type!(
    /// An entry of the audit log.
    AuditSid,
    "AU"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_prefix_and_32_lowercase_hex() {
        let id = AccountSid::parse("AC0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(id.as_str(), "AC0123456789abcdef0123456789abcdef");
        assert_eq!(id.to_string(), id.as_str());
    }

    #[test]
    fn rejects_wrong_prefix_length_and_case() {
        assert_eq!(
            AccountSid::parse("US0123456789abcdef0123456789abcdef"),
            Err(IdError::Prefix("AC"))
        );
        assert_eq!(AccountSid::parse("AC0123"), Err(IdError::Shape("AC")));
        assert_eq!(
            AccountSid::parse("AC0123456789ABCDEF0123456789abcdef"),
            Err(IdError::Shape("AC"))
        );
        assert_eq!(
            UserSid::parse("US0123456789abcdef0123456789abcdefg"),
            Err(IdError::Shape("US"))
        );
        assert!(AccountSid::parse("").is_err());
    }

    #[test]
    fn serde_round_trip_validates() {
        let id = UserSid::parse("US00000000000000000000000000000000").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"US00000000000000000000000000000000\"");
        assert_eq!(serde_json::from_str::<UserSid>(&json).unwrap(), id);
        assert!(serde_json::from_str::<UserSid>("\"US1\"").is_err());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn generated_ids_parse_and_differ() {
        let a = AccountSid::generate();
        let b = AccountSid::generate();
        assert!(AccountSid::parse(a.as_str()).is_ok());
        assert_ne!(a, b);
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_only_accepts_the_shape(s in "\\PC{0,40}") {
            let ok = AccountSid::parse(&s).is_ok();
            let shape = s.len() == 34 && s.starts_with("AC")
                && s[2..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            prop_assert_eq!(ok, shape);
        }
    }
}
