//! Delivery jobs: deliver a workflow step through its provider, or fall back to the next
//! channel when a step was not verified in time. Every outcome, its timeline events and its
//! status change are committed together with the job's completion.
use crate::domain::template;
use crate::domain::timeline::OtpEvent;
use crate::domain::{Channel, Otp};
use crate::server::clock::Millis;
use crate::server::crypto;
use crate::server::db::jobs::{self, Job, JobKind};
use crate::server::db::otps::changes::{Move, NewAttempt, OtpChanges, Selection};
use crate::server::db::script::Script;
use crate::server::providers::{Content, OutboundMessage, ProviderOutcome, Recipient};
use crate::server::state::AppState;

/// After this many transient failures a delivery counts as failed.
const MAX_TRIES: i64 = 8;

pub async fn process(state: &AppState, job: Job) -> anyhow::Result<()> {
    let now = state.clock().now_ms();
    let Some((otp, sealed)) =
        crate::server::db::otps::get_with_sealed_code(state.db(), &job.otp_sid).await?
    else {
        return jobs::complete(state.db(), job.id, now, Some("OTP not found")).await;
    };
    // Stale job: the OTP is final or already on another step.
    if otp.status.is_final() || otp.step != job.step {
        return jobs::complete(state.db(), job.id, now, None).await;
    }
    match job.kind {
        Some(JobKind::Fallback) => {
            fallback(state, &job, &otp, "not verified within workflowTimeout").await
        }
        _ => deliver(state, &job, &otp, sealed).await,
    }
}

/// The job's completion, among the changes of what it did.
fn job_done(changes: &mut OtpChanges, job: &Job, now: Millis) {
    let mut s = Script::new();
    jobs::done(&mut s, job.id, now, None);
    changes.extend(s);
}

/// The message for this step: the template (or the request's body) filled with the code.
fn message(
    state: &AppState,
    job: &Job,
    otp: &Otp,
    channel: Channel,
    code: &str,
) -> OutboundMessage {
    let ttl = otp.ttl_minutes();
    let body = otp
        .body
        .clone()
        .unwrap_or_else(|| template::default_body(channel).to_owned());
    let text = template::render(&body, channel, code, &otp.service, ttl);
    let content = match channel {
        Channel::Sms => Content::Sms { text },
        Channel::Call => Content::Voice {
            text,
            language: otp.language.clone(),
            voice: otp.voice,
            repeat: otp.repeat,
        },
        Channel::Email => Content::Email {
            subject: template::render(
                otp.subject
                    .as_deref()
                    .unwrap_or(template::default_subject()),
                Channel::Email,
                code,
                &otp.service,
                ttl,
            ),
            text,
            html: None,
        },
    };
    let (to, from) = if channel.uses_phone() {
        (
            Recipient::Phone(otp.to.clone().unwrap_or_default()),
            otp.from.clone(),
        )
    } else {
        (
            Recipient::Email(otp.email_to.clone().unwrap_or_default()),
            otp.email_from.clone(),
        )
    };
    OutboundMessage {
        account_sid: otp.account_sid.clone(),
        otp_sid: otp.sid.clone(),
        step: job.step,
        channel,
        to,
        from,
        content,
        idempotency_key: format!("{}-{}", otp.sid, job.step),
        at: state.clock().now_ms(),
    }
}

async fn deliver(
    state: &AppState,
    job: &Job,
    otp: &Otp,
    sealed: Option<String>,
) -> anyhow::Result<()> {
    let Some(channel) = otp.workflow.step(job.step) else {
        let now = state.clock().now_ms();
        return jobs::complete(state.db(), job.id, now, Some("no such workflow step")).await;
    };
    let code = sealed.and_then(|s| crypto::open(state.otp().code_key(), otp.sid.as_str(), &s));
    let Some(code) = code else {
        tracing::error!(request_id = %otp.sid, "sealed code missing or unreadable; failing the OTP");
        let now = state.clock().now_ms();
        let mut changes = OtpChanges::new();
        fail(
            &mut changes,
            otp,
            channel,
            "internal: code unavailable",
            now,
        );
        job_done(&mut changes, job, now);
        changes.commit(state.db()).await?;
        return Ok(());
    };
    let msg = message(state, job, otp, channel, &code);
    drop(code);
    let provider = state.providers().resolve(&otp.account_sid, channel);
    let outcome = provider.deliver(&msg).await;
    let name = provider.name();
    let now = state.clock().now_ms();
    match outcome {
        ProviderOutcome::Delivered {
            provider_sid,
            record,
        } => {
            let accepted = Accepted {
                channel,
                provider: &name,
                provider_sid: &provider_sid,
                delivered: true,
                record,
            };
            record_accepted(state, job, otp, accepted, now).await
        }
        ProviderOutcome::Sent { provider_sid } => {
            let accepted = Accepted {
                channel,
                provider: &name,
                provider_sid: &provider_sid,
                delivered: false,
                record: None,
            };
            record_accepted(state, job, otp, accepted, now).await
        }
        ProviderOutcome::Permanent(err) => {
            record_failure(state, job, otp, channel, &name, &err, now).await
        }
        ProviderOutcome::Transient(err) if job.tries < MAX_TRIES => {
            tracing::warn!(request_id = %otp.sid, tries = job.tries, error = %err, "delivery failed; will retry");
            let retry_at = now + jobs::backoff_ms(job.tries);
            // The retry event and the rescheduled job, together.
            let mut changes = OtpChanges::new();
            changes.event(
                &otp.sid,
                now,
                &OtpEvent::DeliveryRetry {
                    channel,
                    provider: name.clone(),
                    error: err.clone(),
                    try_no: job.tries,
                    retry_at,
                },
            );
            let mut s = Script::new();
            jobs::retry_later(&mut s, job.id, retry_at, &err);
            changes.extend(s);
            changes.commit(state.db()).await?;
            Ok(())
        }
        ProviderOutcome::Transient(err) => {
            let error = format!("gave up after {} tries: {err}", job.tries);
            record_failure(state, job, otp, channel, &name, &error, now).await
        }
    }
}

/// What a provider answered when it took the message.
struct Accepted<'a> {
    channel: Channel,
    provider: &'a str,
    provider_sid: &'a str,
    /// Delivered already (else a delivery report follows).
    delivered: bool,
    /// The provider's own trace (the sandbox's outbox message).
    record: Option<crate::domain::delivery::OutboxMessage>,
}

/// The provider accepted the message: its trace, the attempt, the status, events, the workflow
/// timer for the next channel and the job's completion, in one transaction.
async fn record_accepted(
    state: &AppState,
    job: &Job,
    otp: &Otp,
    a: Accepted<'_>,
    now: Millis,
) -> anyhow::Result<()> {
    let mut changes = OtpChanges::new();
    if let Some(record) = &a.record {
        let mut s = Script::new();
        crate::server::db::sandbox::record(&mut s, record);
        changes.extend(s);
    }
    let status = if a.delivered { "delivered" } else { "sent" };
    changes.attempt(
        &otp.sid,
        &NewAttempt {
            channel: a.channel,
            provider: a.provider,
            provider_sid: Some(a.provider_sid),
            status,
            error: None,
        },
        now,
    );
    // Still on this step and active: then (and only then) the status moves.
    let movement = if a.delivered {
        Move::ReportDelivered
    } else {
        Move::Deliver
    };
    let mut moving = changes
        .apply(Selection::one(&otp.sid).on_step(job.step), movement, now)
        .event(OtpEvent::AttemptSent {
            channel: a.channel,
            provider: a.provider.to_owned(),
            provider_sid: a.provider_sid.to_owned(),
        })
        .callback(otp.has_callback());
    if a.delivered {
        moving = moving.event(OtpEvent::DeliveryReport {
            channel: a.channel,
            status: "delivered".into(),
        });
    }
    if otp.workflow.has_next(job.step) {
        moving = moving.job(
            JobKind::Fallback,
            job.step,
            now + otp.workflow_timeout_secs * 1000,
        );
    }
    moving.push();
    job_done(&mut changes, job, now);
    changes.commit(state.db()).await?;
    tracing::info!(request_id = %otp.sid, channel = a.channel.as_str(), provider = a.provider, status, "otp delivered to provider");
    Ok(())
}

/// The step failed for good: the failed attempt, and the move to the next channel (or the
/// OTP's failure), committed together.
async fn record_failure(
    state: &AppState,
    job: &Job,
    otp: &Otp,
    channel: Channel,
    provider: &str,
    error: &str,
    now: Millis,
) -> anyhow::Result<()> {
    tracing::warn!(request_id = %otp.sid, channel = channel.as_str(), error, "delivery failed");
    let mut changes = OtpChanges::new();
    changes.attempt(
        &otp.sid,
        &NewAttempt {
            channel,
            provider,
            provider_sid: None,
            status: "failed",
            error: Some(error),
        },
        now,
    );
    changes.event(
        &otp.sid,
        now,
        &OtpEvent::DeliveryFailed {
            channel,
            provider: provider.to_owned(),
            error: error.to_owned(),
        },
    );
    let advanced = if otp.workflow.has_next(job.step) {
        advance(&mut changes, job, otp, "delivery failed", now)
    } else {
        fail(&mut changes, otp, channel, error, now);
        false
    };
    job_done(&mut changes, job, now);
    changes.commit(state.db()).await?;
    if advanced {
        state.signals().jobs_committed();
    }
    Ok(())
}

/// Every channel failed: the OTP is `failed`.
fn fail(changes: &mut OtpChanges, otp: &Otp, channel: Channel, error: &str, now: Millis) {
    changes
        .apply(Selection::one(&otp.sid), Move::Fail, now)
        .event(OtpEvent::Failed {
            last_channel: channel,
            error: error.to_owned(),
        })
        .callback(otp.has_callback())
        .push();
}

/// The workflow timer fired: if the step is still current and unverified, try the next channel.
async fn fallback(state: &AppState, job: &Job, otp: &Otp, reason: &str) -> anyhow::Result<()> {
    let now = state.clock().now_ms();
    let mut changes = OtpChanges::new();
    let advanced = otp.workflow.has_next(job.step) && advance(&mut changes, job, otp, reason, now);
    job_done(&mut changes, job, now);
    changes.commit(state.db()).await?;
    if advanced {
        state.signals().jobs_committed();
    }
    Ok(())
}

/// Moves the OTP to the next workflow step and queues its delivery (same code, new channel),
/// if it is still active on this step when the changes run. False when there is no next step.
fn advance(changes: &mut OtpChanges, job: &Job, otp: &Otp, reason: &str, now: Millis) -> bool {
    let next_step = job.step + 1;
    let (Some(from), Some(next)) = (otp.workflow.step(job.step), otp.workflow.step(next_step))
    else {
        return false;
    };
    changes
        .apply(
            Selection::one(&otp.sid).on_step(job.step),
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
