//! `api_credentials` rows: hashed secrets that authenticate as an account.
use super::script::Script;
use super::{commit_script, Db};
use crate::args;
use crate::on_db;
use crate::server::clock::Millis;

#[derive(Clone, sqlx::FromRow)]
pub struct CredentialRow {
    pub sid: String,
    pub account_sid: String,
    pub kind: String,
    pub secret_hash: String,
    pub revoked_at: Option<Millis>,
}

pub async fn find(db: &Db, sid: &str) -> sqlx::Result<Option<CredentialRow>> {
    on_db!(db, pool => sqlx::query_as::<_, CredentialRow>(
        "SELECT sid, account_sid, kind, secret_hash, revoked_at FROM api_credentials WHERE sid = $1")
        .bind(sid).fetch_optional(pool).await)
}

pub const INSERT: &str = "INSERT INTO api_credentials (sid, account_sid, kind, friendly_name, secret_hash, date_created) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// Replaces an auth token's hash; returns whether a row changed.
pub async fn set_secret_hash(db: &Db, sid: &str, hash: &str) -> sqlx::Result<bool> {
    let mut s = Script::new();
    s.push(
        "UPDATE api_credentials SET secret_hash = $1 WHERE sid = $2 AND revoked_at IS NULL",
        args![hash, sid],
    );
    Ok(commit_script(db, s).await? == [1])
}
