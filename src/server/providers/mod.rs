//! How codes leave the service. One trait for every provider kind: a provider gets a typed
//! message (an SMS text, what a call says, or an email) and answers a typed outcome; it never
//! touches the database. The [`ProviderRegistry`] resolves an account's channel to a provider.
//! Providers that confirm delivery later answer `Sent` and report through their callback; the
//! sandbox answers `Delivered` at once, with the outbox message the worker commits together
//! with the attempt.
pub mod cpaas;
pub mod http_gateway;
pub mod registry;
pub mod sandbox;
pub mod smtp;
pub mod webhook;

use crate::domain::delivery::OutboxMessage;
use crate::domain::otp::{Millis, Voice};
use crate::domain::{AccountSid, Channel, OtpSid};

pub use crate::domain::provider::ProviderKind;
pub use registry::ProviderRegistry;

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
    /// The same for every retry of this delivery through this provider: providers that take
    /// an idempotency key get it, so a retry after a crash cannot produce a second message.
    pub idempotency_key: String,
    /// Where the provider posts its delivery receipts (providers that send them).
    pub receipt_url: Option<String>,
    /// Where a voice provider fetches what the call says.
    pub voice_url: Option<String>,
    /// The code as the text shows it ("481592", or "4, 8, 1, 5, 9, 2" in a call): only the
    /// sandbox uses it, to mask its outbox copy once the OTP is final.
    pub code_shown: crate::domain::Secret,
    /// When the worker handed it over (the injected clock).
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderOutcome {
    /// Accepted and already delivered; `record` is the provider's own trace of it (the
    /// sandbox's outbox message), committed with the attempt.
    Delivered {
        provider_sid: String,
        record: Option<Box<OutboxMessage>>,
    },
    /// Accepted; a delivery report will follow.
    Sent { provider_sid: String },
    /// Will never work for this destination: move on to the next channel.
    Permanent(String),
    /// Might work later: retry with back-off.
    Transient(String),
}

/// An HTTP answer a provider API gave, as an outcome: 2xx accepted (with the id read by
/// `message_id`), 429/5xx transient, other 4xx permanent (with the answer's own words).
pub(crate) async fn http_outcome(
    res: Result<reqwest::Response, reqwest::Error>,
    message_id: impl FnOnce(&serde_json::Value) -> Option<String>,
) -> ProviderOutcome {
    let res = match res {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return ProviderOutcome::Transient("the provider did not answer in time".into())
        }
        Err(e) if e.is_connect() => {
            return ProviderOutcome::Transient(connection_failure(&root_cause(&e)))
        }
        Err(e) => return ProviderOutcome::Transient(format!("request failed: {}", root_cause(&e))),
    };
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    if status.is_success() {
        let id = message_id(&json).unwrap_or_default();
        return ProviderOutcome::Sent { provider_sid: id };
    }
    let said = ["message", "error", "error_message", "detail"]
        .iter()
        .find_map(|k| json.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
        .or_else(|| {
            Some(text.chars().take(200).collect::<String>()).filter(|t| !t.trim().is_empty())
        });
    let code = json
        .get("code")
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    let words = format!(
        "HTTP {}{code}{}",
        status.as_u16(),
        said.map(|s| format!(": {s}")).unwrap_or_default()
    );
    if status.as_u16() == 429 || status.is_server_error() {
        ProviderOutcome::Transient(words)
    } else {
        ProviderOutcome::Permanent(words)
    }
}

/// A failed connection in words a person can act on, with the system's own words after them.
pub(crate) fn connection_failure(cause: &str) -> String {
    let lower = cause.to_ascii_lowercase();
    let words = if lower.contains("lookup address")
        || lower.contains("name or service not known")
        || lower.contains("no address associated")
        || lower.contains("failed to resolve")
    {
        "the host name does not resolve"
    } else if lower.contains("connection refused") {
        "connection refused (nothing accepts connections at that host and port)"
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        "TLS failure"
    } else if lower.contains("timed out") {
        "the connection timed out"
    } else if lower.contains("unreachable") {
        "the host is unreachable"
    } else {
        "connection failed"
    };
    format!("{words}: {cause}")
}

/// The innermost cause of an error, in words (a refused connection, a TLS failure…).
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
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

#[cfg(test)]
mod tests {
    use super::connection_failure;

    #[test]
    fn connection_failures_in_words() {
        let cases = [
            (
                "failed to lookup address information: Name or service not known",
                "the host name does not resolve",
            ),
            ("Connection refused (os error 111)", "connection refused"),
            ("invalid peer certificate: UnknownIssuer", "TLS failure"),
            ("connection timed out", "the connection timed out"),
            ("something else", "connection failed"),
        ];
        for (cause, words) in cases {
            let said = connection_failure(cause);
            assert!(said.starts_with(words), "{cause} → {said}");
            assert!(said.ends_with(cause), "the system's words are kept: {said}");
        }
    }
}
