//! The `/2fa` REST API: extract → service → JSON. Every error is the JSON envelope of api.md.
pub mod accounts;
pub mod api_error;
pub mod audit;
pub mod error_codes;
pub mod fraud;
pub mod input;
pub mod limits;
pub mod openapi;
pub mod otps;
pub mod paging;
pub mod providers;
pub mod settings;
pub mod templates;
pub mod usage;

use crate::domain::ErrorCode;
use crate::server::state::AppState;
use api_error::ApiError;
use axum::body::Body;
use axum::routing::{delete, get, post};
use axum::Router;
use http::Request;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/accounts", get(accounts::list).post(accounts::create))
        .route(
            "/accounts/{sid}",
            get(accounts::get_one).post(accounts::update),
        )
        .route("/errors", get(error_codes::list))
        .route("/openapi.json", get(openapi::document))
        .route("/send", post(otps::send))
        .route("/verify", post(otps::verify))
        .route("/cancel", post(otps::cancel))
        .route("/search", get(otps::search).post(otps::search))
        .route("/search/{sid}", get(otps::sdr_one))
        .route("/sandbox/messages", get(otps::sandbox_messages))
        .route("/limits", get(limits::list).post(limits::create))
        .route(
            "/limits/{sid}",
            get(limits::get_one)
                .put(limits::update)
                .delete(limits::delete),
        )
        .route("/providers", get(providers::list).post(providers::create))
        .route(
            "/providers/{sid}",
            get(providers::get_one)
                .put(providers::update)
                .delete(providers::delete),
        )
        .route("/providers/{sid}/test", post(providers::test))
        .route("/providers/{sid}/status", post(providers::receipt))
        .route(
            "/voice/{token}",
            get(providers::voice).post(providers::voice),
        )
        .route("/settings", get(settings::get).put(settings::update))
        .route(
            "/settings/callbackSecret",
            post(settings::rotate_callback_secret),
        )
        .route(
            "/settings/countries",
            get(settings::get_countries).put(settings::update_countries),
        )
        .route("/settings/fraudGuard", get(fraud::get).put(fraud::update))
        .route("/fraudGuard/blocks", get(fraud::blocks))
        .route("/fraudGuard/blocks/{prefix}", delete(fraud::lift))
        .route("/templates", get(templates::list))
        .route(
            "/templates/{channel}/{language}",
            get(templates::get_one)
                .put(templates::update)
                .delete(templates::delete),
        )
        .route("/audit", get(audit::list))
        .route("/usage/records", get(usage::totals).post(usage::totals))
        .route(
            "/usage/records/{period}",
            get(usage::by_period).post(usage::by_period),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state, deadline))
}

/// Every API request gets a deadline (`request_timeout_secs`): past it the caller gets 503
/// with `Retry-After` rather than waiting on an overloaded server. What was under way may
/// still complete (a send already queued for commit, a verify), so the answer says to retry
/// with the same `Idempotency-Key`.
async fn deadline(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = std::time::Duration::from_secs(state.settings().request_timeout_secs.max(1));
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::new(
            ErrorCode::Internal,
            format!(
                "The server did not answer within {} s. It may be overloaded; what you asked may or may not have been done: retry in a few seconds (a send with the same Idempotency-Key is not sent twice).",
                limit.as_secs()
            ),
        )
        .with_status(http::StatusCode::SERVICE_UNAVAILABLE)
        .with_retry_after(2)
        .into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "No such API resource. See /2fa/errors and the API docs for the paths.",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "This resource does not answer that HTTP method.",
    )
    .with_status(http::StatusCode::METHOD_NOT_ALLOWED)
}

/// Every `/2fa` path also answers with a `.json` suffix: strip it before routing.
pub fn strip_json_suffix(mut req: Request<Body>) -> Request<Body> {
    let path = req.uri().path();
    if path.starts_with("/2fa/") && path.ends_with(".json") && path != "/2fa/openapi.json" {
        let stripped = &path[..path.len() - ".json".len()];
        let new = match req.uri().query() {
            Some(q) => format!("{stripped}?{q}"),
            None => stripped.to_owned(),
        };
        if let Ok(uri) = new.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}
