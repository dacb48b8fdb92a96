//! Account lifecycle states.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Active,
    Suspended,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status must be one of active, suspended, closed")]
pub struct AccountStatusError;

impl AccountStatus {
    pub fn parse(raw: &str) -> Result<Self, AccountStatusError> {
        match raw {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            "closed" => Ok(Self::Closed),
            _ => Err(AccountStatusError),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Closed => "closed",
        }
    }

    /// Credentials of a suspended or closed account are refused.
    pub fn may_authenticate(self) -> bool {
        self == Self::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for s in ["active", "suspended", "closed"] {
            assert_eq!(AccountStatus::parse(s).unwrap().as_str(), s);
        }
        assert!(AccountStatus::parse("Active").is_err());
        assert!(AccountStatus::Active.may_authenticate());
        assert!(!AccountStatus::Suspended.may_authenticate());
        assert!(!AccountStatus::Closed.may_authenticate());
    }
}
