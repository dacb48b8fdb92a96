//! The sandbox provider: delivers into the account's test outbox. Destinations ending in `0000`
//! (or an email local part `fail`) fail permanently, to exercise fallback.
use super::{OutboundMessage, Provider, ProviderOutcome};
use crate::on_db;
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

    async fn deliver(&self, db: &Db, msg: &OutboundMessage) -> ProviderOutcome {
        if rejects(msg) {
            return ProviderOutcome::Permanent(
                "sandbox: this test destination always fails".into(),
            );
        }
        // (otp_sid, step) is unique: a retried delivery after a crash does not duplicate the message.
        let _turn = crate::server::db::write_turn(db).await;
        let res = on_db!(db, pool => sqlx::query(
            "INSERT INTO sandbox_messages (account_sid, otp_sid, step, channel, to_number, email_to, from_sender, subject, text, date_created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (otp_sid, step) DO NOTHING")
            .bind(&msg.account_sid)
            .bind(&msg.otp_sid)
            .bind(msg.step)
            .bind(msg.channel.as_str())
            .bind(msg.to.as_deref())
            .bind(msg.email_to.as_deref())
            .bind(msg.from.as_deref().or(msg.email_from.as_deref()))
            .bind(msg.subject.as_deref())
            .bind(&msg.text)
            .bind(msg.at)
            .execute(pool).await.map(|_| ()));
        match res {
            Ok(_) => ProviderOutcome::Delivered {
                provider_sid: format!("SB{}-{}", &msg.otp_sid[3..19], msg.step),
            },
            Err(e) => ProviderOutcome::Transient(format!("sandbox outbox write failed: {e}")),
        }
    }
}
