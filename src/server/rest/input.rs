//! Request bodies for `/2fa`: JSON objects or form posts (repeated keys become lists), merged
//! with the query string. Malformed bodies answer 400/7005, other content types 415/7005,
//! oversize bodies 413/7005 — always the JSON envelope.
use super::error::ApiError;
use crate::domain::ErrorCode;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use http::StatusCode;
use serde_json::{Map, Value};

/// The fields of a request: query string first, body fields over it.
pub struct ApiInput(pub Map<String, Value>);

fn malformed(message: &str) -> ApiError {
    ApiError::new(ErrorCode::MalformedBody, message)
}

/// Adds `key=value` to the map; a repeated key becomes a list.
fn push(map: &mut Map<String, Value>, key: String, value: String) {
    match map.get_mut(&key) {
        Some(Value::Array(a)) => a.push(Value::String(value)),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, Value::String(value)]);
        }
        None => {
            map.insert(key, Value::String(value));
        }
    }
}

pub fn parse_pairs(text: &str) -> Map<String, Value> {
    let mut map = Map::new();
    for (k, v) in form_urlencoded::parse(text.as_bytes()) {
        push(&mut map, k.into_owned(), v.into_owned());
    }
    map
}

impl FromRequest<crate::server::state::AppState> for ApiInput {
    type Rejection = ApiError;

    async fn from_request(
        req: Request,
        state: &crate::server::state::AppState,
    ) -> Result<Self, ApiError> {
        let max = state.settings().max_body_bytes;
        let mut map = req.uri().query().map(parse_pairs).unwrap_or_default();
        let content_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let bytes = match axum::body::to_bytes(Body::new(req.into_body()), usize::MAX).await {
            Ok(b) => b,
            Err(e) => {
                let too_big = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                    || e.to_string().contains("length limit");
                return Err(if too_big {
                    malformed("The request body is too large.")
                        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
                } else {
                    malformed("The request body could not be read.")
                });
            }
        };
        if bytes.len() > max {
            return Err(malformed(&format!(
                "The request body is too large (at most {max} bytes)."
            ))
            .with_status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiInput(map));
        }
        match content_type.as_deref() {
            Some("application/json") | Some("text/json") => {
                let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    malformed(&format!("The JSON body is malformed: {e}."))
                })?;
                match value {
                    Value::Object(body) => map.extend(body),
                    _ => return Err(malformed("The JSON body must be an object.")),
                }
            }
            Some("application/x-www-form-urlencoded") => {
                let text = std::str::from_utf8(&bytes).map_err(|_| malformed("The form body is not UTF-8."))?;
                for (k, v) in parse_pairs(text) {
                    map.insert(k, v);
                }
            }
            other => {
                return Err(malformed(&format!(
                    "Unsupported content type {}: send application/json or application/x-www-form-urlencoded.",
                    other.unwrap_or("(none)")
                ))
                .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE))
            }
        }
        Ok(ApiInput(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_become_lists() {
        let m = parse_pairs("workflow=sms&workflow=call&service=My+App&x=%7B%7D");
        assert_eq!(m["workflow"], serde_json::json!(["sms", "call"]));
        assert_eq!(m["service"], "My App");
        assert_eq!(m["x"], "{}");
    }
}
