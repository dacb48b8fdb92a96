//! The OTP use cases' answers when they refuse: typed, so each adapter words and shapes them
//! its own way (the REST envelope with `attemptsLeft`, the console's message next to a field).
use crate::domain::{AccountSid, AccountStatus, ErrorCode, OtpSid, OtpStatus, Problem};
use crate::server::services::ServiceError;

/// A field of an OTP command that a use case itself judges (fields a value is simply parsed
/// from are judged by the adapter that parses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpField {
    /// The phone destination.
    To,
    /// The email destination.
    EmailTo,
    /// The named limits to charge.
    Limits,
    IdempotencyKey,
    /// The search position (`AfterSid`).
    After,
    /// The language (and voice) of a call.
    Language,
}

#[derive(Debug, thiserror::Error)]
pub enum OtpError {
    #[error("invalid {field:?}: {problem:?}")]
    Invalid { field: OtpField, problem: Problem },
    /// Not allowed for this caller (acting for an account it may not act for).
    #[error("{0}")]
    Denied(String),
    /// The account cannot send while it is not active.
    #[error("account {account} is {status:?}")]
    AccountInactive {
        account: AccountSid,
        status: AccountStatus,
    },
    /// No such OTP in this account (or a malformed id).
    #[error("OTP not found")]
    NotFound,
    /// No active OTP for the service and destination of a verify.
    #[error("no active OTP for this service and destination")]
    NoActiveOtp,
    /// Verify: the OTP is in a final state.
    #[error("OTP is {0}")]
    Final(OtpStatus),
    /// Cancel: the OTP is in a final state already.
    #[error("OTP is already {0}")]
    NotCancelable(OtpStatus),
    #[error("wrong code")]
    WrongCode {
        request_id: OtpSid,
        attempts_left: i64,
    },
    #[error("unknown limit {0:?}")]
    UnknownLimit(String),
    /// Destination protection: too many sends to one destination.
    #[error("too many sends to this destination")]
    TooManySends {
        max: i64,
        window_minutes: i64,
        retry_after: u64,
    },
    /// The account does not allow this channel to send to the destination's country.
    #[error("{channel:?} to {country} not allowed")]
    CountryNotAllowed {
        channel: crate::domain::Channel,
        country: String,
    },
    /// The `Idempotency-Key` was used with another request in the last 24 hours.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type OtpResult<T> = Result<T, OtpError>;

impl From<ServiceError> for OtpError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Rule {
                code: ErrorCode::Forbidden,
                message,
                ..
            } => OtpError::Denied(message),
            ServiceError::Rule { code, message, .. } => {
                OtpError::Internal(anyhow::anyhow!("unexpected rule {code:?}: {message}"))
            }
            ServiceError::Internal(e) => OtpError::Internal(e),
        }
    }
}

impl From<sqlx::Error> for OtpError {
    fn from(e: sqlx::Error) -> Self {
        OtpError::Internal(anyhow::Error::new(e).context("database"))
    }
}

impl OtpError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            OtpError::Invalid { problem, .. } => problem.code(),
            OtpError::Denied(_) | OtpError::AccountInactive { .. } => ErrorCode::Forbidden,
            OtpError::NotFound | OtpError::NoActiveOtp => ErrorCode::NotFound,
            OtpError::Final(s) | OtpError::NotCancelable(s) => final_code(*s),
            OtpError::WrongCode { .. } => ErrorCode::WrongCode,
            OtpError::UnknownLimit(_) => ErrorCode::UnknownLimit,
            OtpError::TooManySends { .. } => ErrorCode::TooManySendsToDestination,
            OtpError::CountryNotAllowed { .. } => ErrorCode::ChannelNotAllowed,
            OtpError::IdempotencyKeyReused => ErrorCode::InvalidParameter,
            OtpError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The field the error is about, if any.
    pub fn field(&self) -> Option<OtpField> {
        match self {
            OtpError::Invalid { field, .. } => Some(*field),
            OtpError::UnknownLimit(_) => Some(OtpField::Limits),
            OtpError::CountryNotAllowed { .. } => Some(OtpField::To),
            OtpError::IdempotencyKeyReused => Some(OtpField::IdempotencyKey),
            _ => None,
        }
    }

    /// The OTP's status, for answers about an OTP in a final state.
    pub fn status(&self) -> Option<OtpStatus> {
        match self {
            OtpError::Final(s) | OtpError::NotCancelable(s) => Some(*s),
            _ => None,
        }
    }

    /// Seconds until the same send would be accepted, when that is what the answer says.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            OtpError::TooManySends { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The message for people; `field` names a field the way the adapter's caller knows it.
    /// (Unknown limits say where limits are created, which only the adapter knows.)
    pub fn message(&self, field: impl Fn(OtpField) -> &'static str) -> String {
        match self {
            OtpError::Invalid { field: f, problem } => problem.message(field(*f)),
            OtpError::Denied(message) => message.clone(),
            OtpError::AccountInactive { account, status } => format!(
                "Account {account} is {}: it cannot send codes until it is active again.",
                status.as_str()
            ),
            OtpError::NotFound => "The requested OTP (requestID) was not found.".into(),
            OtpError::NoActiveOtp => "No active OTP for this service and destination.".into(),
            OtpError::Final(s) | OtpError::NotCancelable(s) => final_message(*s).into(),
            OtpError::WrongCode { attempts_left, .. } => format!(
                "Wrong code. {attempts_left} attempt{} left.",
                if *attempts_left == 1 { "" } else { "s" }
            ),
            OtpError::UnknownLimit(name) => format!("Unknown limit {name:?}."),
            OtpError::TooManySends {
                max,
                window_minutes,
                retry_after,
            } => format!(
                "Too many codes sent to this destination: at most {max} per {window_minutes} minutes. Try again in {retry_after} s."
            ),
            OtpError::CountryNotAllowed { channel, country } => {
                let what = match channel {
                    crate::domain::Channel::Sms => "SMS",
                    crate::domain::Channel::Call => "calls",
                    crate::domain::Channel::Email => "email",
                };
                format!(
                    "This account does not allow {what} to {country}: allow {country} for {} in Settings → Countries (PUT /2fa/settings/countries).",
                    channel.label()
                )
            }
            OtpError::IdempotencyKeyReused => {
                "This Idempotency-Key was already used with a different request in the last 24 hours.".into()
            }
            OtpError::Internal(_) => "Internal error.".into(),
        }
    }
}

fn final_code(status: OtpStatus) -> ErrorCode {
    match status {
        OtpStatus::Verified => ErrorCode::AlreadyVerified,
        OtpStatus::Expired => ErrorCode::Expired,
        OtpStatus::Canceled => ErrorCode::Canceled,
        OtpStatus::MaxAttempts => ErrorCode::TooManyAttempts,
        OtpStatus::Failed => ErrorCode::DeliveryFailed,
        OtpStatus::Blocked => ErrorCode::NotFound,
        OtpStatus::Pending | OtpStatus::Sent | OtpStatus::Delivered => ErrorCode::Internal,
    }
}

fn final_message(status: OtpStatus) -> &'static str {
    match status {
        OtpStatus::Verified => "This OTP was already verified.",
        OtpStatus::Expired => "This OTP expired. Send a new one.",
        OtpStatus::Canceled => "This OTP was canceled. Send a new one.",
        OtpStatus::MaxAttempts => "Too many wrong codes: this OTP is locked. Send a new one.",
        OtpStatus::Failed => "Delivery failed on every channel. Send a new one.",
        OtpStatus::Blocked => "This OTP was blocked by a limit and never sent.",
        OtpStatus::Pending | OtpStatus::Sent | OtpStatus::Delivered => "OTP is active.",
    }
}
