//! How codes leave the service. One trait for every provider kind: a provider gets a typed
//! message (an SMS text, what a call says, or an email) and answers a typed outcome; it never
//! touches the database. The [`ProviderRegistry`] resolves an account's channel to a provider.
//! Providers that confirm delivery later answer `Sent` and report through their callback; the
//! sandbox answers `Delivered` at once, with the outbox message the worker commits together
//! with the attempt.
pub mod registry;
pub mod sandbox;

use crate::domain::delivery::OutboxMessage;
use crate::domain::otp::{Millis, Voice};
use crate::domain::{AccountSid, Channel, OtpSid};

pub use registry::ProviderRegistry;

/// The kinds of provider there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    Sandbox,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Sandbox => "sandbox",
        }
    }
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// E.164 number or `client:<name>`.
    Phone(String),
    Email(String),
}

impl Recipient {
    pub fn as_str(&self) -> &str {
        match self {
            Recipient::Phone(v) | Recipient::Email(v) => v,
        }
    }
}

/// What a message says, by channel.
#[derive(Clone, PartialEq, Eq)]
pub enum Content {
    Sms {
        text: String,
    },
    /// What a call says (the code digit by digit), in which language and voice, how often.
    Voice {
        text: String,
        language: String,
        voice: Voice,
        repeat: i64,
    },
    Email {
        subject: String,
        text: String,
        html: Option<String>,
    },
}

impl Content {
    /// The text (SMS, what the call says, or the email's text part).
    pub fn text(&self) -> &str {
        match self {
            Content::Sms { text } | Content::Voice { text, .. } | Content::Email { text, .. } => {
                text
            }
        }
    }

    pub fn subject(&self) -> Option<&str> {
        match self {
            Content::Email { subject, .. } => Some(subject),
            _ => None,
        }
    }
}

/// The content holds the code: it is never printed.
impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Content(…)")
    }
}

/// One message to deliver for one workflow step of an OTP.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    pub account_sid: AccountSid,
    pub otp_sid: OtpSid,
    /// The workflow step: (otp_sid, step) identifies a delivery.
    pub step: usize,
    pub channel: Channel,
    pub to: Recipient,
    /// The sender (phone sender id or email address), if the request gave one.
    pub from: Option<String>,
    pub content: Content,
    /// The same for every retry of this delivery: providers that take an idempotency key get
    /// it, so a retry after a crash cannot produce a second message.
    pub idempotency_key: String,
    /// When the worker handed it over (the injected clock).
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderOutcome {
    /// Accepted and already delivered; `record` is the provider's own trace of it (the
    /// sandbox's outbox message), committed with the attempt.
    Delivered {
        provider_sid: String,
        record: Option<OutboxMessage>,
    },
    /// Accepted; a delivery report will follow.
    Sent { provider_sid: String },
    /// Will never work for this destination: move on to the next channel.
    Permanent(String),
    /// Might work later: retry with back-off.
    Transient(String),
}

#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;

    /// The name delivery attempts show.
    fn name(&self) -> String {
        self.kind().as_str().to_owned()
    }

    async fn deliver(&self, msg: &OutboundMessage) -> ProviderOutcome;
}
