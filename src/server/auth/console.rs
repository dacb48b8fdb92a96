//! Console sessions: who is signed in, login throttling and the bound on password checks, and
//! role checks for server functions.
use crate::domain::{ConsoleError, ErrorCode, Role};
use crate::server::services::users::{self, SessionUser};
use crate::server::services::ServiceError;
use crate::server::state::AppState;
use crate::server::throttle::Slot;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_sessions::Session;

/// The session key holding the signed-in user's sid.
pub const USER_KEY: &str = "user_sid";
/// The session key holding the sub-account the console was switched into, if any.
pub const ACTING_KEY: &str = "acting_account";

/// Maps a service error to what the console shows; internal details go to the log with an id.
pub fn console_error(err: ServiceError) -> ConsoleError {
    match err {
        ServiceError::Rule {
            code,
            message,
            field,
        } => ConsoleError {
            code,
            message,
            field: field.map(str::to_owned),
        },
        ServiceError::Internal(e) => internal_error(e),
    }
}

/// An internal failure as the console shows it: an id to quote; the details go to the log.
pub fn internal_error(e: anyhow::Error) -> ConsoleError {
    if crate::server::db::is_busy(&e) {
        tracing::warn!(error = ?e, "busy: a console action was refused");
        return ConsoleError::new(
            ErrorCode::Internal,
            "The server is busy right now: nothing was changed. Please try again in a moment.",
        );
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(error_id = %id, error = ?e, "internal error in a console action");
    ConsoleError::new(
        ErrorCode::Internal,
        format!("Something went wrong on our side (error id {id}). Please try again."),
    )
}

/// The signed-in user of this session, if any and still allowed in.
pub async fn current_user(
    state: &AppState,
    session: &Session,
) -> Result<Option<SessionUser>, ConsoleError> {
    let sid: Option<String> = session
        .get(USER_KEY)
        .await
        .map_err(|e| console_error(ServiceError::Internal(anyhow::anyhow!("session load: {e}"))))?;
    let Some(sid) = sid else { return Ok(None) };
    let user = users::load_session_user(state.db(), &sid)
        .await
        .map_err(console_error)?;
    let Some(mut user) = user else {
        // Disabled user or inactive account: end the session now.
        let _ = session.flush().await;
        return Ok(None);
    };
    let acting: Option<String> = session
        .get(ACTING_KEY)
        .await
        .map_err(|e| console_error(ServiceError::Internal(anyhow::anyhow!("session load: {e}"))))?;
    if let Some(acting) = acting {
        // Still a sub-account of the user's own account? Otherwise back home (a database error
        // is an error, not a reason to forget the switch).
        let target = crate::domain::AccountSid::parse(&acting).ok();
        match user.home.act_as(state.db(), target.as_ref()).await {
            Ok(scope) if target.is_some() => user.scope = scope,
            Err(ServiceError::Internal(e)) => return Err(console_error(ServiceError::Internal(e))),
            _ => {
                let _ = session.remove::<String>(ACTING_KEY).await;
            }
        }
    }
    Ok(Some(user))
}

/// The signed-in user if their role is one of `roles`; otherwise 401 or 403.
pub async fn require(
    state: &AppState,
    session: &Session,
    roles: &[Role],
) -> Result<SessionUser, ConsoleError> {
    let user = current_user(state, session)
        .await?
        .ok_or_else(ConsoleError::unauthenticated)?;
    if roles.contains(&user.role) {
        Ok(user)
    } else {
        tracing::info!(user = %user.sid, role = %user.role, "console action refused for role");
        Err(ConsoleError::forbidden())
    }
}

/// The failure slots a login attempt holds while its password is checked: one per user
/// (email) and one per client address. Kept when the check fails, given back when it passes.
#[must_use]
pub struct LoginSlots {
    user: Slot,
    addr: Slot,
}

/// Reserves a failure slot for `email_key` and for `addr` before the password is checked, or
/// the seconds to wait when either is already at its limit. Of a parallel burst for one user,
/// at most `login.per_user` get past this, so at most that many passwords are checked.
pub fn reserve_login(state: &AppState, email_key: &str, addr: &str) -> Result<LoginSlots, u64> {
    let cfg = &state.settings().login;
    let now = state.clock().now_ms();
    let user_t = &state.guards().login_user_throttle;
    let addr_t = &state.guards().login_address_throttle;
    let user = user_t.try_reserve(email_key, cfg.per_user, now)?;
    match addr_t.try_reserve(addr, cfg.per_address, now) {
        Ok(addr) => Ok(LoginSlots { user, addr }),
        Err(retry) => {
            user_t.release(email_key, user);
            Err(retry)
        }
    }
}

/// Gives the slots back: the password was right, or was never checked.
pub fn release_login(state: &AppState, email_key: &str, addr: &str, slots: LoginSlots) {
    state
        .guards()
        .login_user_throttle
        .release(email_key, slots.user);
    state
        .guards()
        .login_address_throttle
        .release(addr, slots.addr);
}

/// Bounds how many passwords are checked at the same time: each argon2 check holds a core and
/// ~19 MiB for tens of milliseconds, so an unbounded burst of logins would exhaust memory and
/// starve every other request. Past the bound a login is refused at once (429), never queued.
pub struct PasswordGate {
    permits: Arc<Semaphore>,
    checks: AtomicU64,
}

impl PasswordGate {
    pub fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits)),
            checks: AtomicU64::new(0),
        }
    }

    /// A permit to check one password now (hold it until the hash is done), or `None` when
    /// every permit is in use.
    pub fn try_enter(&self) -> Option<OwnedSemaphorePermit> {
        let permit = self.permits.clone().try_acquire_owned().ok()?;
        self.checks.fetch_add(1, Ordering::Relaxed);
        Some(permit)
    }

    /// Permits handed out since start: how many passwords were checked.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }
}
