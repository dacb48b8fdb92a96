//! `ApiError`: the one error type of the REST boundary, rendered as the JSON envelope
//! [`ErrorEnvelope`] `{code, errorCode, message, moreInfo, …}`. Internal errors answer an id;
//! details go to the log. Every use-case error becomes one here, worded for API callers.
use crate::domain::{ErrorCode, OtpStatus};
use crate::server::services::otp::{OtpError, OtpField};
use crate::server::services::ServiceError;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEnvelope {
    /// The HTTP status.
    pub code: u16,
    /// The stable error code (see `GET /2fa/errors`).
    pub error_code: u16,
    pub message: String,
    pub more_info: String,
    /// The parameter at fault (7004 and others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<i64>,
    /// The OTP's status, for answers about an OTP in a final state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Seconds to wait (also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// The number prefix the fraud guard blocked (7024).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(rename = "requestID", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// With 7000: quote it when reporting; it is in the server log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// The fields some answers carry besides (boxed: most errors have none, and results stay
    /// small).
    pub details: Box<Details>,
}

#[derive(Debug, Default)]
pub struct Details {
    pub field: Option<String>,
    pub attempts_left: Option<i64>,
    pub otp_status: Option<OtpStatus>,
    pub retry_after: Option<u64>,
    pub limit: Option<(String, String)>,
    pub prefix: Option<String>,
    pub request_id: Option<String>,
    pub error_id: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message: message.into(),
            details: Box::default(),
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.details.field = Some(field.into());
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.details.retry_after = Some(secs);
        self
    }

    pub fn unauthenticated(message: &str) -> Self {
        Self::new(ErrorCode::AuthenticationFailed, message)
    }

    pub fn too_many_requests(message: &str, retry_after: u64) -> Self {
        Self::new(ErrorCode::TooManyRequests, message).with_retry_after(retry_after)
    }

    pub fn internal(err: anyhow::Error) -> Self {
        if crate::server::db::is_busy(&err) {
            tracing::warn!(error = ?err, "busy: a request was refused");
            return Self::new(
                ErrorCode::Internal,
                "The server is busy: nothing was changed. Retry in a second.",
            )
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
            .with_retry_after(1);
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        tracing::error!(error_id = %id, error = ?err, "internal error");
        let mut e = Self::new(
            ErrorCode::Internal,
            format!("Internal error. Quote error id {id} when reporting it."),
        );
        e.details.error_id = Some(id);
        e
    }

    /// A send refused by a named limit (recorded as `blocked`).
    pub fn limit_exceeded(request_id: &str, limit: &str, bucket: &str, retry_after: i64) -> Self {
        let mut e = Self::new(
            ErrorCode::LimitExceeded,
            format!("Limit {limit:?} exceeded (bucket {bucket:?}): the next send is accepted in {retry_after} s."),
        )
        .with_retry_after(retry_after.max(0) as u64);
        e.details.limit = Some((limit.to_owned(), bucket.to_owned()));
        e.details.request_id = Some(request_id.to_owned());
        e
    }

    /// A send the fraud guard refused (recorded as `blocked`).
    pub fn fraud_blocked(request_id: &str, prefix: &str, retry_after: i64) -> Self {
        let mut e = Self::new(
            ErrorCode::FraudBlocked,
            fraud_blocked_message(prefix, retry_after),
        )
        .with_retry_after(retry_after.max(0) as u64);
        e.details.prefix = Some(prefix.to_owned());
        e.details.request_id = Some(request_id.to_owned());
        e
    }

    pub fn envelope(&self) -> ErrorEnvelope {
        let d = &self.details;
        ErrorEnvelope {
            code: self.status.as_u16(),
            error_code: self.code.code(),
            message: self.message.clone(),
            more_info: format!("/2fa/errors#{}", self.code.code()),
            field: d.field.clone(),
            attempts_left: d.attempts_left,
            status: d.otp_status.map(|s| s.as_str().to_owned()),
            retry_after: d.retry_after,
            limit: d.limit.as_ref().map(|(l, _)| l.clone()),
            bucket: d.limit.as_ref().map(|(_, b)| b.clone()),
            prefix: d.prefix.clone(),
            request_id: d.request_id.clone(),
            error_id: d.error_id.clone(),
        }
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
                    Some(f) => err.with_field(f),
                    None => err,
                }
            }
            ServiceError::Internal(err) => ApiError::internal(err),
        }
    }
}

/// How the API names the fields the OTP use cases judge.
pub fn otp_field(f: OtpField) -> &'static str {
    match f {
        OtpField::To => "to",
        OtpField::EmailTo => "emailTo",
        OtpField::Limits => "limits",
        OtpField::IdempotencyKey => "Idempotency-Key",
        OtpField::After => "AfterSid",
        OtpField::Language => "language",
    }
}

impl From<OtpError> for ApiError {
    fn from(e: OtpError) -> Self {
        let message = match &e {
            OtpError::UnknownLimit(name) => {
                format!("Unknown limit {name:?}: create it first with POST /2fa/limits.")
            }
            other => other.message(otp_field),
        };
        if let OtpError::Internal(err) = e {
            return ApiError::internal(err);
        }
        let mut err = ApiError::new(e.code(), message);
        err.details.field = e.field().map(|f| otp_field(f).to_owned());
        err.details.otp_status = e.status();
        err.details.retry_after = e.retry_after();
        match &e {
            OtpError::WrongCode {
                request_id,
                attempts_left,
            } => {
                err.details.attempts_left = Some(*attempts_left);
                err.details.request_id = Some(request_id.to_string());
            }
            // Canceling an OTP already final is a conflict whatever its state (a blocked one
            // was never active: it answers like an unknown one).
            OtpError::NotCancelable(s) if *s != OtpStatus::Blocked => {
                err.status = StatusCode::CONFLICT;
            }
            _ => {}
        }
        err
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.envelope())).into_response();
        if self.code == ErrorCode::AuthenticationFailed {
            res.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"smart2fa\""),
            );
        }
        if let Some(secs) = self.details.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// What a refused send says, on the API and in the console.
pub fn fraud_blocked_message(prefix: &str, retry_after: i64) -> String {
    format!(
        "Numbers starting {prefix} are blocked by the fraud guard (many codes sent there were never verified, a sign of SMS pumping): sends are accepted again in {retry_after} s, or an admin can lift the block (Settings → Fraud guard, or DELETE /2fa/fraudGuard/blocks/{prefix})."
    )
}
