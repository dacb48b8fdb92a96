//! Cancel an active OTP; a final one is refused with its state (an overdue one the sweeper has
//! not reached yet is expired first, so it answers `expired`).
use super::expire::expire;
use super::verify::load;
use super::{OtpError, OtpResult, OtpService};
use crate::domain::timeline::OtpEvent;
use crate::domain::Otp;
use crate::server::db::otps::changes::{Move, OtpChanges, Selection};
use crate::server::db::otps::{self as store};
use crate::server::services::AccountScope;

#[derive(Debug, Clone)]
pub struct CancelCommand {
    /// The requestID as the caller gave it.
    pub request_id: String,
    /// Why, for the timeline (default "requested").
    pub reason: Option<String>,
    /// Who: `api` or `console`.
    pub by: &'static str,
}

pub async fn cancel(svc: &OtpService, scope: &AccountScope, cmd: CancelCommand) -> OtpResult<Otp> {
    let otp = load(svc, scope, &cmd.request_id).await?;
    let now = svc.now();
    let reason = cmd.reason.unwrap_or_else(|| "requested".into());
    // Only if it is still active and unexpired when the changes run.
    let mut changes = OtpChanges::new();
    let canceled = changes
        .apply(
            Selection::one(&otp.sid).unexpired(now),
            Move::Cancel { reason: &reason },
            now,
        )
        .event(OtpEvent::Canceled {
            reason: reason.clone(),
            by: cmd.by.to_owned(),
        })
        .callback(otp.has_callback())
        .push();
    let moved = changes.commit(svc.db()).await?.moved(canceled) == 1;
    let mut current = store::get(svc.db(), &otp.sid)
        .await?
        .ok_or(OtpError::NotFound)?;
    if !moved {
        if current.status.is_active() {
            // Still active, so it was overdue: it expires now, as a verify would find it.
            expire(svc, &current, now).await?;
            current = store::get(svc.db(), &otp.sid)
                .await?
                .ok_or(OtpError::NotFound)?;
        }
        return Err(OtpError::NotCancelable(current.status));
    }
    svc.signals().jobs_committed();
    Ok(current)
}
