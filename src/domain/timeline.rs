//! The timeline of an OTP: every event its session detail record shows, written in the same
//! transaction as the change it records. (How an event is stored is the database's business.)
use super::ids::OtpSid;
use super::otp::{Channel, Millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpEvent {
    Created {
        channel: Channel,
        workflow: String,
        expires_at: Millis,
        max_attempts: i64,
        reference: Option<String>,
    },
    /// A named limit was checked for this send.
    LimitCheck {
        limit: String,
        key: String,
        full: bool,
    },
    Blocked {
        limit: String,
        bucket: String,
        retry_after: i64,
    },
    /// What the fraud guard decided (refused, only recorded, or safe-listed).
    FraudGuard {
        decision: super::fraud::Decision,
        prefix: String,
        reason: String,
        /// When the prefix's block ends (refused sends).
        until: Option<Millis>,
    },
    /// Canceled because `by` took its place.
    Superseded {
        by: OtpSid,
    },
    AttemptSent {
        channel: Channel,
        provider: String,
        provider_sid: String,
    },
    /// A delivery's status as the sandbox or a provider's receipt reported it.
    DeliveryReport {
        channel: Channel,
        status: String,
        /// The provider and its own words for the status (receipts).
        provider: Option<String>,
        reported: Option<String>,
        error: Option<String>,
    },
    /// The next provider of the same channel takes over.
    Failover {
        channel: Channel,
        from: String,
        to: String,
        reason: String,
    },
    /// A receipt we did not accept (a wrong signature), recorded.
    ReceiptRefused {
        provider: String,
        reason: String,
    },
    DeliveryFailed {
        channel: Channel,
        provider: String,
        error: String,
    },
    DeliveryRetry {
        channel: Channel,
        provider: String,
        error: String,
        try_no: i64,
        retry_at: Millis,
    },
    Fallback {
        from: Channel,
        to: Channel,
        reason: String,
    },
    Failed {
        last_channel: Channel,
        error: String,
    },
    VerifyFailed {
        attempts_left: i64,
    },
    Verified,
    Locked {
        attempts: i64,
    },
    Canceled {
        reason: String,
        by: String,
    },
    Expired,
    Callback {
        status: String,
        url: String,
        answer: CallbackAnswer,
        try_no: i64,
        will_retry: bool,
    },
}

/// What a status callback's receiver answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackAnswer {
    Status(u16),
    Timeout,
    ConnectionFailed,
    /// Not attempted: the URL points at an internal address.
    Refused,
}

impl OtpEvent {
    /// The event's type, as the SDR names it.
    pub fn kind(&self) -> &'static str {
        match self {
            OtpEvent::Created { .. } => "created",
            OtpEvent::LimitCheck { .. } => "limit_check",
            OtpEvent::Blocked { .. } => "blocked",
            OtpEvent::FraudGuard { .. } => "fraud_guard",
            OtpEvent::Superseded { .. } | OtpEvent::Canceled { .. } => "canceled",
            OtpEvent::AttemptSent { .. } => "attempt_sent",
            OtpEvent::DeliveryReport { .. } => "delivery_report",
            OtpEvent::Failover { .. } => "failover",
            OtpEvent::ReceiptRefused { .. } => "receipt_refused",
            OtpEvent::DeliveryFailed { .. } => "delivery_failed",
            OtpEvent::DeliveryRetry { .. } => "delivery_retry",
            OtpEvent::Fallback { .. } => "fallback",
            OtpEvent::Failed { .. } => "failed",
            OtpEvent::VerifyFailed { .. } => "verify_failed",
            OtpEvent::Verified => "verified",
            OtpEvent::Locked { .. } => "max_attempts",
            OtpEvent::Expired => "expired",
            OtpEvent::Callback { .. } => "callback",
        }
    }
}
