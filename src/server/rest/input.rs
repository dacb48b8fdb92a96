//! Request bodies for `/2fa`: JSON objects or form posts (repeated keys become lists), merged
//! with the query string. Malformed bodies answer 400/7005, other content types 415/7005,
//! oversize bodies 413/7005 — always the JSON envelope.
//!
//! A request's fields deserialize into its wire type (`rest::*::wire`), whose fields are
//! [`Loose`]: callers send numbers as text, lists as repeated keys or "a,b", and so on. Reading
//! a `Loose` is strict: every problem is a 7004 (or the value's own code) naming the field.
use super::api_error::ApiError;
use crate::domain::problem::{self, Problem};
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

impl ApiInput {
    /// The fields as the request's wire type (its unknown fields ignored).
    pub fn into_wire<T: serde::de::DeserializeOwned>(self) -> Result<T, ApiError> {
        serde_json::from_value(Value::Object(self.0))
            .map_err(|e| malformed(&format!("The request could not be read: {e}.")))
    }
}

/// One field of a request as the caller sent it (absent and JSON null are the same).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct Loose(pub Option<Value>);

/// A 7004 (or the problem's own code) naming the field.
pub fn invalid(name: &str, problem: Problem) -> ApiError {
    ApiError::new(problem.code(), problem.message(name)).with_field(name)
}

impl Loose {
    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }

    /// A string (numbers are accepted as their text); empty strings count as absent.
    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match &self.0 {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Array(a)) if a.len() == 1 => Loose(Some(a[0].clone())).string(name),
            Some(_) => Err(invalid(name, Problem::says("must be a string."))),
        }
    }

    /// A string of `min..=max` characters without control characters.
    pub fn text(&self, name: &str, limits: (usize, usize)) -> Result<Option<String>, ApiError> {
        self.string(name)?
            .map(|s| problem::text(&s, limits).map_err(|p| invalid(name, p)))
            .transpose()
    }

    /// A single line of `min..=max` characters (no line breaks: it may become a header).
    pub fn line(&self, name: &str, limits: (usize, usize)) -> Result<Option<String>, ApiError> {
        self.string(name)?
            .map(|s| problem::line(&s, limits).map_err(|p| invalid(name, p)))
            .transpose()
    }

    pub fn required_text(&self, name: &str, limits: (usize, usize)) -> Result<String, ApiError> {
        self.text(name, limits)?
            .ok_or_else(|| invalid(name, Problem::Required))
    }

    /// An integer in `min..=max` (strings of digits accepted, as forms send them).
    pub fn int(&self, name: &str, (min, max): (i64, i64)) -> Result<Option<i64>, ApiError> {
        let bad = || invalid(name, Problem::Range { min, max });
        let n = match &self.0 {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_i64().ok_or_else(bad)?,
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| bad())?,
            Some(_) => return Err(bad()),
        };
        problem::in_range(n, (min, max))
            .map(Some)
            .map_err(|_| bad())
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        let bad = || invalid(name, Problem::says("must be true or false."));
        match &self.0 {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" => Ok(Some(false)),
                _ => Err(bad()),
            },
            Some(_) => Err(bad()),
        }
    }

    /// A list: a JSON array of strings, repeated form keys, or one comma-separated string.
    pub fn list(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        let bad = || invalid(name, Problem::says("must be a list of strings."));
        let items: Vec<String> = match &self.0 {
            None => return Ok(None),
            Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_owned()).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(|s| s.trim().to_owned()).ok_or_else(bad))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flat_map(|s| {
                    s.split(',')
                        .map(|p| p.trim().to_owned())
                        .collect::<Vec<_>>()
                })
                .collect(),
            Some(_) => return Err(bad()),
        };
        let items: Vec<String> = items.into_iter().filter(|s| !s.is_empty()).collect();
        Ok(if items.is_empty() { None } else { Some(items) })
    }

    /// A JSON object of string values (`limits`), also as its JSON text in a form.
    pub fn string_map(&self, name: &str) -> Result<Option<Vec<(String, String)>>, ApiError> {
        let shape = || {
            invalid(
                name,
                Problem::says("must be an object like {\"per_ip\": \"203.0.113.7\"}."),
            )
        };
        match &self.0 {
            None => Ok(None),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    Value::Number(n) => Ok((k.clone(), n.to_string())),
                    _ => Err(invalid(name, Problem::says("values must be strings."))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v @ Value::Object(_)) => Loose(Some(v)).string_map(name),
                _ => Err(shape()),
            },
            Some(_) => Err(shape()),
        }
    }

    /// A channel: sms, call (or voice) or email.
    pub fn channel(&self, name: &str) -> Result<Option<crate::domain::Channel>, ApiError> {
        self.string(name)?
            .map(|c| {
                crate::domain::Channel::parse(&c)
                    .ok_or_else(|| invalid(name, Problem::says("must be sms, call or email.")))
            })
            .transpose()
    }

    /// One of the OTP statuses.
    pub fn status(&self, name: &str) -> Result<Option<crate::domain::OtpStatus>, ApiError> {
        self.string(name)?
            .map(|s| {
                crate::domain::OtpStatus::parse(&s).ok_or_else(|| invalid(name, Problem::says("must be one of pending, sent, delivered, verified, expired, canceled, max_attempts, failed, blocked.")))
            })
            .transpose()
    }

    /// An ISO 3166 alpha-2 code, upper-cased.
    pub fn country_code(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.string(name)?
            .map(|c| {
                let c = c.trim().to_ascii_uppercase();
                if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(c)
                } else {
                    Err(invalid(
                        name,
                        Problem::says("must be an ISO 3166 alpha-2 code like US."),
                    ))
                }
            })
            .transpose()
    }

    /// An account to act for (`accountSid`).
    pub fn account_sid(&self, name: &str) -> Result<Option<crate::domain::AccountSid>, ApiError> {
        match self.string(name)? {
            None => Ok(None),
            Some(s) => crate::domain::AccountSid::parse(s.trim())
                .map(Some)
                .map_err(|_| invalid(name, Problem::says("must be AC followed by 32 hex digits."))),
        }
    }
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
    use serde_json::json;

    fn loose(v: Value) -> Loose {
        Loose(Some(v))
    }

    #[test]
    fn reads_strictly() {
        assert_eq!(loose(json!("x")).string("a").unwrap().as_deref(), Some("x"));
        assert_eq!(loose(json!("")).string("e").unwrap(), None);
        assert_eq!(loose(json!("42")).int("n", (0, 100)).unwrap(), Some(42));
        assert_eq!(loose(json!(7)).int("m", (0, 100)).unwrap(), Some(7));
        let e = loose(json!("42")).int("n", (0, 10)).unwrap_err();
        assert_eq!(e.message, "n must be a whole number from 0 to 10.");
        assert!(loose(json!("x")).int("a", (0, 10)).is_err());
        assert_eq!(loose(json!("true")).bool("b").unwrap(), Some(true));
        assert!(loose(json!("x")).bool("a").is_err());
        assert_eq!(
            loose(json!("sms, call")).list("l").unwrap(),
            Some(vec!["sms".into(), "call".into()])
        );
        assert_eq!(
            loose(json!(["email"])).list("arr").unwrap(),
            Some(vec!["email".into()])
        );
        assert_eq!(
            loose(json!({"per_ip": "1.2.3.4"})).string_map("o").unwrap(),
            Some(vec![("per_ip".into(), "1.2.3.4".into())])
        );
        assert!(loose(json!("x")).string_map("a").is_err());
        assert!(loose(json!("x")).text("a", (2, 5)).is_err());
        assert!(Loose(None).required_text("missing", (1, 5)).is_err());
        assert!(!Loose(None).is_present());
    }

    #[test]
    fn repeated_keys_become_lists() {
        let m = parse_pairs("workflow=sms&workflow=call&service=My+App&x=%7B%7D");
        assert_eq!(m["workflow"], serde_json::json!(["sms", "call"]));
        assert_eq!(m["service"], "My App");
        assert_eq!(m["x"], "{}");
    }
}
