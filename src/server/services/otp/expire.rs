//! Expiry: an active OTP past its expiry becomes `expired` — when verify or cancel finds it so,
//! and when the sweeper looks for such OTPs.
use super::OtpService;
use crate::domain::timeline::OtpEvent;
use crate::domain::{Otp, OtpSid};
use crate::server::clock::Millis;
use crate::server::db::otps::changes::{Applied, Move, OtpChanges, Selection};

/// The expiry of one OTP, if it is still active and overdue when the changes run: its event,
/// its callback, then the status (the database then forgets the sealed code).
fn expiry(changes: &mut OtpChanges, sid: &OtpSid, now: Millis, callback: bool) -> Applied {
    changes
        .apply(Selection::one(sid).overdue(now), Move::Expire, now)
        .event(OtpEvent::Expired)
        .callback(callback)
        .push()
}

/// Moves an active, overdue OTP to `expired` (no-op when something else got there first).
pub async fn expire(svc: &OtpService, otp: &Otp, now: Millis) -> anyhow::Result<()> {
    let mut changes = OtpChanges::new();
    expiry(&mut changes, &otp.sid, now, true);
    changes.commit(svc.db()).await?;
    Ok(())
}

/// Expires up to 500 overdue OTPs (one transaction); returns how many.
pub async fn sweep(svc: &OtpService) -> anyhow::Result<usize> {
    let now = svc.now();
    let sids = crate::server::db::otps::overdue(svc.db(), now, 500).await?;
    if sids.is_empty() {
        return Ok(0);
    }
    let mut changes = OtpChanges::new();
    let applied: Vec<Applied> = sids
        .iter()
        .map(|sid| expiry(&mut changes, sid, now, true))
        .collect();
    let committed = changes.commit(svc.db()).await?;
    Ok(applied
        .into_iter()
        .filter(|a| committed.moved(*a) == 1)
        .count())
}
