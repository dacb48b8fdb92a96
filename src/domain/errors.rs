//! The stable error codes of the API (`GET /2fa/errors`) and the console's error type.
use serde::{Deserialize, Serialize};

/// Every error a client can see carries one of these codes; the numbers never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u16", try_from = "u16")]
pub enum ErrorCode {
    Internal,
    AuthenticationFailed,
    Forbidden,
    NotFound,
    InvalidParameter,
    MalformedBody,
    InvalidDestination,
    ChannelNotAllowed,
    BodyLacksCode,
    LimitExceeded,
    UnknownLimit,
    TooManySendsToDestination,
    FraudBlocked,
    WrongCode,
    Expired,
    AlreadyVerified,
    Canceled,
    TooManyAttempts,
    DeliveryFailed,
    DuplicateName,
    TooManyBuckets,
    TooManyRequests,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::Internal,
        ErrorCode::AuthenticationFailed,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::InvalidParameter,
        ErrorCode::MalformedBody,
        ErrorCode::InvalidDestination,
        ErrorCode::ChannelNotAllowed,
        ErrorCode::BodyLacksCode,
        ErrorCode::LimitExceeded,
        ErrorCode::UnknownLimit,
        ErrorCode::TooManySendsToDestination,
        ErrorCode::FraudBlocked,
        ErrorCode::WrongCode,
        ErrorCode::Expired,
        ErrorCode::AlreadyVerified,
        ErrorCode::Canceled,
        ErrorCode::TooManyAttempts,
        ErrorCode::DeliveryFailed,
        ErrorCode::DuplicateName,
        ErrorCode::TooManyBuckets,
        ErrorCode::TooManyRequests,
    ];

    pub fn code(self) -> u16 {
        match self {
            ErrorCode::Internal => 7000,
            ErrorCode::AuthenticationFailed => 7001,
            ErrorCode::Forbidden => 7002,
            ErrorCode::NotFound => 7003,
            ErrorCode::InvalidParameter => 7004,
            ErrorCode::MalformedBody => 7005,
            ErrorCode::InvalidDestination => 7010,
            ErrorCode::ChannelNotAllowed => 7011,
            ErrorCode::BodyLacksCode => 7012,
            ErrorCode::LimitExceeded => 7020,
            ErrorCode::UnknownLimit => 7021,
            ErrorCode::TooManySendsToDestination => 7022,
            ErrorCode::FraudBlocked => 7024,
            ErrorCode::WrongCode => 7030,
            ErrorCode::Expired => 7031,
            ErrorCode::AlreadyVerified => 7032,
            ErrorCode::Canceled => 7033,
            ErrorCode::TooManyAttempts => 7034,
            ErrorCode::DeliveryFailed => 7035,
            ErrorCode::DuplicateName => 7050,
            ErrorCode::TooManyBuckets => 7051,
            ErrorCode::TooManyRequests => 7060,
        }
    }

    /// The HTTP status that goes with the code (7005 may also answer 415, decided at the edge).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Internal => 500,
            ErrorCode::AuthenticationFailed => 401,
            ErrorCode::Forbidden | ErrorCode::ChannelNotAllowed => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::InvalidParameter
            | ErrorCode::MalformedBody
            | ErrorCode::InvalidDestination
            | ErrorCode::BodyLacksCode
            | ErrorCode::UnknownLimit
            | ErrorCode::WrongCode
            | ErrorCode::TooManyBuckets => 400,
            ErrorCode::LimitExceeded
            | ErrorCode::TooManySendsToDestination
            | ErrorCode::FraudBlocked
            | ErrorCode::TooManyAttempts
            | ErrorCode::TooManyRequests => 429,
            ErrorCode::Expired => 410,
            ErrorCode::AlreadyVerified
            | ErrorCode::Canceled
            | ErrorCode::DeliveryFailed
            | ErrorCode::DuplicateName => 409,
        }
    }

    /// What the code means, as listed by `GET /2fa/errors`.
    pub fn description(self) -> &'static str {
        match self {
            ErrorCode::Internal => {
                "Internal error. The answer carries an error id that is also in the server log."
            }
            ErrorCode::AuthenticationFailed => {
                "Authentication failed: check the AccountSid (or API key) and its secret."
            }
            ErrorCode::Forbidden => {
                "Not allowed for these credentials or this role, or the account is not active."
            }
            ErrorCode::NotFound => "Not found.",
            ErrorCode::InvalidParameter => "Invalid or missing parameter; `field` names it.",
            ErrorCode::MalformedBody => "Malformed body or unsupported content type.",
            ErrorCode::InvalidDestination => "Invalid destination (phone number or email address).",
            ErrorCode::ChannelNotAllowed => {
                "Channel not configured, or destination country not allowed."
            }
            ErrorCode::BodyLacksCode => "The message body lacks the `{code}` placeholder.",
            ErrorCode::LimitExceeded => {
                "A named limit was exceeded; see `limit`, `bucket` and `retryAfter`."
            }
            ErrorCode::UnknownLimit => "Unknown limit name.",
            ErrorCode::TooManySendsToDestination => "Too many sends to this destination.",
            ErrorCode::FraudBlocked => {
                "The destination's number prefix is blocked by the fraud guard (SMS pumping); see `retryAfter`, or ask an admin to lift the block."
            }
            ErrorCode::WrongCode => "Wrong code; `attemptsLeft` says how many tries remain.",
            ErrorCode::Expired => "The OTP expired.",
            ErrorCode::AlreadyVerified => "The OTP was already verified.",
            ErrorCode::Canceled => "The OTP was canceled.",
            ErrorCode::TooManyAttempts => "Too many wrong codes: the OTP is locked.",
            ErrorCode::DeliveryFailed => "Delivery failed on every channel.",
            ErrorCode::DuplicateName => "An object with this name already exists.",
            ErrorCode::TooManyBuckets => "Too many buckets (at most 2).",
            ErrorCode::TooManyRequests => {
                "Too many requests; slow down and retry after `retryAfter` seconds."
            }
        }
    }

    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

impl From<ErrorCode> for u16 {
    fn from(c: ErrorCode) -> u16 {
        c.code()
    }
}

impl TryFrom<u16> for ErrorCode {
    type Error = String;
    fn try_from(code: u16) -> Result<Self, String> {
        Self::from_code(code).ok_or_else(|| format!("unknown error code {code}"))
    }
}

/// The error every console server function returns: a stable code, a message meant for people,
/// and the form field it concerns (so the page can show it next to that field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ConsoleError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ConsoleError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn field(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::AuthenticationFailed,
            "Your session has ended. Please sign in again.",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorCode::Forbidden,
            "Your role does not allow this action. Ask an account admin.",
        )
    }
}

impl leptos::server_fn::error::FromServerFnError for ConsoleError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Request(_) | E::Response(_) => ConsoleError::new(
                ErrorCode::Internal,
                "Could not reach the server. Check your connection and try again.",
            ),
            E::Args(m) | E::Deserialization(m) | E::MissingArg(m) => ConsoleError::new(
                ErrorCode::MalformedBody,
                format!("The form could not be read: {m}"),
            ),
            _ => ConsoleError::new(
                ErrorCode::Internal,
                "Something went wrong on the server. Please try again.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let codes: HashSet<u16> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(c.code()), Some(c));
            assert!((400..=599).contains(&c.http_status()));
            assert!(!c.description().is_empty());
        }
        assert_eq!(ErrorCode::from_code(7999), None);
    }

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(ErrorCode::AuthenticationFailed.http_status(), 401);
        assert_eq!(ErrorCode::Expired.http_status(), 410);
        assert_eq!(ErrorCode::TooManyAttempts.http_status(), 429);
        assert_eq!(ErrorCode::DuplicateName.http_status(), 409);
    }

    #[test]
    fn console_error_serializes_code_as_number() {
        let e = ConsoleError::field(
            ErrorCode::InvalidParameter,
            "email",
            "Enter an email address.",
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], 7004);
        assert_eq!(json["field"], "email");
        assert_eq!(serde_json::from_value::<ConsoleError>(json).unwrap(), e);
    }
}
