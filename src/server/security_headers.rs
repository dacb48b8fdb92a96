//! Security headers on every answer: no MIME sniffing, no referrer sent to other sites, never
//! framed (clickjacking), `Strict-Transport-Security` when the server runs behind TLS (the same
//! switch that marks the session cookie `Secure`), and a Content-Security-Policy. Console pages
//! get [`page_policy`] with the nonce Leptos puts on its own inline scripts (hydration and
//! streamed data), set where the page is rendered; every other answer (JSON, files, CSV) that
//! has none gets [`OTHER_POLICY`], or the page policy without a nonce for stray HTML.
use axum::body::Body;
use axum::extract::State;
use axum::middleware::Next;
use axum::response::Response;
use http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderValue, Request};

/// The policy of answers that are not pages: nothing may load from them, nothing may frame them.
pub const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The policy of a console page. Scripts: the app's own files (the hydration module, the ECharts
/// file under `/vendor`), inline scripts only with this response's `nonce`, and compiling the
/// app's WebAssembly. Styles: the app's stylesheet and inline `style` attributes (charts and
/// badges colour themselves). Requests (server functions, the WebAssembly fetch) to this origin
/// only; with `dev_reload`, the cargo-leptos live-reload socket too.
pub fn page_policy(nonce: Option<&str>, dev_reload: bool) -> String {
    let inline = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    let sockets = if dev_reload { " ws: wss:" } else { "" };
    format!(
        "default-src 'self'; script-src 'self'{inline} 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'{sockets}; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Is the cargo-leptos live reload in use (its script opens a web socket to another port)?
pub fn dev_reload() -> bool {
    std::env::var_os("LEPTOS_WATCH").is_some()
}

/// `Strict-Transport-Security`, for servers behind TLS.
const HSTS: &str = "max-age=31536000";

/// Adds the headers to every answer; `behind_tls` adds HSTS.
pub async fn add(State(behind_tls): State<bool>, req: Request<Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if behind_tls {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        let html = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        let policy = if html {
            page_policy(None, dev_reload())
        } else {
            OTHER_POLICY.to_owned()
        };
        if let Ok(v) = HeaderValue::from_str(&policy) {
            headers.insert(CONTENT_SECURITY_POLICY, v);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_allows_the_nonce_and_never_framing() {
        let p = page_policy(Some("abc123"), false);
        assert!(
            p.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"),
            "{p}"
        );
        assert!(p.contains("frame-ancestors 'none'"), "{p}");
        let scripts = p
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(
            !scripts.contains("unsafe-inline"),
            "inline scripts need the nonce: {p}"
        );
        assert!(!p.contains("ws:"), "{p}");
        assert!(page_policy(None, true).contains("connect-src 'self' ws: wss:;"));
    }
}
