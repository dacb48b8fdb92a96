//! How codes leave the service. One trait for every provider kind (sandbox now; restcomm,
//! twilio, smtp and webhook later): SMS text, a text-to-speech document, email with subject,
//! text and HTML. Providers that confirm delivery later answer `Sent` and report through their
//! callback; the sandbox answers `Delivered` at once.
pub mod sandbox;

use crate::domain::Channel;
use crate::server::db::Db;

/// One message to deliver for one workflow step of an OTP.
#[derive(Clone)]
pub struct OutboundMessage {
    pub otp_sid: String,
    pub account_sid: String,
    /// The workflow index: (otp_sid, step) identifies a delivery, which makes retries idempotent.
    pub step: i32,
    pub channel: Channel,
    pub to: Option<String>,
    pub email_to: Option<String>,
    pub from: Option<String>,
    pub email_from: Option<String>,
    pub subject: Option<String>,
    /// SMS text, email text, or what the call says.
    pub text: String,
    pub html: Option<String>,
    pub language: String,
    pub voice: String,
    pub repeat: i32,
    /// When the worker handed it over (the injected clock).
    pub at: crate::server::clock::Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderOutcome {
    /// Accepted and already delivered.
    Delivered { provider_sid: String },
    /// Accepted; a delivery report will follow.
    Sent { provider_sid: String },
    /// Will never work for this destination: move on to the next channel.
    Permanent(String),
    /// Might work later: retry with back-off.
    Transient(String),
}

#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;
    async fn deliver(&self, db: &Db, msg: &OutboundMessage) -> ProviderOutcome;
    /// Rows a successful delivery consists of, committed in the same transaction as its attempt
    /// record (the sandbox's outbox message). Providers that deliver over the network have none.
    fn records(&self, _msg: &OutboundMessage) -> crate::server::db::script::Script {
        crate::server::db::script::Script::new()
    }
}

/// The provider for an account and channel. Every account uses the sandbox until another
/// provider is configured (Settings → Channels, a later issue).
pub fn for_channel(
    state: &crate::server::state::AppState,
    _account: &str,
    _channel: Channel,
) -> std::sync::Arc<dyn Provider> {
    if let Some(p) = state
        .inner
        .provider_override
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
    {
        return p;
    }
    std::sync::Arc::new(sandbox::Sandbox)
}
