//! Console roles and what each may do.
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything in the account and its sub-accounts.
    Admin,
    /// Send test OTPs, limits, providers, templates, API keys; read everything.
    Developer,
    /// Read-only, but may cancel an OTP.
    Support,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role must be one of admin, developer, support")]
pub struct RoleError;

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Developer, Role::Support];

    pub fn parse(raw: &str) -> Result<Self, RoleError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "developer" => Ok(Role::Developer),
            "support" => Ok(Role::Support),
            _ => Err(RoleError),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Developer => "developer",
            Role::Support => "support",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Developer => "Developer",
            Role::Support => "Support",
        }
    }

    /// May manage API keys (and what developers configure: limits, channels, templates).
    pub fn manages_credentials(self) -> bool {
        matches!(self, Role::Admin | Role::Developer)
    }

    /// May rotate the account's auth token: it is the account's master credential (it also
    /// manages sub-accounts and every API key), so only admins replace it.
    pub fn rotates_auth_token(self) -> bool {
        matches!(self, Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = RoleError;
    fn from_str(s: &str) -> Result<Self, RoleError> {
        Role::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_roles_case_insensitively() {
        assert_eq!(Role::parse("admin"), Ok(Role::Admin));
        assert_eq!(Role::parse(" Developer "), Ok(Role::Developer));
        assert_eq!(Role::parse("SUPPORT"), Ok(Role::Support));
        assert_eq!(Role::parse("owner"), Err(RoleError));
        assert_eq!(Role::parse(""), Err(RoleError));
    }

    #[test]
    fn round_trips_through_str_and_serde() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
    }

    #[test]
    fn only_admin_and_developer_manage_credentials() {
        assert!(Role::Admin.manages_credentials());
        assert!(Role::Developer.manages_credentials());
        assert!(!Role::Support.manages_credentials());
        assert!(Role::Admin.rotates_auth_token());
        assert!(!Role::Developer.rotates_auth_token());
        assert!(!Role::Support.rotates_auth_token());
    }
}
