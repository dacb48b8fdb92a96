//! Console users: creation with argon2id passwords, login checks, session loading.
use super::{accounts, AccountScope, ServiceError, ServiceResult};
use crate::domain::{AccountSid, EmailAddress, ErrorCode, Role, UserSid};
use crate::server::clock::{Clock, Millis};
use crate::server::crypto;
use crate::server::db::users::UserChangeOutcome;
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
            message: "This account already has a console user with this email.".into(),
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

/// How a sign-in ended.
#[derive(Debug)]
pub enum Login {
    SignedIn(Box<SessionUser>),
    /// Unknown email, wrong password, disabled user or inactive account: all look the same.
    Failed,
    /// The password is right for users of several accounts with this email: which account
    /// (sid and name, most recently used first)? Asked only after the password matched.
    ChooseAccount(Vec<(AccountSid, String)>),
}

/// One email may belong to users of many accounts; sign-in without an account checks the
/// password of at most this many of them (the most recently used), so a sign-in costs a bounded
/// number of password hashes.
pub const MAX_ACCOUNTS_PER_SIGN_IN: i64 = 5;

/// Checks an email and password, in `account` when given (its sid), else in every account that
/// has a user with this email (see [`MAX_ACCOUNTS_PER_SIGN_IN`]). Failures do the same work as
/// a wrong password. `permit` (the caller's right to hash passwords now) is held until the
/// hashing is done, also when the caller gives up waiting: it goes on in a blocking thread and
/// still counts against the bound.
pub async fn check_login(
    db: &Db,
    clock: &dyn Clock,
    email: &str,
    password: &str,
    account: Option<&str>,
    permit: impl Send + 'static,
) -> ServiceResult<Login> {
    let rows = match (EmailAddress::parse(email), account) {
        (Ok(e), Some(account)) => db::users::find_in_account(db, account.trim(), &e.login_key())
            .await?
            .into_iter()
            .collect(),
        (Ok(e), None) => {
            db::users::find_by_email_key(db, &e.login_key(), MAX_ACCOUNTS_PER_SIGN_IN).await?
        }
        (Err(_), _) => Vec::new(),
    };
    let hashes: Vec<String> = if rows.is_empty() {
        vec![crypto::dummy_password_hash().to_owned()]
    } else {
        rows.iter().map(|r| r.password_hash.clone()).collect()
    };
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || {
        let ok: Vec<bool> = hashes
            .iter()
            .map(|h| crypto::verify_password(&password, h))
            .collect();
        drop(permit);
        ok
    })
    .await
    .map_err(|e| anyhow::anyhow!("password check task: {e}"))?;
    let mut matched = Vec::new();
    for (row, ok) in rows.into_iter().zip(ok) {
        if !ok || row.disabled_at.is_some() {
            continue;
        }
        if let Some(user) = session_user_from_row(db, row).await? {
            matched.push(user);
        }
    }
    match matched.len() {
        0 => Ok(Login::Failed),
        1 => {
            let user = matched.remove(0);
            db::users::record_login(db, user.sid.as_str(), clock.now_ms()).await?;
            Ok(Login::SignedIn(Box::new(user)))
        }
        _ => Ok(Login::ChooseAccount(
            matched
                .into_iter()
                .map(|u| (u.home.sid().clone(), u.home.account().friendly_name.clone()))
                .collect(),
        )),
    }
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

pub use crate::server::db::users::UserListing;

/// The account's console users: active ones first, then by email.
pub async fn list(db: &Db, scope: &AccountScope) -> ServiceResult<Vec<UserListing>> {
    Ok(db::users::list(db, scope.sid()).await?)
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
    let now = clock.now_ms();
    let active_admin = |role: &str, disabled: bool| role == "admin" && !disabled;
    let decide = |user: &UserListing| {
        let was_admin = active_admin(&user.role, user.disabled_at.is_some());
        let (role, disabled_at) = match change {
            UserChange::Role(r) => (r.as_str().to_owned(), user.disabled_at),
            UserChange::Disabled(true) => (user.role.clone(), user.disabled_at.or(Some(now))),
            UserChange::Disabled(false) => (user.role.clone(), None),
        };
        db::users::UserUpdate {
            needs_another_admin: was_admin && !active_admin(&role, disabled_at.is_some()),
            role,
            disabled_at,
        }
    };
    let outcome =
        db::users::change_serialized(db, scope.sid(), acting_user, &sid, now, decide).await?;
    match outcome {
        UserChangeOutcome::Changed(u) => Ok(u),
        UserChangeOutcome::NotFound => Err(not_found()),
        // The acting admin must still be one now (another admin may have just demoted them).
        UserChangeOutcome::ActorNotAdmin => Err(ServiceError::forbidden(
            "Only admins change users, and you are no longer one.",
        )),
        UserChangeOutcome::NoOtherAdmin => Err(ServiceError::invalid(
            match change {
                UserChange::Role(_) => "role",
                UserChange::Disabled(_) => "disabled",
            },
            "The account needs at least one active admin: make another user admin first.",
        )),
    }
}
