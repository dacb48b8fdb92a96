//! The audit log's vocabulary: what was done (`AuditAction`, stable dotted names), by whom
//! (`Actor`), and the redaction every before/after value goes through before it is stored
//! (secrets, passwords, tokens and codes are never recorded).
use serde::{Deserialize, Serialize};
use serde_json::Value;

macro_rules! actions {
    ($($variant:ident = $name:literal, $label:literal;)*) => {
        /// A change the audit log records. The dotted names are stable (API, CSV, filters).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub enum AuditAction {
            $($variant,)*
        }

        impl AuditAction {
            /// Every action, in the order the console's filter lists them.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)*
                }
            }

            /// What people read in the console.
            pub fn label(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $label,)*
                }
            }

            pub fn parse(raw: &str) -> Option<AuditAction> {
                match raw.trim() {
                    $($name => Some(AuditAction::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

actions! {
    UserSignIn = "user.sign_in", "Signed in";
    UserSignInFailed = "user.sign_in_failed", "Sign-in failed";
    UserSignOut = "user.sign_out", "Signed out";
    UserAdd = "user.add", "User added";
    UserRole = "user.role", "User role changed";
    UserDisable = "user.disable", "User disabled";
    UserEnable = "user.enable", "User enabled";
    ApiKeyCreate = "api_key.create", "API key created";
    ApiKeyRevoke = "api_key.revoke", "API key revoked";
    AuthTokenRotate = "auth_token.rotate", "Auth token rotated";
    SubaccountCreate = "subaccount.create", "Sub-account created";
    SubaccountRename = "subaccount.rename", "Sub-account renamed";
    SubaccountSuspend = "subaccount.suspend", "Sub-account suspended";
    SubaccountReactivate = "subaccount.reactivate", "Sub-account reactivated";
    SubaccountClose = "subaccount.close", "Sub-account closed";
    LimitCreate = "limit.create", "Limit created";
    LimitUpdate = "limit.update", "Limit changed";
    LimitDelete = "limit.delete", "Limit deleted";
    ProviderCreate = "provider.create", "Provider added";
    ProviderUpdate = "provider.update", "Provider changed";
    ProviderDelete = "provider.delete", "Provider deleted";
    ProviderMove = "provider.move", "Provider order changed";
    SettingsUpdate = "settings.update", "Settings changed";
    TemplateUpdate = "template.update", "Template changed";
    TemplateDelete = "template.delete", "Template reset";
    CountriesUpdate = "countries.update", "Allowed countries changed";
    FraudGuardLift = "fraud_guard.lift", "Fraud-guard block lifted";
    OtpCancel = "otp.cancel", "OTP canceled";
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for AuditAction {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        AuditAction::parse(&raw).ok_or_else(|| format!("unknown audit action `{raw}`"))
    }
}

impl From<AuditAction> for String {
    fn from(a: AuditAction) -> String {
        a.as_str().to_owned()
    }
}

/// Who made a change: a console user (a failed sign-in with an unknown email has no sid), or
/// API credentials (an account sid with its auth token, or an API key sid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    User { sid: Option<String>, email: String },
    Credential { sid: String },
}

impl Actor {
    /// `user` or `credential`.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } => "user",
            Actor::Credential { .. } => "credential",
        }
    }

    pub fn sid(&self) -> Option<&str> {
        match self {
            Actor::User { sid, .. } => sid.as_deref(),
            Actor::Credential { sid } => Some(sid),
        }
    }

    pub fn email(&self) -> Option<&str> {
        match self {
            Actor::User { email, .. } => Some(email),
            Actor::Credential { .. } => None,
        }
    }

    /// How people read it: the email for a user, else the sid.
    pub fn display(&self) -> String {
        match self {
            Actor::User { email, .. } => email.clone(),
            Actor::Credential { sid } => sid.clone(),
        }
    }
}

/// What replaces a value that must never be recorded.
pub const REDACTED: &str = "[redacted]";

/// Is a field with this name a secret (a password, token, secret, key material or code)?
/// Compared without case, `_` or `-`: `authToken`, `auth_token`, `apiKeySecret`,
/// `password`, `code`, `otp`, `privateKey`, `webhookSecret`… are all secret.
pub fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    const EXACT: &[&str] = &["code", "otp", "pin", "key", "apikey", "authorization"];
    const PARTS: &[&str] = &[
        "password",
        "passwd",
        "token",
        "secret",
        "privatekey",
        "credential",
        "signature",
        "cookie",
        "hash",
    ];
    EXACT.contains(&k.as_str())
        || PARTS.iter().any(|p| k.contains(p))
        || k.ends_with("code") && !k.ends_with("countrycode") && !k.ends_with("errorcode")
}

/// The value with every secret field (at any depth) replaced by [`REDACTED`]; `null` secrets
/// stay `null` (so "no secret set" is still visible).
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(&k) && !v.is_null() {
                        Value::String(REDACTED.into())
                    } else {
                        redact(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

/// A before/after value on one line for people: `{"name":"a"}` → `name: a`.
pub fn summary(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", summary(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(summary).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn action_names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
            assert!(seen.insert(a.as_str()), "{a} twice");
            assert!(a.as_str().contains('.'));
        }
        assert_eq!(AuditAction::parse("user.nope"), None);
        assert_eq!(
            serde_json::to_value(AuditAction::LimitCreate).unwrap(),
            json!("limit.create")
        );
    }

    #[test]
    fn secret_keys_are_recognized() {
        for k in [
            "password",
            "newPassword",
            "authToken",
            "auth_token",
            "apiKeySecret",
            "secret",
            "callbackSecret",
            "code",
            "otp",
            "key",
            "apiKey",
            "privateKey",
            "passwordHash",
            "token_hash",
            "Authorization",
            "verificationCode",
        ] {
            assert!(is_secret_key(k), "{k} must be secret");
        }
        for k in [
            "name",
            "email",
            "role",
            "friendlyName",
            "countryCode",
            "countries",
            "channels",
            "kind",
            "voicePressKey",
            "buckets",
            "status",
            "errorCode",
            "sid",
        ] {
            assert!(!is_secret_key(k), "{k} must not be secret");
        }
    }

    #[test]
    fn redact_replaces_secrets_at_any_depth() {
        let v = json!({
            "name": "twilio",
            "password": "hunter2hunter2",
            "config": {"accountSid": "AC1", "authToken": "tok", "from": "+1555"},
            "headers": [{"name": "X", "secret": "s3"}],
            "apiKeySecret": null,
            "code": "123456",
        });
        let r = redact(v);
        assert_eq!(
            r,
            json!({
                "name": "twilio",
                "password": REDACTED,
                "config": {"accountSid": "AC1", "authToken": REDACTED, "from": "+1555"},
                "headers": [{"name": "X", "secret": REDACTED}],
                "apiKeySecret": null,
                "code": REDACTED,
            })
        );
        let text = r.to_string();
        for s in ["hunter2hunter2", "tok\"", "s3\"", "123456"] {
            assert!(!text.contains(s), "{s} leaked in {text}");
        }
    }

    #[test]
    fn summary_reads_well() {
        assert_eq!(summary(&json!({"role": "admin"})), "role: admin");
        assert_eq!(summary(&json!({"n": [1, "a"]})), "n: [1, a]");
        assert_eq!(summary(&Value::Null), "—");
    }
}
