//! Console users: creation with argon2id passwords, login checks, session loading.
use super::{accounts, AccountScope, ServiceError, ServiceResult};
use crate::domain::{AccountSid, EmailAddress, ErrorCode, Role, UserSid};
use crate::server::clock::{Clock, Millis};
use crate::server::crypto;
use crate::server::db::{self, Db};

pub const MIN_PASSWORD_LEN: usize = 10;
const MAX_PASSWORD_LEN: usize = 1024;

/// Input for a new console user, before hashing.
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub role: Role,
}

/// A new user ready to store: email parsed, password hashed.
pub struct PreparedUser {
    pub(crate) email: EmailAddress,
    pub(crate) password_hash: String,
    pub(crate) role: Role,
}

impl NewUser {
    pub fn prepare(self) -> ServiceResult<PreparedUser> {
        let email = EmailAddress::parse(&self.email).map_err(|_| {
            ServiceError::invalid(
                "email",
                "Enter a valid email address, like ana@example.com.",
            )
        })?;
        let len = self.password.chars().count();
        if len < MIN_PASSWORD_LEN {
            return Err(ServiceError::invalid(
                "password",
                format!("The password must have at least {MIN_PASSWORD_LEN} characters."),
            ));
        }
        if len > MAX_PASSWORD_LEN {
            return Err(ServiceError::invalid(
                "password",
                "The password is too long (at most 1024 characters).",
            ));
        }
        let password_hash = crypto::hash_password(&self.password)?;
        Ok(PreparedUser {
            email,
            password_hash,
            role: self.role,
        })
    }
}

impl PreparedUser {
    /// The row that stores this user as `sid` in `account`.
    pub(crate) fn row<'a>(
        &'a self,
        sid: &'a UserSid,
        account: &'a AccountSid,
        now: Millis,
    ) -> db::users::NewUserRow<'a> {
        db::users::NewUserRow {
            sid,
            account,
            email: &self.email,
            password_hash: &self.password_hash,
            role: self.role,
            now,
        }
    }
}

/// Adds a console user to an account.
pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    account: &AccountSid,
    input: NewUser,
) -> ServiceResult<UserSid> {
    if db::accounts::find(db, account.as_str()).await?.is_none() {
        return Err(ServiceError::rule(
            ErrorCode::NotFound,
            format!("Account {account} was not found."),
        ));
    }
    let user = input.prepare()?;
    let sid = UserSid::generate();
    let now = clock.now_ms();
    let result = db::users::insert(db, &user.row(&sid, account, now)).await;
    match result {
        Ok(()) => Ok(sid),
        Err(e) if db::is_unique_violation(&e) => Err(ServiceError::Rule {
            code: ErrorCode::DuplicateName,
            message: "A console user with this email already exists.".into(),
            field: Some("email"),
        }),
        Err(e) => Err(e.into()),
    }
}

/// A signed-in console user: `scope` is the account the console works on (their own, or a
/// sub-account they switched into), `home` the account they belong to.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub sid: UserSid,
    pub email: String,
    pub role: Role,
    pub scope: AccountScope,
    pub home: AccountScope,
}

/// Checks an email and password. `None` for any failure (unknown user, wrong password,
/// disabled user, inactive account), after the same amount of work.
pub async fn check_login(
    db: &Db,
    clock: &dyn Clock,
    email: &str,
    password: &str,
) -> ServiceResult<Option<SessionUser>> {
    let row = match EmailAddress::parse(email) {
        Ok(e) => db::users::find_by_email_key(db, &e.login_key()).await?,
        Err(_) => None,
    };
    let hash = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| crypto::dummy_password_hash().to_owned());
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || crypto::verify_password(&password, &hash))
        .await
        .map_err(|e| anyhow::anyhow!("password check task: {e}"))?;
    let Some(row) = row.filter(|r| ok && r.disabled_at.is_none()) else {
        return Ok(None);
    };
    let Some(user) = session_user_from_row(db, row).await? else {
        return Ok(None);
    };
    db::users::record_login(db, user.sid.as_str(), clock.now_ms()).await?;
    Ok(Some(user))
}

/// The user behind a session, if still allowed in (not disabled, account active).
pub async fn load_session_user(db: &Db, user_sid: &str) -> ServiceResult<Option<SessionUser>> {
    match db::users::find(db, user_sid).await? {
        Some(row) if row.disabled_at.is_none() => session_user_from_row(db, row).await,
        _ => Ok(None),
    }
}

async fn session_user_from_row(
    db: &Db,
    row: db::users::UserRow,
) -> ServiceResult<Option<SessionUser>> {
    let Some(scope) = accounts::scope_for_session(db, &row.account_sid).await? else {
        return Ok(None);
    };
    Ok(Some(SessionUser {
        sid: UserSid::parse(&row.sid).map_err(|e| anyhow::anyhow!("stored user sid: {e}"))?,
        email: row.email,
        role: Role::parse(&row.role).map_err(|e| anyhow::anyhow!("stored role: {e}"))?,
        home: scope.clone(),
        scope,
    }))
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
pub async fn list(db: &Db, scope: &AccountScope) -> ServiceResult<Vec<UserListing>> {
    let sql = format!(
        "SELECT {LISTING} FROM users WHERE account_sid = $1 \
         ORDER BY CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END, email_key"
    );
    Ok(
        crate::on_db!(db, pool => sqlx::query_as::<_, UserListing>(&sql)
        .bind(scope.sid().as_str()).fetch_all(pool).await)?,
    )
}

/// A change an admin makes to a user of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    Role(Role),
    Disabled(bool),
}

/// Changes a user's role or disables/enables them. An account always keeps at least one active
/// admin, also when two admins change each other at the same moment (the check and the change
/// are one transaction, serialized per account). Nobody disables themselves. A disabled user's
/// sessions end at their next request.
pub async fn change(
    db: &Db,
    clock: &dyn Clock,
    scope: &AccountScope,
    acting_user: &UserSid,
    user_sid: &str,
    change: UserChange,
) -> ServiceResult<UserListing> {
    let not_found = || ServiceError::not_found("user");
    let sid = UserSid::parse(user_sid.trim()).map_err(|_| not_found())?;
    if change == UserChange::Disabled(true) && sid == *acting_user {
        return Err(ServiceError::invalid(
            "disabled",
            "You cannot disable your own user: ask another admin.",
        ));
    }
    enum Outcome {
        Changed(UserListing),
        NotFound,
        LastAdmin,
        NotAllowed,
    }
    let account = scope.sid().as_str();
    let now = clock.now_ms();
    let pg = matches!(db, Db::Postgres(_));
    let select = format!("SELECT {LISTING} FROM users WHERE sid = $1 AND account_sid = $2");
    let outcome: sqlx::Result<Outcome> = crate::on_db!(db, pool => async {
        let mut tx = crate::server::db::BeginWrite::begin_write(pool).await?;
        if pg {
            // Changes to one account's users take turns (SQLite's write lock already does this).
            sqlx::query("SELECT sid FROM accounts WHERE sid = $1 FOR UPDATE")
                .bind(account).fetch_optional(&mut *tx).await?;
        }
        // The acting admin is still one now (another admin may have just demoted them).
        let still_admin: Option<String> = sqlx::query_scalar(
            "SELECT sid FROM users WHERE sid = $1 AND role = 'admin' AND disabled_at IS NULL")
            .bind(acting_user.as_str()).fetch_optional(&mut *tx).await?;
        if still_admin.is_none() {
            return Ok(Outcome::NotAllowed);
        }
        let Some(user) = sqlx::query_as::<_, UserListing>(&select)
            .bind(sid.as_str()).bind(account).fetch_optional(&mut *tx).await? else {
            return Ok(Outcome::NotFound);
        };
        let active_admin = |role: &str, disabled: bool| role == "admin" && !disabled;
        let was_admin = active_admin(&user.role, user.disabled_at.is_some());
        let (role, disabled_at) = match change {
            UserChange::Role(r) => (r.as_str().to_owned(), user.disabled_at),
            UserChange::Disabled(true) => (user.role.clone(), user.disabled_at.or(Some(now))),
            UserChange::Disabled(false) => (user.role.clone(), None),
        };
        if was_admin && !active_admin(&role, disabled_at.is_some()) {
            let others: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE account_sid = $1 AND role = 'admin' AND disabled_at IS NULL AND sid <> $2")
                .bind(account).bind(sid.as_str()).fetch_one(&mut *tx).await?;
            if others == 0 {
                return Ok(Outcome::LastAdmin);
            }
        }
        sqlx::query("UPDATE users SET role = $1, disabled_at = $2, date_updated = $3 WHERE sid = $4")
            .bind(&role).bind(disabled_at).bind(now).bind(sid.as_str()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Outcome::Changed(UserListing { role, disabled_at, ..user }))
    }.await);
    match outcome? {
        Outcome::Changed(u) => Ok(u),
        Outcome::NotFound => Err(not_found()),
        Outcome::NotAllowed => Err(ServiceError::forbidden(
            "Only admins change users, and you are no longer one.",
        )),
        Outcome::LastAdmin => Err(ServiceError::invalid(
            match change {
                UserChange::Role(_) => "role",
                UserChange::Disabled(_) => "disabled",
            },
            "The account needs at least one active admin: make another user admin first.",
        )),
    }
}
