//! How a delivery moves on when a step did not work out: to the next provider of the channel,
//! to the workflow's next channel (same code), or to the OTP's failure. The delivery worker uses
//! it when a provider refuses, and delivery receipts when a provider reports a failure later.
use crate::domain::timeline::OtpEvent;
use crate::domain::{Channel, Otp};
use crate::server::clock::Millis;
use crate::server::db::jobs::JobKind;
use crate::server::db::otps::changes::{Move, OtpChanges, Selection};

/// After a failed attempt through provider `index` of `providers` on `step`: the next provider
/// of the channel, else the workflow's next channel, else the OTP's failure. True when a
/// delivery job was queued.
#[allow(clippy::too_many_arguments)]
pub fn move_on(
    changes: &mut OtpChanges,
    otp: &Otp,
    step: usize,
    index: usize,
    providers: &[String],
    channel: Channel,
    error: &str,
    now: Millis,
) -> bool {
    if let Some(next) = providers.get(index + 1) {
        changes
            .apply(Selection::one(&otp.sid).on_step(step), Move::Failover, now)
            .event(OtpEvent::Failover {
                channel,
                from: providers[index].clone(),
                to: next.clone(),
                reason: error.to_owned(),
            })
            .delivery(step, index + 1, now)
            .callback(false)
            .push();
        return true;
    }
    if otp.workflow.has_next(step) {
        return advance(changes, otp, step, "delivery failed", now);
    }
    fail(changes, otp, channel, error, now);
    false
}

/// Every channel failed: the OTP is `failed`.
pub fn fail(changes: &mut OtpChanges, otp: &Otp, channel: Channel, error: &str, now: Millis) {
    changes
        .apply(Selection::one(&otp.sid), Move::Fail, now)
        .event(OtpEvent::Failed {
            last_channel: channel,
            error: error.to_owned(),
        })
        .callback(otp.has_callback())
        .push();
}

/// Moves the OTP to the next workflow step and queues its delivery (same code, new channel),
/// if it is still active on this step when the changes run. False when there is no next step.
pub fn advance(
    changes: &mut OtpChanges,
    otp: &Otp,
    step: usize,
    reason: &str,
    now: Millis,
) -> bool {
    let next_step = step + 1;
    let (Some(from), Some(next)) = (otp.workflow.step(step), otp.workflow.step(next_step)) else {
        return false;
    };
    changes
        .apply(
            Selection::one(&otp.sid).on_step(step),
            Move::Advance {
                step: next_step,
                channel: next,
            },
            now,
        )
        .event(OtpEvent::Fallback {
            from,
            to: next,
            reason: reason.to_owned(),
        })
        .job(JobKind::Deliver, next_step, now)
        .callback(otp.has_callback())
        .push();
    true
}
