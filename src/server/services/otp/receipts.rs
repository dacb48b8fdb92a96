//! Delivery receipts: a provider reports how a message or call went. The attempt is found by
//! the token of the URL we gave the provider (so a receipt that arrives before the provider's
//! answer still finds it) or by the provider's own id. Status only moves forward (a late `sent`
//! after `delivered` changes nothing; duplicates are harmless); `delivered` moves the OTP to
//! delivered; a failure (undelivered, failed, a call not answered) moves on to the next
//! provider or channel. Every receipt is in the timeline.
use super::progress::move_on;
use super::OtpService;
use crate::domain::provider::{ProviderKind, ProviderSetup, ReceiptStatus};
use crate::domain::timeline::OtpEvent;
use crate::domain::{AccountSid, Otp};
use crate::server::crypto;
use crate::server::db::otps::attempts::{self, Attempt};
use crate::server::db::otps::changes::{Move, OtpChanges, Selection};

/// A receipt as a provider posted it.
#[derive(Debug, Clone, Default)]
pub struct Receipt {
    /// The token of our callback URL (`?d=`), if it came back.
    pub token: Option<String>,
    /// The provider's id of the message or call.
    pub message_id: Option<String>,
    /// The provider's own status word.
    pub status: String,
    /// The provider's error code or words, if any.
    pub error: Option<String>,
}

/// What became of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Recorded (and the OTP moved, if it did).
    Recorded,
    /// No delivery of ours matches it.
    Unknown,
}

/// The names of the providers `otp`'s current channel is delivered through, in order, and the
/// position of `setup` among them.
pub type Lineup = (Vec<String>, Option<usize>);

pub async fn receive(
    svc: &OtpService,
    setup: &ProviderSetup,
    receipt: Receipt,
    lineup: impl AsyncFnOnce(&Otp) -> anyhow::Result<Lineup>,
) -> anyhow::Result<Received> {
    let Some(attempt) = find(svc, setup, &receipt).await? else {
        return Ok(Received::Unknown);
    };
    let Some(otp) = crate::server::db::otps::get(svc.db(), &attempt.otp_sid).await? else {
        return Ok(Received::Unknown);
    };
    let now = svc.now();
    let mut changes = OtpChanges::new();
    let reported = ReceiptStatus::parse(&receipt.status);
    let current = ReceiptStatus::from_attempt(&attempt.status).unwrap_or(ReceiptStatus::InProgress);
    let event = |status: &str| OtpEvent::DeliveryReport {
        channel: attempt.channel,
        status: status.to_owned(),
        provider: Some(attempt.provider.clone()),
        reported: Some(receipt.status.clone()),
        error: receipt.error.clone(),
    };
    let moves = reported.filter(|r| r.moves_from(current));
    let Some(new) = moves else {
        // Unknown words, duplicates and late ones: on record, nothing moves.
        changes.event(&otp.sid, now, &event("ignored"));
        changes.commit(svc.db()).await?;
        return Ok(Received::Recorded);
    };
    changes.receipt_status(
        &attempt.delivery_key,
        &attempt.status,
        new.as_str(),
        receipt.message_id.as_deref(),
        receipt.error.as_deref(),
        now,
    );
    match new {
        ReceiptStatus::Delivered => {
            changes.event(&otp.sid, now, &event(new.as_str()));
            changes
                .apply(
                    Selection::one(&otp.sid).on_step(attempt.step),
                    Move::ReportDelivered,
                    now,
                )
                .callback(otp.has_callback())
                .push();
        }
        ReceiptStatus::Failed => {
            changes.event(&otp.sid, now, &event(new.as_str()));
            // Only while the OTP is still waiting on this step (the guards of the moves).
            if otp.status.is_active() && otp.step == attempt.step {
                let (names, index) = lineup(&otp).await?;
                let error = receipt
                    .error
                    .clone()
                    .map(|e| format!("{} ({e})", receipt.status))
                    .unwrap_or_else(|| receipt.status.clone());
                let reason = format!("{} reported {error}", attempt.provider);
                let index = index.unwrap_or(names.len());
                if move_on(
                    &mut changes,
                    &otp,
                    attempt.step,
                    index,
                    &names,
                    attempt.channel,
                    &reason,
                    now,
                ) {
                    svc.signals().jobs_committed();
                }
            }
        }
        ReceiptStatus::Sent | ReceiptStatus::InProgress => {
            changes.event(&otp.sid, now, &event(new.as_str()));
        }
    }
    changes.commit(svc.db()).await?;
    svc.signals().jobs_committed();
    Ok(Received::Recorded)
}

/// The attempt a receipt is about: by our token, else by the provider's id.
async fn find(
    svc: &OtpService,
    setup: &ProviderSetup,
    receipt: &Receipt,
) -> anyhow::Result<Option<Attempt>> {
    if let Some(token) = receipt.token.as_deref().filter(|t| !t.is_empty()) {
        if let Some(a) = attempts::by_key(svc.db(), &crypto::hash_token(token)).await? {
            // The token must be one we gave this provider.
            return Ok((a.provider_ref.as_deref() == Some(setup.sid.as_str())).then_some(a));
        }
    }
    match receipt.message_id.as_deref().filter(|m| !m.is_empty()) {
        Some(id) => attempts::by_provider_sid(svc.db(), setup.sid.as_str(), id).await,
        None => Ok(None),
    }
}

/// Records a receipt we refused (a wrong or missing signature) in the timeline of the
/// delivery it names, when it names one.
pub async fn refused(
    svc: &OtpService,
    setup: &ProviderSetup,
    receipt: &Receipt,
    reason: &str,
) -> anyhow::Result<()> {
    if let Some(a) = find(svc, setup, receipt).await? {
        let mut changes = OtpChanges::new();
        changes.event(
            &a.otp_sid,
            svc.now(),
            &OtpEvent::ReceiptRefused {
                provider: a.provider,
                reason: reason.to_owned(),
            },
        );
        changes.commit(svc.db()).await?;
    }
    Ok(())
}

/// Is this provider's kind one whose receipts are signed (Twilio)?
pub fn signed(kind: ProviderKind) -> bool {
    kind == ProviderKind::Twilio
}

/// The account a receipt's provider belongs to (`None`: a server default).
pub fn owner(setup: &ProviderSetup) -> Option<&AccountSid> {
    setup.account_sid.as_ref()
}
