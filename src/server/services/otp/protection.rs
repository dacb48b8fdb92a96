//! Destination protection (always on): at most so many sends per destination per 10 minutes
//! and per 24 hours for an account (its defaults; 5 and 20 built in). Counted over the indexed OTP history of that one
//! destination, so the cost is bounded by the thresholds.
use super::{OtpError, OtpResult, OtpService};
use crate::domain::destination::Destination;
use crate::domain::protection::{refusal, Protection};
use crate::domain::AccountSid;
use crate::server::clock::Millis;

pub async fn check(
    svc: &OtpService,
    account: &AccountSid,
    destination: &Destination,
    rule: Protection,
    now: Millis,
) -> OtpResult<()> {
    let (longest, most) = rule.lookback();
    let recent =
        crate::server::db::otps::recent_sends(svc.db(), account, destination, now - longest, most)
            .await?;
    match refusal(rule, &recent, now) {
        None => Ok(()),
        Some(r) => Err(OtpError::TooManySends {
            max: r.max,
            window_minutes: r.window_ms / 60_000,
            retry_after: r.retry_after,
        }),
    }
}

/// A refusal when the destination's sends filled a window as this send was being written (the
/// window's length is the longest wait).
pub fn refused_now(rule: Protection) -> OtpError {
    let (max, window_ms) = rule.windows()[0];
    OtpError::TooManySends {
        max,
        window_minutes: window_ms / 60_000,
        retry_after: (window_ms / 1000) as u64,
    }
}
