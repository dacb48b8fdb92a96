//! What a delivery leaves behind besides its attempt: the sandbox's outbox message.
use super::ids::{AccountSid, OtpSid};
use super::otp::{Channel, Millis};

/// A message in an account's sandbox outbox: what the user would have received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub account_sid: AccountSid,
    pub request_id: OtpSid,
    /// The workflow step it was delivered for: (request_id, step) is unique.
    pub step: usize,
    pub channel: Channel,
    pub to: Option<String>,
    pub email_to: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub text: String,
    /// The code as it appears in the text (masked there once the OTP is final).
    pub code_shown: Option<String>,
    pub date_created: Millis,
}
