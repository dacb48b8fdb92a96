//! API keys: named secrets that authenticate as their account (`ApiKeySid:ApiKeySecret`), beside
//! the account's auth token. The secret is shown once, when the key is created; only its SHA-256
//! is kept. A revoked key stays listed (who had access, and until when) but never authenticates
//! again.
use crate::domain::ApiKeySid;
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::crypto;
use crate::server::db::{self, Db};
use crate::server::services::{AccountScope, ServiceError, ServiceResult};

/// At most this many keys that are not revoked per account.
pub const MAX_ACTIVE: i64 = 50;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKey {
    pub sid: String,
    pub friendly_name: String,
    pub date_created: Millis,
    pub revoked_at: Option<Millis>,
}

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
    let active: i64 = on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_credentials WHERE account_sid = $1 AND kind = 'api_key' AND revoked_at IS NULL")
        .bind(scope.sid().as_str()).fetch_one(pool).await)?;
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
    on_db!(db, pool => sqlx::query(db::credentials::INSERT)
        .bind(&key.sid).bind(scope.sid().as_str()).bind("api_key").bind(&key.friendly_name)
        .bind(crypto::hash_token(&secret)).bind(now)
        .execute(pool).await.map(|_| ()))?;
    Ok((key, secret))
}

/// The account's keys: active ones first, newest first within each group.
pub async fn list(db: &Db, scope: &AccountScope) -> ServiceResult<Vec<ApiKey>> {
    Ok(on_db!(db, pool => sqlx::query_as::<_, ApiKey>(
        "SELECT sid, friendly_name, date_created, revoked_at FROM api_credentials \
         WHERE account_sid = $1 AND kind = 'api_key' \
         ORDER BY CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END, date_created DESC, sid DESC")
        .bind(scope.sid().as_str()).fetch_all(pool).await)?)
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
    on_db!(db, pool => sqlx::query(
        "UPDATE api_credentials SET revoked_at = $1 \
         WHERE sid = $2 AND account_sid = $3 AND kind = 'api_key' AND revoked_at IS NULL")
        .bind(now).bind(sid.as_str()).bind(scope.sid().as_str()).execute(pool).await.map(|_| ()))?;
    let key: Option<ApiKey> = on_db!(db, pool => sqlx::query_as(
        "SELECT sid, friendly_name, date_created, revoked_at FROM api_credentials \
         WHERE sid = $1 AND account_sid = $2 AND kind = 'api_key'")
        .bind(sid.as_str()).bind(scope.sid().as_str()).fetch_optional(pool).await)?;
    key.ok_or_else(not_found)
}
