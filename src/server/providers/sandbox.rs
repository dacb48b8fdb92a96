//! The sandbox provider: delivers into the account's test outbox (a message the worker commits
//! together with the delivery attempt). Destinations ending in `0000` (or an email local part
//! `fail`) fail permanently, to exercise fallback.
use super::{OutboundMessage, Provider, ProviderKind, ProviderOutcome, Recipient};
use crate::domain::delivery::OutboxMessage;

pub struct Sandbox;

/// Would the sandbox refuse this message?
pub fn rejects(to: &Recipient) -> bool {
    match to {
        Recipient::Phone(number) => number.ends_with("0000"),
        Recipient::Email(address) => address
            .rsplit_once('@')
            .is_some_and(|(local, _)| local.eq_ignore_ascii_case("fail")),
    }
}

#[async_trait::async_trait]
impl Provider for Sandbox {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Sandbox
    }

    async fn deliver(&self, msg: &OutboundMessage) -> ProviderOutcome {
        if rejects(&msg.to) {
            return ProviderOutcome::Permanent(
                "sandbox: this test destination always fails".into(),
            );
        }
        let (to, email_to) = match &msg.to {
            Recipient::Phone(p) => (Some(p.clone()), None),
            Recipient::Email(e) => (None, Some(e.clone())),
        };
        ProviderOutcome::Delivered {
            provider_sid: format!("SB{}-{}", &msg.otp_sid.as_str()[3..19], msg.step),
            record: Some(Box::new(OutboxMessage {
                account_sid: msg.account_sid.clone(),
                request_id: msg.otp_sid.clone(),
                step: msg.step,
                channel: msg.channel,
                to,
                email_to,
                from: msg.from.clone(),
                subject: msg.content.subject().map(str::to_owned),
                text: msg.content.text().to_owned(),
                code_shown: Some(msg.code_shown.expose().to_owned()).filter(|c| !c.is_empty()),
                date_created: msg.at,
            })),
        }
    }
}
