//! Reading loosely-typed request fields (JSON values or form strings) strictly: every problem
//! becomes a 7004 naming the field. Shared by every API body in the service layer.
use crate::domain::ErrorCode;
use crate::server::services::ServiceError;
use serde_json::{Map, Value};

/// The fields of one request body (or query string), keys as sent.
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A string (numbers are accepted as their text); empty strings count as absent.
    pub fn string(&self, name: &'static str) -> Result<Option<String>, ServiceError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Array(a)) if a.len() == 1 => {
                Fields(&Map::from_iter([(name.to_owned(), a[0].clone())])).string(name)
            }
            Some(_) => Err(ServiceError::invalid(
                name,
                format!("{name} must be a string."),
            )),
        }
    }

    /// A string of `min..=max` characters.
    pub fn text(
        &self,
        name: &'static str,
        min: usize,
        max: usize,
    ) -> Result<Option<String>, ServiceError> {
        let Some(s) = self.string(name)? else {
            return Ok(None);
        };
        let n = s.chars().count();
        if n < min || n > max {
            return Err(ServiceError::invalid(
                name,
                format!("{name} must be {min}–{max} characters long (it has {n})."),
            ));
        }
        if s.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(ServiceError::invalid(
                name,
                format!("{name} must not contain control characters."),
            ));
        }
        Ok(Some(s))
    }

    pub fn required_text(
        &self,
        name: &'static str,
        min: usize,
        max: usize,
    ) -> Result<String, ServiceError> {
        self.text(name, min, max)?
            .ok_or_else(|| ServiceError::invalid(name, format!("{name} is required.")))
    }

    /// An integer in `min..=max` (strings of digits accepted, as forms send them).
    pub fn int(&self, name: &'static str, min: i64, max: i64) -> Result<Option<i64>, ServiceError> {
        let bad = || {
            ServiceError::invalid(
                name,
                format!("{name} must be a whole number from {min} to {max}."),
            )
        };
        let n = match self.get(name) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_i64().ok_or_else(bad)?,
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| bad())?,
            Some(_) => return Err(bad()),
        };
        if n < min || n > max {
            return Err(bad());
        }
        Ok(Some(n))
    }

    pub fn bool(&self, name: &'static str) -> Result<Option<bool>, ServiceError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" => Ok(Some(false)),
                _ => Err(ServiceError::invalid(
                    name,
                    format!("{name} must be true or false."),
                )),
            },
            Some(_) => Err(ServiceError::invalid(
                name,
                format!("{name} must be true or false."),
            )),
        }
    }

    /// `channel`: sms, call or email.
    pub fn channel(&self) -> Result<Option<crate::domain::Channel>, ServiceError> {
        self.string("channel")?
            .map(|c| {
                crate::domain::Channel::parse(&c).ok_or_else(|| {
                    ServiceError::invalid("channel", "channel must be sms, call or email.")
                })
            })
            .transpose()
    }

    /// `status`: one of the OTP statuses.
    pub fn status(&self) -> Result<Option<crate::domain::OtpStatus>, ServiceError> {
        self.string("status")?
            .map(|s| {
                crate::domain::OtpStatus::parse(&s).ok_or_else(|| ServiceError::invalid("status", "status must be one of pending, sent, delivered, verified, expired, canceled, max_attempts, failed, blocked."))
            })
            .transpose()
    }

    /// `countryCode`: an ISO 3166 alpha-2 code, upper-cased.
    pub fn country_code(&self) -> Result<Option<String>, ServiceError> {
        self.string("countryCode")?
            .map(|c| {
                let c = c.trim().to_ascii_uppercase();
                if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(c)
                } else {
                    Err(ServiceError::invalid(
                        "countryCode",
                        "countryCode must be an ISO 3166 alpha-2 code like US.",
                    ))
                }
            })
            .transpose()
    }

    /// A list: a JSON array of strings, repeated form keys, or one comma-separated string.
    pub fn list(&self, name: &'static str) -> Result<Option<Vec<String>>, ServiceError> {
        let bad = || ServiceError::invalid(name, format!("{name} must be a list of strings."));
        let items: Vec<String> = match self.get(name) {
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

    /// `accountSid`: the sub-account to act for, if given.
    pub fn account_sid(&self) -> Result<Option<crate::domain::AccountSid>, ServiceError> {
        match self.string("accountSid")? {
            None => Ok(None),
            Some(s) => crate::domain::AccountSid::parse(s.trim())
                .map(Some)
                .map_err(|_| {
                    ServiceError::invalid(
                        "accountSid",
                        "accountSid must be AC followed by 32 hex digits.",
                    )
                }),
        }
    }

    /// The scope a request acts in: the caller, or the sub-account named by `accountSid`.
    pub async fn scope(
        &self,
        db: &crate::server::db::Db,
        caller: &crate::server::services::AccountScope,
    ) -> Result<crate::server::services::AccountScope, ServiceError> {
        caller.act_as(db, self.account_sid()?.as_ref()).await
    }

    /// A JSON object of string values (`limits`).
    pub fn string_map(
        &self,
        name: &'static str,
    ) -> Result<Option<Vec<(String, String)>>, ServiceError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    Value::Number(n) => Ok((k.clone(), n.to_string())),
                    _ => Err(ServiceError::invalid(
                        name,
                        format!("{name} values must be strings."),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v @ Value::Object(_)) => {
                    Fields(&Map::from_iter([(name.to_owned(), v)])).string_map(name)
                }
                _ => Err(ServiceError::invalid(
                    name,
                    format!("{name} must be an object like {{\"per_ip\": \"203.0.113.7\"}}."),
                )),
            },
            Some(_) => Err(ServiceError::invalid(
                name,
                format!("{name} must be an object like {{\"per_ip\": \"203.0.113.7\"}}."),
            )),
        }
    }
}

/// A rule error with a code other than 7004, still naming the field.
pub fn field_error(
    code: ErrorCode,
    field: &'static str,
    message: impl Into<String>,
) -> ServiceError {
    ServiceError::Rule {
        code,
        message: message.into(),
        field: Some(field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn reads_strictly() {
        let m = fields(
            json!({"a": "x", "n": "42", "m": 7, "b": "true", "l": "sms, call", "arr": ["email"], "o": {"per_ip": "1.2.3.4"}, "e": ""}),
        );
        let f = Fields(&m);
        assert_eq!(f.string("a").unwrap().as_deref(), Some("x"));
        assert_eq!(f.string("e").unwrap(), None);
        assert_eq!(f.int("n", 0, 100).unwrap(), Some(42));
        assert_eq!(f.int("m", 0, 100).unwrap(), Some(7));
        assert!(f.int("n", 0, 10).is_err());
        assert!(f.int("a", 0, 10).is_err());
        assert_eq!(f.bool("b").unwrap(), Some(true));
        assert!(f.bool("a").is_err());
        assert_eq!(
            f.list("l").unwrap(),
            Some(vec!["sms".into(), "call".into()])
        );
        assert_eq!(f.list("arr").unwrap(), Some(vec!["email".into()]));
        assert_eq!(
            f.string_map("o").unwrap(),
            Some(vec![("per_ip".into(), "1.2.3.4".into())])
        );
        assert!(f.string_map("a").is_err());
        assert!(f.text("a", 2, 5).is_err());
        assert!(f.required_text("missing", 1, 5).is_err());
    }
}
