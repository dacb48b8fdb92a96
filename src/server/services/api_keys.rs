//! API keys: named secrets that authenticate as their account (`ApiKeySid:ApiKeySecret`), beside
//! the account's auth token. The secret is shown once, when the key is created; only its SHA-256
//! is kept. A revoked key stays listed (who had access, and until when) but never authenticates
//! again.
use crate::domain::ApiKeySid;
use crate::server::clock::Millis;
use crate::server::crypto;
use crate::server::db::{self, Db};
use crate::server::services::{AccountScope, ServiceError, ServiceResult};

pub use crate::server::db::api_keys::ApiKey;

/// At most this many keys that are not revoked per account.
pub const MAX_ACTIVE: i64 = 50;

/// Creates a key named `friendly_name` (1–64 characters); answers it and its secret, the only
/// time the secret is seen.
pub async fn create(
    db: &Db,
    scope: &AccountScope,
    friendly_name: &str,
    now: Millis,
) -> ServiceResult<(ApiKey, String)> {
    let name = friendly_name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ServiceError::invalid(
            "friendlyName",
            "Give the key a name of 1–64 characters (say which integration uses it).",
        ));
    }
    let active = db::api_keys::count_active(db, scope.sid()).await?;
    if active >= MAX_ACTIVE {
        return Err(ServiceError::invalid(
            "friendlyName",
            format!("An account has at most {MAX_ACTIVE} active API keys: revoke one first."),
        ));
    }
    let key = ApiKey {
        sid: ApiKeySid::generate().as_str().to_owned(),
        friendly_name: name.to_owned(),
        date_created: now,
        revoked_at: None,
    };
    let secret = crypto::random_hex(16);
    db::api_keys::insert(db, scope.sid(), &key, &crypto::hash_token(&secret)).await?;
    Ok((key, secret))
}

/// The account's keys: active ones first, newest first within each group.
pub async fn list(db: &Db, scope: &AccountScope) -> ServiceResult<Vec<ApiKey>> {
    Ok(db::api_keys::list(db, scope.sid()).await?)
}

/// Revokes a key of the account (again: no change). Another account's key, or an unknown sid,
/// is not found.
pub async fn revoke(
    db: &Db,
    scope: &AccountScope,
    sid: &str,
    now: Millis,
) -> ServiceResult<ApiKey> {
    let not_found = || ServiceError::not_found("API key");
    let sid = ApiKeySid::parse(sid.trim()).map_err(|_| not_found())?;
    db::api_keys::revoke(db, scope.sid(), &sid, now).await?;
    let key = db::api_keys::find(db, scope.sid(), &sid).await?;
    key.ok_or_else(not_found)
}
