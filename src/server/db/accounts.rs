//! `accounts` rows.
use super::users::{insert_query, NewUserRow};
use super::{BeginWrite, Db};
use crate::domain::{AccountSid, AccountStatus};
use crate::on_db;
use crate::server::clock::Millis;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub sid: String,
    pub parent_sid: Option<String>,
    pub friendly_name: String,
    pub status: String,
    pub date_created: Millis,
    pub date_updated: Millis,
}

const COLUMNS: &str = "sid, parent_sid, friendly_name, status, date_created, date_updated";

pub async fn find(db: &Db, sid: &str) -> sqlx::Result<Option<AccountRow>> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE sid = $1");
    on_db!(db, pool => sqlx::query_as::<_, AccountRow>(&sql).bind(sid).fetch_optional(pool).await)
}

/// Sub-accounts of `parent`, oldest first, from `offset`.
pub async fn list_children(
    db: &Db,
    parent: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<AccountRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM accounts WHERE parent_sid = $1 ORDER BY date_created, sid LIMIT $2 OFFSET $3"
    );
    on_db!(db, pool => sqlx::query_as::<_, AccountRow>(&sql).bind(parent).bind(limit).bind(offset).fetch_all(pool).await)
}

pub async fn count_children(db: &Db, parent: &str) -> sqlx::Result<i64> {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM accounts WHERE parent_sid = $1")
        .bind(parent).fetch_one(pool).await)
}

pub async fn find_by_name(db: &Db, name: &str) -> sqlx::Result<Option<AccountRow>> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE friendly_name = $1 AND parent_sid IS NULL ORDER BY date_created LIMIT 1");
    on_db!(db, pool => sqlx::query_as::<_, AccountRow>(&sql).bind(name).fetch_optional(pool).await)
}

pub const INSERT: &str = "INSERT INTO accounts (sid, parent_sid, friendly_name, status, date_created, date_updated, callback_secret) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// A new account and the hash of its auth token.
pub struct NewAccountRow<'a> {
    pub sid: &'a AccountSid,
    pub parent_sid: Option<&'a AccountSid>,
    pub friendly_name: &'a str,
    pub status: AccountStatus,
    pub callback_secret: &'a str,
    pub auth_token_hash: &'a str,
    pub now: Millis,
}

/// Inserts an account, its auth token (the credential whose sid is the account's) and
/// optionally its first user, in one write transaction.
pub async fn insert_with_auth_token(
    db: &Db,
    account: &NewAccountRow<'_>,
    first_user: Option<&NewUserRow<'_>>,
) -> sqlx::Result<()> {
    on_db!(db, pool => async {
        let mut tx = BeginWrite::begin_write(pool).await?;
        sqlx::query(INSERT)
            .bind(account.sid.as_str())
            .bind(account.parent_sid.map(|p| p.as_str()))
            .bind(account.friendly_name)
            .bind(account.status.as_str())
            .bind(account.now)
            .bind(account.now)
            .bind(account.callback_secret)
            .execute(&mut *tx)
            .await?;
        sqlx::query(super::credentials::INSERT)
            .bind(account.sid.as_str())
            .bind(account.sid.as_str())
            .bind("auth_token")
            .bind("Auth token")
            .bind(account.auth_token_hash)
            .bind(account.now)
            .execute(&mut *tx)
            .await?;
        if let Some(user) = first_user {
            insert_query!(user).execute(&mut *tx).await?;
        }
        tx.commit().await
    }.await)
}

/// Sets an account's status; returns whether the account exists.
pub async fn set_status(
    db: &Db,
    sid: &AccountSid,
    status: AccountStatus,
    at: Millis,
) -> sqlx::Result<bool> {
    let changed = on_db!(db, pool => sqlx::query("UPDATE accounts SET status = $1, date_updated = $2 WHERE sid = $3")
        .bind(status.as_str()).bind(at).bind(sid.as_str()).execute(pool).await?.rows_affected());
    Ok(changed != 0)
}

/// Marks `sid` as the account the demo created (the only one the demo may reset).
pub async fn mark_created_by_demo(db: &Db, sid: &str) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE accounts SET created_by_demo = 1 WHERE sid = $1")
        .bind(sid).execute(pool).await.map(|_| ()))
}

/// Whether the demo created `sid`.
pub async fn created_by_demo(db: &Db, sid: &str) -> sqlx::Result<bool> {
    let n = on_db!(db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM accounts WHERE sid = $1 AND created_by_demo = 1")
        .bind(sid).fetch_one(pool).await)?;
    Ok(n > 0)
}

/// The account the demo created (the oldest, should there be several).
pub async fn demo_account(db: &Db) -> sqlx::Result<Option<String>> {
    on_db!(db, pool => sqlx::query_scalar::<_, String>(
        "SELECT sid FROM accounts WHERE created_by_demo = 1 ORDER BY date_created, sid LIMIT 1")
        .fetch_optional(pool).await)
}

/// Renames an account and/or changes its status (`None` keeps the stored value).
pub async fn update(
    db: &Db,
    sid: &AccountSid,
    friendly_name: Option<&str>,
    status: Option<AccountStatus>,
    at: Millis,
) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query(
        "UPDATE accounts SET friendly_name = COALESCE($1, friendly_name), status = COALESCE($2, status), date_updated = $3 WHERE sid = $4")
        .bind(friendly_name).bind(status.map(|s| s.as_str())).bind(at).bind(sid.as_str())
        .execute(pool).await.map(|_| ()))
}

/// The account's callback signing secret (empty for accounts that predate it and have none yet).
pub async fn callback_secret(db: &Db, sid: &str) -> sqlx::Result<String> {
    on_db!(db, pool => sqlx::query_scalar::<_, String>("SELECT callback_secret FROM accounts WHERE sid = $1")
        .bind(sid).fetch_one(pool).await)
}

/// Stores `secret` as the account's callback secret unless it already has one.
pub async fn set_callback_secret_if_empty(db: &Db, sid: &str, secret: &str) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE accounts SET callback_secret = $1 WHERE sid = $2 AND callback_secret = ''")
        .bind(secret).bind(sid).execute(pool).await.map(|_| ()))
}

/// Replaces a secret stored in clear by its sealed form (unless it changed meanwhile).
pub async fn seal_callback_secret(
    db: &Db,
    sid: &str,
    clear: &str,
    sealed: &str,
) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE accounts SET callback_secret = $1 WHERE sid = $2 AND callback_secret = $3")
        .bind(sealed).bind(sid).bind(clear).execute(pool).await.map(|_| ()))
}

/// Replaces the secret status callbacks are signed with.
pub async fn set_callback_secret(db: &Db, sid: &str, secret: &str) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE accounts SET callback_secret = $1 WHERE sid = $2")
        .bind(secret).bind(sid).execute(pool).await.map(|_| ()))
}
