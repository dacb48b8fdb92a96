//! HTTP Basic authentication for `/2fa`: `AccountSid:AuthToken` or `ApiKeySid:ApiKeySecret`.
//! Yields the caller's `AccountScope`; repeated failures from one address with one credential
//! sid are slowed, then refused (other credentials from the same address are not).
use super::client_addr;
use crate::domain::ErrorCode;
use crate::server::rest::api_error::ApiError;
use crate::server::services::accounts::{self, AuthFailure};
use crate::server::services::AccountScope;
use crate::server::state::AppState;
use axum::extract::FromRequestParts;
use base64::Engine;
use http::request::Parts;
use std::time::Duration;

/// The authenticated API caller. The only way a REST handler gets an account scope.
pub struct ApiCaller(pub AccountScope);

/// The throttle key of an attempt: the client address and the presented sid (cut to the
/// length of a real sid, so made-up sids cannot grow the key).
fn throttle_key(addr: &str, sid: &str) -> String {
    let sid: String = sid.chars().take(64).collect();
    format!("{addr} {sid}")
}

fn credentials(parts: &Parts) -> Option<(String, String)> {
    let value = parts
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, secret) = text.split_once(':')?;
    Some((user.to_owned(), secret.to_owned()))
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let cfg = &state.settings().api_auth;
        let addr = client_addr(parts, state.settings());
        let Some((user, secret)) = credentials(parts) else {
            return Err(ApiError::unauthenticated(
                "Authentication required: send HTTP Basic credentials AccountSid:AuthToken.",
            ));
        };
        // Failures count per address *and* credential sid: one integration guessing (or
        // misconfigured) behind a NAT does not lock out the others at the same address.
        let key = throttle_key(&addr, &user);
        let throttle = &state.guards().api_auth_throttle;
        let now = state.clock().now_ms();
        let failures = throttle.count(&key, now);
        if failures >= cfg.refuse_after {
            let retry = throttle.retry_after_secs(&key, cfg.refuse_after, now);
            tracing::warn!(client = %addr, failures, "API authentication refused: too many failures");
            return Err(ApiError::too_many_requests(
                "Too many failed authentications from this address with these credentials. Retry later.",
                retry,
            ));
        }
        if failures >= cfg.slow_after {
            let steps = u64::from(failures - cfg.slow_after + 1);
            let delay = (cfg.delay_step_ms.saturating_mul(steps)).min(cfg.max_delay_ms);
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if let Some(scope) = state.guards().auth_cache.get(&user, &secret, now) {
            return Ok(ApiCaller(scope));
        }
        // Read before the lookup: a revocation or rotation meanwhile keeps this answer out.
        let generation = state.guards().auth_cache.generation();
        match accounts::authenticate(state.db(), &user, &secret).await? {
            Ok(scope) => {
                state
                    .guards()
                    .auth_cache
                    .put_if_current(&user, &secret, &scope, now, generation);
                Ok(ApiCaller(scope))
            }
            Err(AuthFailure::BadCredentials) => {
                throttle.record_failure(&key, now);
                tracing::info!(client = %addr, "API authentication failed");
                Err(ApiError::unauthenticated(
                    "Authentication failed: check the AccountSid and AuthToken.",
                ))
            }
            Err(AuthFailure::Inactive) => Err(ApiError::new(
                ErrorCode::Forbidden,
                "This account is suspended or closed; its credentials are not accepted.",
            )),
        }
    }
}

/// Who is calling (the credential sid of HTTP Basic: an account sid or an API key sid) and from
/// which address, for the audit log. Use it next to [`ApiCaller`], which checks the
/// credentials.
pub struct ApiOrigin(pub crate::server::services::audit::Origin);

impl FromRequestParts<AppState> for ApiOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        use crate::server::services::audit::{Actor, Origin};
        let sid = credentials(parts)
            .map(|(user, _)| user.chars().take(64).collect())
            .unwrap_or_default();
        Ok(ApiOrigin(Origin {
            actor: Actor::Credential { sid },
            address: client_addr(parts, state.settings()),
        }))
    }
}
