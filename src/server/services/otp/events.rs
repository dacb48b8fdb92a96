//! Timeline events of an OTP, written in the same transaction as the change they record.
use serde_json::Value;

/// Event types, as the SDR shows them.
pub const CREATED: &str = "created";
pub const SUPERSEDED: &str = "canceled";
pub const ATTEMPT_SENT: &str = "attempt_sent";
pub const DELIVERY_REPORT: &str = "delivery_report";
pub const DELIVERY_FAILED: &str = "delivery_failed";
pub const FALLBACK: &str = "fallback";
pub const FAILED: &str = "failed";
pub const VERIFY_FAILED: &str = "verify_failed";
pub const VERIFIED: &str = "verified";
pub const LOCKED: &str = "max_attempts";
pub const CANCELED: &str = "canceled";
pub const EXPIRED: &str = "expired";

/// Builds the INSERT for one event inside an `on_db!` arm.
macro_rules! insert_event {
    ($sid:expr, $at:expr, $kind:expr, $detail:expr) => {
        sqlx::query(crate::server::db::otps::INSERT_EVENT)
            .bind($sid)
            .bind($at)
            .bind($kind)
            .bind(crate::server::services::otp::events::detail_text(&$detail))
    };
}
pub(crate) use insert_event;

pub fn detail_text(v: &Value) -> String {
    if v.is_null() {
        "{}".into()
    } else {
        v.to_string()
    }
}
