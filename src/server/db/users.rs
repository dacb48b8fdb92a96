//! `users` rows: console users with argon2id password hashes.
use super::script::Script;
use super::{commit_script, BeginWrite, Db};
use crate::args;
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

/// The users with this email (at most one per account), most recently signed-in first, then
/// oldest first; at most `limit` of them.
pub async fn find_by_email_key(db: &Db, email_key: &str, limit: i64) -> sqlx::Result<Vec<UserRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE email_key = $1 \
         ORDER BY last_login_at IS NULL, last_login_at DESC, date_created, sid LIMIT $2"
    );
    on_db!(db, pool => sqlx::query_as::<_, UserRow>(&sql).bind(email_key).bind(limit).fetch_all(pool).await)
}

/// The user of `account` with this email.
pub async fn find_in_account(
    db: &Db,
    account: &str,
    email_key: &str,
) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE account_sid = $1 AND email_key = $2");
    on_db!(db, pool => sqlx::query_as::<_, UserRow>(&sql).bind(account).bind(email_key).fetch_optional(pool).await)
}

pub async fn find(db: &Db, sid: &str) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE sid = $1");
    on_db!(db, pool => sqlx::query_as::<_, UserRow>(&sql).bind(sid).fetch_optional(pool).await)
}

pub const INSERT: &str = "INSERT INTO users (sid, account_sid, email, email_key, password_hash, role, date_created, date_updated) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub async fn record_login(db: &Db, sid: &str, at: Millis) -> sqlx::Result<()> {
    let mut s = Script::new();
    s.push(
        "UPDATE users SET last_login_at = $1 WHERE sid = $2",
        args![at, sid],
    );
    commit_script(db, s).await.map(|_| ())
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

/// Sets a user's password hash and enables them.
pub async fn reset_password(
    db: &Db,
    sid: &str,
    password_hash: &str,
    at: Millis,
) -> sqlx::Result<()> {
    let mut s = Script::new();
    s.push(
        "UPDATE users SET password_hash = $1, disabled_at = NULL, date_updated = $2 WHERE sid = $3",
        args![password_hash, at, sid],
    );
    commit_script(db, s).await.map(|_| ())
}

/// A console user as the Users page lists it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserListing {
    pub sid: String,
    pub email: String,
    pub role: String,
    pub disabled_at: Option<Millis>,
    pub last_login_at: Option<Millis>,
    pub date_created: Millis,
}

const LISTING: &str = "sid, email, role, disabled_at, last_login_at, date_created";

/// The account's console users: active ones first, then by email.
pub async fn list(db: &Db, account: &AccountSid) -> sqlx::Result<Vec<UserListing>> {
    let sql = format!(
        "SELECT {LISTING} FROM users WHERE account_sid = $1 \
         ORDER BY CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END, email_key"
    );
    on_db!(db, pool => sqlx::query_as::<_, UserListing>(&sql)
        .bind(account.as_str()).fetch_all(pool).await)
}

/// What a change writes to a user, as the caller's rule decided it from the stored user.
pub struct UserUpdate {
    pub role: String,
    pub disabled_at: Option<Millis>,
    /// Write only if the account keeps another active admin besides this user.
    pub needs_another_admin: bool,
}

/// How [`change_serialized`] ended; nothing was written unless `Changed`.
pub enum UserChangeOutcome {
    /// The user as written.
    Changed(UserListing),
    /// The acting user is no longer an active admin (another admin may have just demoted them).
    ActorNotAdmin,
    /// No such user in the account.
    NotFound,
    /// The update needed another active admin and the account has none.
    NoOtherAdmin,
}

/// Changes one user of `account` for `acting_user` in one transaction, serialized per account
/// (PostgreSQL locks the account row `FOR UPDATE`; SQLite's write lock already does this): checks
/// that the acting user is still an active admin, reads the user, asks `decide` what to write,
/// checks `needs_another_admin`, writes.
pub async fn change_serialized(
    db: &Db,
    account: &AccountSid,
    acting_user: &UserSid,
    sid: &UserSid,
    now: Millis,
    decide: impl FnOnce(&UserListing) -> UserUpdate + Send,
) -> sqlx::Result<UserChangeOutcome> {
    let account = account.as_str();
    let pg = matches!(db, Db::Postgres(_));
    let select = format!("SELECT {LISTING} FROM users WHERE sid = $1 AND account_sid = $2");
    on_db!(db, pool => async {
        let mut tx = BeginWrite::begin_write(pool).await?;
        if pg {
            // Changes to one account's users take turns (SQLite's write lock already does this).
            sqlx::query("SELECT sid FROM accounts WHERE sid = $1 FOR UPDATE")
                .bind(account).fetch_optional(&mut *tx).await?;
        }
        let still_admin: Option<String> = sqlx::query_scalar(
            "SELECT sid FROM users WHERE sid = $1 AND role = 'admin' AND disabled_at IS NULL")
            .bind(acting_user.as_str()).fetch_optional(&mut *tx).await?;
        if still_admin.is_none() {
            return Ok(UserChangeOutcome::ActorNotAdmin);
        }
        let Some(user) = sqlx::query_as::<_, UserListing>(&select)
            .bind(sid.as_str()).bind(account).fetch_optional(&mut *tx).await? else {
            return Ok(UserChangeOutcome::NotFound);
        };
        let UserUpdate { role, disabled_at, needs_another_admin } = decide(&user);
        if needs_another_admin {
            let others: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE account_sid = $1 AND role = 'admin' AND disabled_at IS NULL AND sid <> $2")
                .bind(account).bind(sid.as_str()).fetch_one(&mut *tx).await?;
            if others == 0 {
                return Ok(UserChangeOutcome::NoOtherAdmin);
            }
        }
        sqlx::query("UPDATE users SET role = $1, disabled_at = $2, date_updated = $3 WHERE sid = $4")
            .bind(&role).bind(disabled_at).bind(now).bind(sid.as_str()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(UserChangeOutcome::Changed(UserListing { role, disabled_at, ..user }))
    }.await)
}
