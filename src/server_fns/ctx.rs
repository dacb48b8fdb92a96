//! What every server function needs: the app state, the session, the caller, and errors that
//! carry the right HTTP status.
use crate::domain::{ConsoleError, Role};
use crate::server::auth::console;
use crate::server::services::users::SessionUser;
use crate::server::services::ServiceError;
use crate::server::state::AppState;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

/// Sets the response status from the error code (when answering a server-function call, not
/// when the function runs inside a page render), and passes the error on.
pub fn fail(err: ConsoleError) -> ConsoleError {
    let is_call =
        use_context::<http::request::Parts>().is_some_and(|p| p.uri.path().starts_with("/api/"));
    if let Some(res) = use_context::<ResponseOptions>().filter(|_| is_call) {
        if let Ok(status) = http::StatusCode::from_u16(err.code.http_status()) {
            res.set_status(status);
        }
    }
    err
}

/// Sets `Retry-After` on the response (with a 429 from [`fail`]).
pub fn retry_after(secs: u64) {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
}

pub fn service(err: ServiceError) -> ConsoleError {
    fail(console::console_error(err))
}

pub fn state() -> Result<AppState, ConsoleError> {
    use_context::<AppState>().ok_or_else(|| {
        service(ServiceError::Internal(anyhow::anyhow!(
            "AppState missing from context"
        )))
    })
}

pub async fn session() -> Result<Session, ConsoleError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        service(ServiceError::Internal(anyhow::anyhow!(
            "session layer missing: {e}"
        )))
    })
}

/// The signed-in caller if their role is one of `roles` (401/403 otherwise).
pub async fn user(roles: &[Role]) -> Result<SessionUser, ConsoleError> {
    let state = state()?;
    let session = session().await?;
    console::require(&state, &session, roles)
        .await
        .map_err(fail)
}

/// Was this call a plain HTML form post (JavaScript off)? Such callers get redirects, not JSON.
pub fn is_plain_form_post() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

pub fn client_addr() -> String {
    let state = use_context::<AppState>();
    match (state, use_context::<http::request::Parts>()) {
        (Some(state), Some(p)) => crate::server::auth::client_addr(&p, state.settings()),
        _ => "unknown".into(),
    }
}

/// Who acts (the signed-in user) and from which address, for the audit log.
pub fn audit_origin(user: &SessionUser) -> crate::server::services::audit::Origin {
    crate::server::services::audit::Origin {
        actor: crate::server::services::audit::Actor::User {
            sid: Some(user.sid.to_string()),
            email: user.email.clone(),
        },
        address: client_addr(),
    }
}

/// The origin the browser used to reach us (from `Host`, and `X-Forwarded-Proto` when trusted).
pub fn origin() -> String {
    let trust = use_context::<AppState>()
        .map(|s| s.settings().trust_forwarded_for)
        .unwrap_or(false);
    let parts = use_context::<http::request::Parts>();
    let header = |name: &str| {
        parts
            .as_ref()
            .and_then(|p| p.headers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let host = header("host").unwrap_or_else(|| "127.0.0.1:3000".into());
    let scheme = if trust {
        header("x-forwarded-proto").unwrap_or_else(|| "http".into())
    } else {
        "http".into()
    };
    format!("{scheme}://{host}")
}

/// A problem with one of a page's form fields, shown next to it.
pub fn invalid(field: &str, label: &str, p: crate::domain::Problem) -> ConsoleError {
    ConsoleError::field(p.code(), field, p.message(label))
}

/// A form field's value, trimmed; an empty field is `None`.
pub fn given(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A form field's whole number in `range` (`None` when empty), or the problem next to it.
pub fn int_field(
    field: &str,
    label: &str,
    v: &str,
    range: (i64, i64),
) -> Result<Option<i64>, ConsoleError> {
    use crate::domain::{problem, Problem};
    given(v)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| Problem::Range {
                    min: range.0,
                    max: range.1,
                })
                .and_then(|n| problem::in_range(n, range))
                .map_err(|p| invalid(field, label, p))
        })
        .transpose()
}
