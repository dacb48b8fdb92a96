//! API keys: the `api_credentials` rows of kind `api_key` (an account's auth token is the
//! other kind, see `credentials`).
use super::Db;
use crate::domain::{AccountSid, ApiKeySid};
use crate::on_db;
use crate::server::clock::Millis;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKey {
    pub sid: String,
    pub friendly_name: String,
    pub date_created: Millis,
    pub revoked_at: Option<Millis>,
}

/// How many of the account's keys are not revoked.
pub async fn count_active(db: &Db, account: &AccountSid) -> sqlx::Result<i64> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_credentials WHERE account_sid = $1 AND kind = 'api_key' AND revoked_at IS NULL")
        .bind(account.as_str()).fetch_one(pool).await)
}

/// Stores a new key of the account with the hash of its secret.
pub async fn insert(
    db: &Db,
    account: &AccountSid,
    key: &ApiKey,
    secret_hash: &str,
) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query(super::credentials::INSERT)
        .bind(&key.sid).bind(account.as_str()).bind("api_key").bind(&key.friendly_name)
        .bind(secret_hash).bind(key.date_created)
        .execute(pool).await.map(|_| ()))
}

/// The account's keys: active ones first, newest first within each group.
pub async fn list(db: &Db, account: &AccountSid) -> sqlx::Result<Vec<ApiKey>> {
    on_db!(db, pool => sqlx::query_as::<_, ApiKey>(
        "SELECT sid, friendly_name, date_created, revoked_at FROM api_credentials \
         WHERE account_sid = $1 AND kind = 'api_key' \
         ORDER BY CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END, date_created DESC, sid DESC")
        .bind(account.as_str()).fetch_all(pool).await)
}

/// Marks the account's key revoked at `at` (a key already revoked keeps its time).
pub async fn revoke(
    db: &Db,
    account: &AccountSid,
    sid: &ApiKeySid,
    at: Millis,
) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query(
        "UPDATE api_credentials SET revoked_at = $1 \
         WHERE sid = $2 AND account_sid = $3 AND kind = 'api_key' AND revoked_at IS NULL")
        .bind(at).bind(sid.as_str()).bind(account.as_str()).execute(pool).await.map(|_| ()))
}

/// One key of the account, revoked or not.
pub async fn find(db: &Db, account: &AccountSid, sid: &ApiKeySid) -> sqlx::Result<Option<ApiKey>> {
    on_db!(db, pool => sqlx::query_as::<_, ApiKey>(
        "SELECT sid, friendly_name, date_created, revoked_at FROM api_credentials \
         WHERE sid = $1 AND account_sid = $2 AND kind = 'api_key'")
        .bind(sid.as_str()).bind(account.as_str()).fetch_optional(pool).await)
}
