//! `ApiError`: the one error type of the REST boundary, rendered as the JSON envelope
//! `{code, errorCode, message, moreInfo, …}`. Internal errors answer an id; details go to the log.
use crate::domain::ErrorCode;
use crate::server::services::ServiceError;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{HeaderValue, StatusCode};
use serde_json::{Map, Value};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub extra: Map<String, Value>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message: message.into(),
            extra: Map::new(),
            retry_after: None,
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    pub fn unauthenticated(message: &str) -> Self {
        Self::new(ErrorCode::AuthenticationFailed, message)
    }

    pub fn too_many_requests(message: &str, retry_after: u64) -> Self {
        let mut e = Self::new(ErrorCode::TooManyRequests, message).with("retryAfter", retry_after);
        e.retry_after = Some(retry_after);
        e
    }

    pub fn internal(err: anyhow::Error) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        tracing::error!(error_id = %id, error = ?err, "internal error");
        Self::new(
            ErrorCode::Internal,
            format!("Internal error. Quote error id {id} when reporting it."),
        )
        .with("errorId", id)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Rule {
                code,
                message,
                field,
            } => {
                let err = ApiError::new(code, message);
                match field {
                    Some(f) => err.with("field", f),
                    None => err,
                }
            }
            ServiceError::RuleWith {
                code,
                message,
                extra,
                http_status,
            } => {
                let mut err = ApiError::new(code, message);
                if let Some(status) = http_status.and_then(|s| StatusCode::from_u16(s).ok()) {
                    err.status = status;
                }
                if let Some(secs) = extra.get("retryAfter").and_then(|v| v.as_u64()) {
                    err.retry_after = Some(secs);
                }
                err.extra.extend(extra);
                err
            }
            ServiceError::Internal(err) => ApiError::internal(err),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("code".into(), self.status.as_u16().into());
        body.insert("errorCode".into(), self.code.code().into());
        body.insert("message".into(), self.message.into());
        body.insert(
            "moreInfo".into(),
            format!("/2fa/errors#{}", self.code.code()).into(),
        );
        body.extend(self.extra);
        let mut res = (self.status, Json(Value::Object(body))).into_response();
        if self.code == ErrorCode::AuthenticationFailed {
            res.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"smart2fa\""),
            );
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
        }
        res
    }
}
