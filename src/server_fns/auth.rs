//! Sign in, sign out, and who is signed in.
use crate::domain::{AccountSid, ConsoleError, Role, UserSid};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user as the console shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub user_sid: UserSid,
    pub email: String,
    pub role: Role,
    pub account_sid: AccountSid,
    pub account_name: String,
    /// Where this console (and its API) is reached, e.g. `http://127.0.0.1:3000`.
    pub api_base: String,
    /// When the console works on a sub-account: the user's own account (to switch back to).
    pub home_account_name: Option<String>,
}

/// Why the login page shows an error after a plain (no-JavaScript) form post.
pub const LOGIN_ERROR_CREDENTIALS: &str = "credentials";
pub const LOGIN_ERROR_THROTTLED: &str = "throttled";
pub const LOGIN_ERROR_BUSY: &str = "busy";
/// The email and password opened several accounts: the page asks for the account's SID.
pub const LOGIN_ERROR_CHOOSE: &str = "choose";

pub fn login_error_message(kind: &str) -> Option<&'static str> {
    match kind {
        LOGIN_ERROR_CREDENTIALS => Some("Email or password is incorrect."),
        LOGIN_ERROR_THROTTLED => {
            Some("Too many sign-in attempts. Wait a few minutes and try again.")
        }
        LOGIN_ERROR_BUSY => Some("The server is busy with other sign-ins. Try again in a moment."),
        LOGIN_ERROR_CHOOSE => Some(
            "This email and password open several accounts. Enter the SID (AC…) of the account to \
             open, as its Developers page shows it.",
        ),
        _ => None,
    }
}

/// An account the email and password open (when they open several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChoice {
    pub sid: String,
    pub name: String,
}

/// What a sign-in that did not fail answers: signed in (and sent to the console home), or the
/// accounts to choose from when the email and password open several (sign in again with one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginStep {
    SignedIn,
    ChooseAccount(Vec<AccountChoice>),
}

/// Checks the email and password (in `account`, an account SID, when given), starts a fresh
/// session and goes to the console home.
#[server(endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    #[server(default)] account: Option<String>,
) -> Result<LoginStep, ConsoleError> {
    use super::ctx;
    use crate::domain::{EmailAddress, ErrorCode};
    use crate::server::auth::console::{self as console_auth, USER_KEY};
    use crate::server::services::users;

    let state = ctx::state()?;
    let session = ctx::session().await?;
    let addr = ctx::client_addr();
    let email_key = EmailAddress::parse(&email)
        .map(|e| e.login_key())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let plain = ctx::is_plain_form_post();
    let refuse = |kind: &str, err: ConsoleError| {
        if plain {
            leptos_axum::redirect(&format!("/login?error={kind}"));
            err
        } else {
            ctx::fail(err)
        }
    };

    // The failure slots are taken before the password is checked (and given back if it is
    // right), so a parallel burst checks at most `login.per_user` guesses, not all in flight.
    let slots = match console_auth::reserve_login(&state, &email_key, &addr) {
        Ok(slots) => slots,
        Err(retry) => {
            tracing::warn!(client = %addr, "console login refused: too many failures");
            ctx::retry_after(retry);
            let minutes = retry.div_ceil(60);
            return Err(refuse(
                LOGIN_ERROR_THROTTLED,
                ConsoleError::new(
                    ErrorCode::TooManyRequests,
                    format!(
                        "Too many sign-in attempts. Try again in {minutes} minute{}.",
                        if minutes == 1 { "" } else { "s" }
                    ),
                ),
            ));
        }
    };
    let Some(permit) = state.guards().password_gate.try_enter() else {
        console_auth::release_login(&state, &email_key, &addr, slots);
        tracing::warn!(client = %addr, "console login refused: every password check is busy");
        ctx::retry_after(1);
        return Err(refuse(
            LOGIN_ERROR_BUSY,
            ConsoleError::new(
                ErrorCode::TooManyRequests,
                "The server is busy with other sign-ins. Try again in a second.",
            ),
        ));
    };
    let account = account.filter(|a| !a.trim().is_empty());
    let login = users::check_login(
        state.db(),
        state.clock(),
        &email,
        &password,
        account.as_deref(),
        permit,
    )
    .await;
    let user = match login {
        Ok(users::Login::SignedIn(user)) => Some(*user),
        Ok(users::Login::Failed) => None,
        Ok(users::Login::ChooseAccount(accounts)) => {
            // The password was right: not a failure, and the choice is only shown now.
            console_auth::release_login(&state, &email_key, &addr, slots);
            if plain {
                leptos_axum::redirect(&format!("/login?error={LOGIN_ERROR_CHOOSE}"));
            }
            return Ok(LoginStep::ChooseAccount(
                accounts
                    .into_iter()
                    .map(|(sid, name)| AccountChoice {
                        sid: sid.to_string(),
                        name,
                    })
                    .collect(),
            ));
        }
        Err(e) => {
            // Not a wrong password: nothing to count.
            console_auth::release_login(&state, &email_key, &addr, slots);
            return Err(ctx::service(e));
        }
    };
    let Some(user) = user else {
        // The slots stay taken: they are this failure.
        drop(slots);
        crate::server::services::audit::record_sign_in_failure(
            state.db(),
            state.clock(),
            &email,
            &addr,
        )
        .await;
        tracing::info!(client = %addr, "console login failed");
        return Err(refuse(
            LOGIN_ERROR_CREDENTIALS,
            ConsoleError::new(
                ErrorCode::AuthenticationFailed,
                "Email or password is incorrect.",
            ),
        ));
    };
    console_auth::release_login(&state, &email_key, &addr, slots);
    // A new session id at login, so a planted cookie cannot be reused.
    session
        .cycle_id()
        .await
        .map_err(|e| ctx::service(anyhow::anyhow!("session cycle: {e}").into()))?;
    session
        .insert(USER_KEY, user.sid.as_str())
        .await
        .map_err(|e| ctx::service(anyhow::anyhow!("session insert: {e}").into()))?;
    // A new sign-in starts on the user's own account.
    let _ = session.remove::<String>(console_auth::ACTING_KEY).await;
    state.guards().login_user_throttle.reset(&email_key);
    tracing::info!(user = %user.sid, account = %user.scope.sid(), "console login");
    {
        use crate::server::services::audit::{self, AuditAction, Change};
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.home.sid()),
            &ctx::audit_origin(&user),
            Change::new(AuditAction::UserSignIn, user.sid.as_str()),
        )
        .await;
    }
    leptos_axum::redirect("/");
    Ok(LoginStep::SignedIn)
}

/// Ends the session on the server and goes back to the login page.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::server::services::audit::{self, AuditAction, Change};
    let session = ctx::session().await?;
    let state = ctx::state()?;
    // Who signs out (nobody when the session had already ended).
    if let Ok(Some(user)) = crate::server::auth::console::current_user(&state, &session).await {
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.home.sid()),
            &ctx::audit_origin(&user),
            Change::new(AuditAction::UserSignOut, user.sid.as_str()),
        )
        .await;
    }
    session
        .flush()
        .await
        .map_err(|e| ctx::service(anyhow::anyhow!("session flush: {e}").into()))?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user (any role), or 401.
#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<CurrentUser, ConsoleError> {
    let user = super::ctx::user(&Role::ALL).await?;
    Ok(CurrentUser {
        user_sid: user.sid,
        email: user.email,
        role: user.role,
        account_sid: user.scope.sid().clone(),
        account_name: user.scope.account().friendly_name.clone(),
        api_base: super::ctx::origin(),
        home_account_name: (user.home.sid() != user.scope.sid())
            .then(|| user.home.account().friendly_name.clone()),
    })
}
