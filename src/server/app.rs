//! The HTTP application: REST API, console (SSR + server functions), health endpoints,
//! static files, and the layers around them (request id, tracing, body limit, sessions, CSRF,
//! security headers).
use super::auth::{csrf, session_store::DbSessionStore};
use super::clock::{Clock, SystemClock};
use super::config::Settings;
use super::db::Db;
use super::secrets::Secrets;
use super::state::AppState;
use super::{health, rest};
use axum::routing::get;
use axum::Router;
use http::{HeaderName, Request};
use leptos::config::LeptosOptions;
use leptos::prelude::*;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower::{Layer, ServiceBuilder};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::{Key, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Opens the database, applies migrations and loads secrets: everything a server needs.
pub async fn prepare(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let secrets = Secrets::load(&settings)?;
    let db = Db::connect(&settings).await?;
    db.migrate().await?;
    let mut leptos_options = leptos_options()?;
    leptos_options.site_addr = settings.site_addr;
    AppState::new(leptos_options, db, clock, settings, secrets)
}

/// What the console adds to the application: its pages, server functions, static files and
/// exports, mounted onto the server's router (the console lives outside `server/`).
pub type Site = fn(Router<AppState>, &AppState) -> Router<AppState>;

/// Leptos' site options: from cargo-leptos' environment when built by it, else the defaults of
/// `Cargo.toml` (plain `cargo test` / `cargo run`).
pub fn leptos_options() -> anyhow::Result<LeptosOptions> {
    let from_cargo_leptos = option_env!("LEPTOS_OUTPUT_NAME").is_some()
        || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    if from_cargo_leptos {
        return Ok(get_configuration(None)?.leptos_options);
    }
    Ok(LeptosOptions::builder()
        .output_name("smart2fa")
        .site_root("target/site")
        .site_pkg_dir("pkg")
        .build())
}

/// The full router for a prepared state: health, the REST API and `site`, inside the layers.
pub fn router(state: AppState, site: Site) -> Router {
    let store = DbSessionStore::new(state.db());
    let settings = state.settings();
    let sessions = SessionManagerLayer::new(store)
        .with_name("smart2fa_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.cookie_secure())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
            settings.session_inactivity_minutes,
        )))
        .with_signed(Key::from(&state.secrets().session_key));
    // The transport cap: bodies up to it are read in full (so an oversize API request still gets
    // its clean 413 from the handler instead of a reset connection); beyond it, reading stops.
    let max_body = settings.max_body_bytes.max(1024 * 1024);
    // Recording starts with the first router (the recorder is process-wide).
    super::metrics::handle();

    let api = Router::new()
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(super::metrics::serve))
        .nest("/2fa", rest::router(state.clone()));
    site(api, &state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request<_>| {
                            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                        })
                        .on_request(())
                        .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(axum::middleware::from_fn(super::metrics::track))
                .layer(axum::middleware::from_fn_with_state(
                    settings.cookie_secure(),
                    super::security_headers::add,
                ))
                .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_answer))
                .layer(tower_http::map_request_body::MapRequestBodyLayer::new(move |body: axum::body::Body| {
                    axum::body::Body::new(http_body_util::Limited::new(body, max_body))
                }))
                .layer(axum::middleware::from_fn(csrf::guard))
                .layer(axum::middleware::from_fn(server_fn_status))
                .layer(sessions),
        )
        .with_state(state)
}

/// A handler that panicked answers like any internal error: the 7000 envelope with an error id,
/// the panic's message in the log only (never a stack trace or text/plain in the answer).
fn panic_answer(payload: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let what = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    crate::server::rest::api_error::ApiError::internal(anyhow::anyhow!("handler panicked: {what}"))
        .into_response()
}

/// A server function whose arguments could not be read answers 500 from inside Leptos (before our
/// code runs), though its body carries our 7005: give such answers the status of their code.
async fn server_fn_status(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let is_call = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !is_call || res.status() != http::StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return axum::response::IntoResponse::into_response((
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
        ));
    };
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["code"].as_u64())
        .and_then(|c| crate::domain::ErrorCode::from_code(c as u16));
    if let Some(status) = code.and_then(|c| http::StatusCode::from_u16(c.http_status()).ok()) {
        parts.status = status;
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets in-flight requests finish
/// for up to `grace`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    use axum::ServiceExt;
    let app = tower::util::MapRequestLayer::new(rest::strip_json_suffix).layer(router);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        shutdown.await;
        let _ = signalled_tx.send(());
        let _ = stop_tx.send(());
    });
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    });
    let mut server = std::pin::pin!(std::future::IntoFuture::into_future(server));
    tokio::select! {
        res = &mut server => return res.map_err(Into::into),
        _ = signalled_rx => {}
    }
    tracing::info!(
        grace_secs = grace.as_secs(),
        "shutting down: finishing in-flight requests"
    );
    match tokio::time::timeout(grace, server).await {
        Ok(res) => res.map_err(Into::into),
        Err(_) => {
            tracing::warn!("grace period over; exiting with requests still open");
            Ok(())
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received");
}

/// `smart2fa serve`: prepare, bind, serve until a signal.
pub async fn run(settings: Settings, site: Site) -> anyhow::Result<()> {
    let state = prepare(settings, Arc::new(SystemClock)).await?;
    serve_state(state, site).await
}

pub async fn serve_state(state: AppState, site: Site) -> anyhow::Result<()> {
    let addr = state.settings().site_addr;
    let grace = Duration::from_secs(state.settings().shutdown_grace_secs);
    DbSessionStore::new(state.db()).spawn_cleanup(Duration::from_secs(600));
    if state.settings().workers_enabled {
        super::workers::spawn(state.clone());
    }
    let db = state.db().clone();
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {addr}: {e} (set LEPTOS_SITE_ADDR to another address)")
    })?;
    tracing::info!(%addr, backend = ?db.backend(), "smart2fa listening on http://{addr}");
    serve(listener, router(state, site), shutdown_signal(), grace).await?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::panic_answer;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_panic_answers_the_internal_error_envelope() {
        for payload in [
            Box::new("boom: secret detail".to_owned()) as Box<dyn std::any::Any + Send>,
            Box::new("static boom"),
            Box::new(42_u8),
        ] {
            let res = panic_answer(payload);
            assert_eq!(res.status(), 500);
            assert_eq!(res.headers()["content-type"], "application/json");
            let body = res.into_body().collect().await.unwrap().to_bytes();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["errorCode"], 7000, "{body}");
            assert_eq!(body["code"], 500);
            assert_eq!(body["errorId"].as_str().map(str::len), Some(32));
            assert!(!body.to_string().contains("boom"), "no panic text: {body}");
        }
    }
}
