//! Timeline events of an OTP, written in the same transaction as the change they record.
use serde_json::Value;

/// Event types, as the SDR shows them.
pub const CREATED: &str = "created";
pub const SUPERSEDED: &str = "canceled";
pub const ATTEMPT_SENT: &str = "attempt_sent";
pub const DELIVERY_REPORT: &str = "delivery_report";
pub const DELIVERY_FAILED: &str = "delivery_failed";
pub const DELIVERY_RETRY: &str = "delivery_retry";
pub const FALLBACK: &str = "fallback";
pub const FAILED: &str = "failed";
pub const VERIFY_FAILED: &str = "verify_failed";
pub const VERIFIED: &str = "verified";
pub const LOCKED: &str = "max_attempts";
pub const CANCELED: &str = "canceled";
pub const EXPIRED: &str = "expired";
pub const CALLBACK: &str = "callback";
pub const LIMIT_CHECK: &str = "limit_check";
pub const BLOCKED: &str = "blocked";

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

/// Queues a status callback for the OTP's current status, if it has a callback URL.
/// Call it in the same transaction, right after the status change.
macro_rules! enqueue_callback {
    ($sid:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO jobs (kind, otp_sid, step, run_at, created_at, payload) \
             SELECT 'callback', sid, 0, $1, $1, status FROM otps WHERE sid = $2 AND status_callback IS NOT NULL",
        )
        .bind($now)
        .bind($sid)
    };
}
pub(crate) use enqueue_callback;

pub fn detail_text(v: &Value) -> String {
    if v.is_null() {
        "{}".into()
    } else {
        v.to_string()
    }
}
