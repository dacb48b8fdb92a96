//! The sandbox provider: delivers into the account's test outbox (a row committed together with
//! the delivery attempt). Destinations ending in `0000` (or an email local part `fail`) fail
//! permanently, to exercise fallback.
use super::{OutboundMessage, Provider, ProviderOutcome};
use crate::args;
use crate::server::db::script::Script;
use crate::server::db::Db;

pub struct Sandbox;

/// Would the sandbox refuse this message?
pub fn rejects(msg: &OutboundMessage) -> bool {
    if msg.channel.uses_phone() {
        msg.to.as_deref().is_some_and(|t| t.ends_with("0000"))
    } else {
        msg.email_to
            .as_deref()
            .and_then(|e| e.rsplit_once('@'))
            .is_some_and(|(local, _)| local.eq_ignore_ascii_case("fail"))
    }
}

#[async_trait::async_trait]
impl Provider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn deliver(&self, _db: &Db, msg: &OutboundMessage) -> ProviderOutcome {
        if rejects(msg) {
            return ProviderOutcome::Permanent(
                "sandbox: this test destination always fails".into(),
            );
        }
        ProviderOutcome::Delivered {
            provider_sid: format!("SB{}-{}", &msg.otp_sid[3..19], msg.step),
        }
    }

    /// The outbox message, written with the attempt (so it exists exactly when the attempt
    /// says delivered). (otp_sid, step) is unique: a retried delivery never duplicates it.
    fn records(&self, msg: &OutboundMessage) -> Script {
        let mut s = Script::new();
        s.push(
            "INSERT INTO sandbox_messages (account_sid, otp_sid, step, channel, to_number, email_to, from_sender, subject, text, date_created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (otp_sid, step) DO NOTHING",
            args![
                msg.account_sid.as_str(),
                msg.otp_sid.as_str(),
                msg.step,
                msg.channel.as_str(),
                msg.to.as_deref(),
                msg.email_to.as_deref(),
                msg.from.as_deref().or(msg.email_from.as_deref()),
                msg.subject.as_deref(),
                msg.text.as_str(),
                msg.at
            ],
        );
        s
    }
}
