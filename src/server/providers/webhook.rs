//! A webhook: the message as signed JSON to the account's own endpoint (`{channel, to, emailTo,
//! from, subject, text, language, voice, repeat, requestID, step}`), signed like status
//! callbacks (`X-Smart2FA-Signature`, the account's callback secret); 2xx means accepted.
use super::{
    http_outcome, Content, OutboundMessage, Provider, ProviderKind, ProviderOutcome, Recipient,
};
use crate::domain::provider::WebhookConfig;
use crate::domain::Secret;
use serde::Serialize;

pub struct Webhook {
    /// How long a call may take.
    pub timeout: std::time::Duration,
    pub name: String,
    pub config: WebhookConfig,
    /// The account's callback signing secret.
    pub secret: Secret,
    pub http: reqwest::Client,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    channel: &'a str,
    to: Option<&'a str>,
    email_to: Option<&'a str>,
    from: Option<&'a str>,
    subject: Option<&'a str>,
    text: &'a str,
    language: Option<&'a str>,
    voice: Option<&'a str>,
    repeat: Option<i64>,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    step: usize,
}

#[async_trait::async_trait]
impl Provider for Webhook {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Webhook
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    async fn deliver(&self, msg: &OutboundMessage) -> ProviderOutcome {
        let (to, email_to) = match &msg.to {
            Recipient::Phone(p) => (Some(p.as_str()), None),
            Recipient::Email(e) => (None, Some(e.as_str())),
        };
        let (language, voice, repeat) = match &msg.content {
            Content::Voice {
                language,
                voice,
                repeat,
                ..
            } => (Some(language.as_str()), Some(voice.as_str()), Some(*repeat)),
            _ => (None, None, None),
        };
        let request_id = msg.otp_sid.to_string();
        let body = serde_json::to_string(&Body {
            channel: msg.channel.as_str(),
            to,
            email_to,
            from: msg.from.as_deref(),
            subject: msg.content.subject(),
            text: msg.content.text(),
            language,
            voice,
            repeat,
            request_id: &request_id,
            step: msg.step,
        })
        .expect("plain fields serialize");
        let t = msg.at / 1000;
        let res = self
            .http
            .post(&self.config.url)
            .header("content-type", "application/json")
            .header(
                crate::server::workers::callbacks::SIGNATURE_HEADER,
                crate::server::workers::callbacks::signature(self.secret.expose(), t, &body),
            )
            .header("Idempotency-Key", &msg.idempotency_key)
            .body(body)
            .timeout(self.timeout)
            .send()
            .await;
        http_outcome(res, |json| {
            json.get("id").and_then(|v| v.as_str()).map(str::to_owned)
        })
        .await
    }
}
