//! The console site on the server: the Leptos pages and server functions, the static files,
//! and the CSV exports, mounted onto the server's router. (The composition root for the
//! browser-facing half: `server/` knows nothing of `ui/` or `server_fns/`.)
use crate::server::state::AppState;
use crate::ui::{shell, App};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// The app's routes, generated once per process. Generating them raises a process-global
/// "suppress resource loads" flag inside leptos_server, and a resource that a page render starts
/// meanwhile in the same process waits forever (leptos-rs/leptos#4773): with a fresh list per
/// router, every server started while another one was rendering (parallel tests, the
/// benchmark's in-process server) could hang a page.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// A page's Content-Security-Policy, allowing the inline scripts that carry this response's
/// nonce (Leptos puts it on its hydration and streamed-data scripts). Runs in the render's
/// context, after Leptos has provided the nonce and the response options.
fn page_policy() {
    use crate::server::security_headers;
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy =
        security_headers::page_policy(Some(&nonce.to_string()), security_headers::dev_reload());
    if let Ok(v) = http::HeaderValue::from_str(&policy) {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
    }
}

/// Mounts the console onto `router` (see [`crate::server::app::Site`]).
pub fn mount(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let context_state = state.clone();
    let provide_state = move || {
        provide_context(context_state.clone());
        page_policy();
    };
    let error_state = state.clone();
    router
        .route(
            "/console/otps.csv",
            get(crate::server_fns::export::otps_csv),
        )
        .route(
            "/console/usage.csv",
            get(crate::server_fns::export::usage_csv),
        )
        .route(
            "/console/audit.csv",
            get(crate::server_fns::audit::server::audit_csv),
        )
        .leptos_routes_with_context(state, route_list(), provide_state, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || {
                provide_context(error_state.clone());
                page_policy();
            },
            shell,
        ))
}
