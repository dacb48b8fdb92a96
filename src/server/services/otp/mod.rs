//! The OTP use cases: send, verify, cancel, the SDR and search, the sandbox outbox, and the
//! timeline events they write.
pub mod cancel;
pub mod changes;
pub mod events;
pub mod input;
pub mod params;
pub mod protection;
pub mod sdr;
pub mod send;
pub mod verify;

use crate::domain::{ErrorCode, OtpStatus};
use crate::server::services::ServiceError;

/// The answer for an OTP that is already in a final state (verify and cancel share it).
pub fn final_state_error(status: OtpStatus) -> ServiceError {
    let (code, message) = match status {
        OtpStatus::Verified => (ErrorCode::AlreadyVerified, "This OTP was already verified."),
        OtpStatus::Expired => (ErrorCode::Expired, "This OTP expired. Send a new one."),
        OtpStatus::Canceled => (
            ErrorCode::Canceled,
            "This OTP was canceled. Send a new one.",
        ),
        OtpStatus::MaxAttempts => (
            ErrorCode::TooManyAttempts,
            "Too many wrong codes: this OTP is locked. Send a new one.",
        ),
        OtpStatus::Failed => (
            ErrorCode::DeliveryFailed,
            "Delivery failed on every channel. Send a new one.",
        ),
        OtpStatus::Blocked => (
            ErrorCode::NotFound,
            "This OTP was blocked by a limit and never sent.",
        ),
        OtpStatus::Pending | OtpStatus::Sent | OtpStatus::Delivered => {
            (ErrorCode::Internal, "OTP is active.")
        }
    };
    ServiceError::with(
        code,
        message,
        serde_json::json!({"status": status.as_str()}),
    )
}
