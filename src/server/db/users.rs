//! `users` rows: console users with argon2id password hashes.
use super::{BeginWrite, Db};
use crate::domain::{AccountSid, EmailAddress, Role, UserSid};
use crate::on_db;
use crate::server::clock::Millis;

#[derive(Clone, sqlx::FromRow)]
pub struct UserRow {
    pub sid: String,
    pub account_sid: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub disabled_at: Option<Millis>,
    pub last_login_at: Option<Millis>,
    pub date_created: Millis,
}

const COLUMNS: &str =
    "sid, account_sid, email, password_hash, role, disabled_at, last_login_at, date_created";

pub async fn find_by_email_key(db: &Db, email_key: &str) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email_key = $1");
    on_db!(db, pool => sqlx::query_as::<_, UserRow>(&sql).bind(email_key).fetch_optional(pool).await)
}

pub async fn find(db: &Db, sid: &str) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE sid = $1");
    on_db!(db, pool => sqlx::query_as::<_, UserRow>(&sql).bind(sid).fetch_optional(pool).await)
}

pub const INSERT: &str = "INSERT INTO users (sid, account_sid, email, email_key, password_hash, role, date_created, date_updated) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub async fn record_login(db: &Db, sid: &str, at: Millis) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE users SET last_login_at = $1 WHERE sid = $2")
        .bind(at).bind(sid).execute(pool).await.map(|_| ()))
}

/// A user row to insert (the password already hashed).
pub struct NewUserRow<'a> {
    pub sid: &'a UserSid,
    pub account: &'a AccountSid,
    pub email: &'a EmailAddress,
    pub password_hash: &'a str,
    pub role: Role,
    pub now: Millis,
}

/// The INSERT of a [`NewUserRow`], built inside an `on_db!` arm so it binds for either backend.
macro_rules! insert_query {
    ($user:expr) => {
        sqlx::query($crate::server::db::users::INSERT)
            .bind($user.sid.as_str())
            .bind($user.account.as_str())
            .bind($user.email.as_str())
            .bind($user.email.login_key())
            .bind($user.password_hash)
            .bind($user.role.as_str())
            .bind($user.now)
            .bind($user.now)
    };
}
pub(super) use insert_query;

/// Inserts one user in its own write transaction.
pub async fn insert(db: &Db, user: &NewUserRow<'_>) -> sqlx::Result<()> {
    on_db!(db, pool => async {
        let mut tx = BeginWrite::begin_write(pool).await?;
        insert_query!(user).execute(&mut *tx).await?;
        tx.commit().await
    }.await)
}
