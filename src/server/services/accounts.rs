//! Accounts, sub-accounts and their API credentials.
use super::scope::Account;
use super::users::NewUser;
use super::{AccountScope, ServiceError, ServiceResult};
use crate::domain::{AccountSid, AccountStatus, ErrorCode, UserSid};
use crate::server::clock::Clock;
use crate::server::crypto;
use crate::server::db::{self, Db};

/// A validated account name: 1–128 characters, no control characters.
pub fn parse_friendly_name(raw: &str) -> ServiceResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid(
            "friendlyName",
            "friendlyName is required.",
        ));
    }
    if name.chars().count() > 128 {
        return Err(ServiceError::invalid(
            "friendlyName",
            "friendlyName must be at most 128 characters.",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "friendlyName",
            "friendlyName must not contain control characters.",
        ));
    }
    Ok(name.to_owned())
}

pub struct NewAccount {
    pub friendly_name: String,
    pub parent: Option<AccountSid>,
    pub admin: Option<NewUser>,
}

/// What creation returns; `auth_token` exists only here (the database keeps its hash).
pub struct CreatedAccount {
    pub account: Account,
    pub auth_token: String,
    pub admin_user: Option<UserSid>,
}

impl std::fmt::Debug for CreatedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedAccount")
            .field("account", &self.account.sid)
            .field("auth_token", &"<redacted>")
            .field("admin_user", &self.admin_user)
            .finish()
    }
}

/// Creates an account, its auth token and optionally its first admin, in one transaction.
pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    input: NewAccount,
) -> ServiceResult<CreatedAccount> {
    let friendly_name = parse_friendly_name(&input.friendly_name)?;
    if let Some(parent) = &input.parent {
        let row = db::accounts::find(db, parent.as_str())
            .await?
            .ok_or_else(|| {
                ServiceError::rule(
                    ErrorCode::NotFound,
                    format!("Parent account {parent} was not found."),
                )
            })?;
        if row.parent_sid.is_some() {
            return Err(ServiceError::forbidden(
                "A sub-account cannot have sub-accounts of its own.",
            ));
        }
    }
    let admin = match input.admin {
        Some(u) => Some(u.prepare()?),
        None => None,
    };
    let now = clock.now_ms();
    let account = Account {
        sid: AccountSid::generate(),
        parent_sid: input.parent,
        friendly_name,
        status: AccountStatus::Active,
        date_created: now,
        date_updated: now,
    };
    let auth_token = crypto::random_hex(16);
    let token_hash = crypto::hash_token(&auth_token);
    let admin_sid = admin.as_ref().map(|_| UserSid::generate());
    let admin_row = admin
        .as_ref()
        .zip(admin_sid.as_ref())
        .map(|(user, sid)| user.row(sid, &account.sid, now));
    let result = db::accounts::insert_with_auth_token(
        db,
        &db::accounts::NewAccountRow {
            sid: &account.sid,
            parent_sid: account.parent_sid.as_ref(),
            friendly_name: &account.friendly_name,
            status: account.status,
            // Created (sealed) on first use.
            callback_secret: "",
            auth_token_hash: &token_hash,
            now,
        },
        admin_row.as_ref(),
    )
    .await;
    match result {
        Ok(()) => Ok(CreatedAccount {
            account,
            auth_token,
            admin_user: admin_sid,
        }),
        Err(e) => Err(e.into()),
    }
}

/// One account visible to the scope (itself or a direct sub-account); anything else is 404.
pub async fn get_visible(db: &Db, scope: &AccountScope, sid: &str) -> ServiceResult<Account> {
    let not_found = || ServiceError::not_found("account");
    let sid = AccountSid::parse(sid).map_err(|_| not_found())?;
    let row = db::accounts::find(db, sid.as_str())
        .await?
        .ok_or_else(not_found)?;
    let account = Account::try_from(row)?;
    if scope.can_see(&account) {
        Ok(account)
    } else {
        Err(not_found())
    }
}

/// Replaces the account's auth token; the new token is returned once and only its hash kept.
pub async fn rotate_auth_token(db: &Db, scope: &AccountScope) -> ServiceResult<String> {
    let token = crypto::random_hex(16);
    if !db::credentials::set_secret_hash(db, scope.sid().as_str(), &crypto::hash_token(&token))
        .await?
    {
        return Err(ServiceError::Internal(anyhow::anyhow!(
            "account {} has no auth token row",
            scope.sid()
        )));
    }
    Ok(token)
}

/// Why API credentials were refused.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// Unknown sid or wrong secret (indistinguishable to the caller).
    BadCredentials,
    /// Right credentials of a suspended or closed account.
    Inactive,
}

/// Checks `username:secret` from HTTP Basic: an AccountSid with its auth token, or an API key.
pub async fn authenticate(
    db: &Db,
    username: &str,
    secret: &str,
) -> ServiceResult<Result<AccountScope, AuthFailure>> {
    let known =
        AccountSid::parse(username).is_ok() || crate::domain::ApiKeySid::parse(username).is_ok();
    let row = if known {
        db::credentials::find(db, username).await?
    } else {
        None
    };
    // Compare against something even when the sid is unknown, so timing says nothing.
    let stored = row
        .as_ref()
        .map(|r| r.secret_hash.as_str())
        .unwrap_or("0000000000000000000000000000000000000000000000000000000000000000");
    let matches = crypto::token_matches(secret, stored);
    let Some(cred) = row.filter(|r| matches && r.revoked_at.is_none()) else {
        return Ok(Err(AuthFailure::BadCredentials));
    };
    let account_row = db::accounts::find(db, &cred.account_sid)
        .await?
        .ok_or_else(|| anyhow::anyhow!("credential {} points at a missing account", cred.sid))?;
    let account = Account::try_from(account_row)?;
    if !account.status.may_authenticate() || !ancestors_active(db, &account).await? {
        return Ok(Err(AuthFailure::Inactive));
    }
    Ok(Ok(AccountScope::authenticated(account)))
}

/// Whether every account above `account` (its parent, the parent's parent…) is active: a
/// suspended or closed account takes its sub-accounts' credentials and sessions with it.
async fn ancestors_active(db: &Db, account: &Account) -> ServiceResult<bool> {
    /// Far deeper than accounts nest (two levels today); beyond it the data has a loop.
    const MAX_DEPTH: usize = 8;
    let mut next = account.parent_sid.clone();
    for _ in 0..MAX_DEPTH {
        let Some(sid) = next else { return Ok(true) };
        let Some(row) = db::accounts::find(db, sid.as_str()).await? else {
            return Ok(false);
        };
        let parent = Account::try_from(row)?;
        if !parent.status.may_authenticate() {
            return Ok(false);
        }
        next = parent.parent_sid;
    }
    Ok(false)
}

/// Loads an account for a console session (the session layer checked the user).
pub(crate) async fn scope_for_session(db: &Db, sid: &str) -> ServiceResult<Option<AccountScope>> {
    let Some(row) = db::accounts::find(db, sid).await? else {
        return Ok(None);
    };
    let account = Account::try_from(row)?;
    if !account.status.may_authenticate() || !ancestors_active(db, &account).await? {
        return Ok(None);
    }
    Ok(Some(AccountScope::authenticated(account)))
}

/// Sets an account's status directly (operator command; the API path checks the scope first).
pub async fn set_status(
    db: &Db,
    clock: &dyn Clock,
    sid: &AccountSid,
    status: AccountStatus,
) -> ServiceResult<()> {
    if !db::accounts::set_status(db, sid, status, clock.now_ms()).await? {
        return Err(ServiceError::not_found("account"));
    }
    Ok(())
}

/// `POST /2fa/accounts`: a sub-account of the caller (which must be a top-level account).
pub async fn create_sub_account(
    db: &Db,
    clock: &dyn Clock,
    scope: &AccountScope,
    friendly_name: Option<String>,
) -> ServiceResult<CreatedAccount> {
    let name = friendly_name
        .ok_or_else(|| ServiceError::invalid("friendlyName", "friendlyName is required."))?;
    if scope.account().parent_sid.is_some() {
        return Err(ServiceError::forbidden(
            "A sub-account cannot create sub-accounts.",
        ));
    }
    create(
        db,
        clock,
        NewAccount {
            friendly_name: name,
            parent: Some(scope.sid().clone()),
            admin: None,
        },
    )
    .await
}

/// `GET /2fa/accounts`: the caller's sub-accounts, oldest first, with the total.
pub async fn list_sub_accounts(
    db: &Db,
    scope: &AccountScope,
    limit: i64,
    offset: i64,
) -> ServiceResult<(Vec<Account>, i64)> {
    let rows = db::accounts::list_children(db, scope.sid().as_str(), limit, offset).await?;
    let total = db::accounts::count_children(db, scope.sid().as_str()).await?;
    let accounts = rows
        .into_iter()
        .map(Account::try_from)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((accounts, total))
}

/// `POST /2fa/accounts/{sid}`: rename and/or change the status of a sub-account. An account
/// may rename itself but not change its own status (that would lock the caller out).
pub async fn update(
    db: &Db,
    clock: &dyn Clock,
    scope: &AccountScope,
    sid: &str,
    friendly_name: Option<String>,
    status: Option<AccountStatus>,
) -> ServiceResult<Account> {
    let target = get_visible(db, scope, sid).await?;
    if status.is_some() && target.sid == *scope.sid() {
        return Err(ServiceError::forbidden(
            "An account cannot change its own status; its parent can.",
        ));
    }
    if target.status == AccountStatus::Closed && status.is_some_and(|s| s != AccountStatus::Closed)
    {
        return Err(ServiceError::invalid(
            "status",
            "A closed account cannot be reopened.",
        ));
    }
    let name = friendly_name.map(|n| parse_friendly_name(&n)).transpose()?;
    let now = clock.now_ms();
    db::accounts::update(db, &target.sid, name.as_deref(), status, now).await?;
    get_visible(db, scope, sid).await
}

/// What the callback secret of `account` is sealed with (bound to the account).
fn secret_context(account: &str) -> String {
    format!("callback-secret:{account}")
}

/// A new secret for signing the account's status callbacks (the old one stops at once); the
/// answer is the only place it is shown. Stored sealed.
pub async fn rotate_callback_secret(
    db: &Db,
    seal_key: &[u8],
    account: &str,
) -> anyhow::Result<String> {
    let fresh = crypto::random_hex(32);
    let sealed = crypto::seal(seal_key, &secret_context(account), &fresh);
    db::accounts::set_callback_secret(db, account, &sealed).await?;
    Ok(fresh)
}

/// The secret an account's status callbacks (and webhook deliveries) are signed with, created
/// on first use. Not an API credential: it only proves callbacks come from us. Stored sealed
/// (a secret stored in clear by an older version is sealed when first read).
pub async fn callback_secret(db: &Db, seal_key: &[u8], account: &str) -> anyhow::Result<String> {
    let context = secret_context(account);
    let stored = db::accounts::callback_secret(db, account).await?;
    if stored.is_empty() {
        let fresh = crypto::random_hex(32);
        let sealed = crypto::seal(seal_key, &context, &fresh);
        db::accounts::set_callback_secret_if_empty(db, account, &sealed).await?;
        let stored = db::accounts::callback_secret(db, account).await?;
        return crypto::open(seal_key, &context, &stored)
            .ok_or_else(|| anyhow::anyhow!("the callback secret of {account} does not open"));
    }
    if let Some(secret) = crypto::open(seal_key, &context, &stored) {
        return Ok(secret);
    }
    // In clear (64 hex digits, from before secrets were sealed): seal it now.
    anyhow::ensure!(
        stored.len() == 64 && stored.bytes().all(|b| b.is_ascii_hexdigit()),
        "the callback secret of {account} does not open"
    );
    let sealed = crypto::seal(seal_key, &context, &stored);
    db::accounts::seal_callback_secret(db, account, &stored, &sealed).await?;
    Ok(stored)
}
