//! `accounts` rows.
use super::Db;
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
