//! The client address used for throttling.
use axum::extract::ConnectInfo;
use http::request::Parts;
use std::net::SocketAddr;

/// The peer address, or the right-most `X-Forwarded-For` entry (the one our own proxy added)
/// when `trust_forwarded_for` is set.
pub fn client_addr(parts: &Parts, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for {
        if let Some(ip) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            return ip.to_owned();
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
