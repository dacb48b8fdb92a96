//! Built-in destination protection (always on): at most 5 sends per destination per 10 minutes
//! and 20 per 24 hours for an account. Counted over the indexed OTP history of that one
//! destination, so the cost is bounded by the thresholds.
use super::{OtpError, OtpResult, OtpService};
use crate::domain::destination::Destination;
use crate::domain::protection::{lookback, refusal};
use crate::domain::AccountSid;
use crate::server::clock::Millis;

pub async fn check(
    svc: &OtpService,
    account: &AccountSid,
    destination: &Destination,
    now: Millis,
) -> OtpResult<()> {
    let (longest, most) = lookback();
    let recent =
        crate::server::db::otps::recent_sends(svc.db(), account, destination, now - longest, most)
            .await?;
    match refusal(&recent, now) {
        None => Ok(()),
        Some(r) => Err(OtpError::TooManySends {
            max: r.max,
            window_minutes: r.window_ms / 60_000,
            retry_after: r.retry_after,
        }),
    }
}
