//! Cross-site request forgery guard: a state-changing request (anything but GET/HEAD/OPTIONS)
//! must come from our own origin, judged by `Sec-Fetch-Site`, else by `Origin`. Browsers send
//! at least one of them on every cross-site POST; clients without either (curl, SDKs, tests,
//! providers posting receipts) are not browsers and carry no cookies or cached credentials by
//! accident. That holds for the console (the session cookie is also `SameSite=Lax`) and for the
//! `/2fa` API, where a browser would otherwise attach Basic credentials it has cached to a
//! cross-site form post.
use axum::body::Body;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, Request, StatusCode};

pub async fn guard(req: Request<Body>, next: Next) -> Response {
    if is_safe(req.method()) || allowed(&req) {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "cross-site request refused");
    let path = req.uri().path();
    if path.starts_with("/2fa/") || path == "/2fa" {
        return crate::server::rest::api_error::ApiError::new(
            crate::domain::ErrorCode::Forbidden,
            "Cross-site request refused: a browser page of another site may not call the API. Call it from your server (without Origin or Sec-Fetch-Site headers) or from this site.",
        )
        .into_response();
    }
    (
        StatusCode::FORBIDDEN,
        "Cross-site request refused: this action must come from the smart2fa console itself.",
    )
        .into_response()
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn allowed<B>(req: &Request<B>) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match header("origin") {
        None => true,
        Some(origin) => {
            let host = header("host").unwrap_or_default();
            let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
            !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request<()> {
        let mut b = Request::post("/api/logout");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn judges_fetch_metadata_then_origin() {
        assert!(allowed(&req(&[("sec-fetch-site", "same-origin")])));
        assert!(!allowed(&req(&[("sec-fetch-site", "cross-site")])));
        assert!(!allowed(&req(&[("sec-fetch-site", "same-site")])));
        assert!(allowed(&req(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!allowed(&req(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!allowed(&req(&[
            ("origin", "null"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(allowed(&req(&[])));
    }
}
