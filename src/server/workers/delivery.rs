//! One job: deliver a workflow step through its provider, or fall back to the next channel
//! when a step was not verified in time. Every outcome and its timeline events are committed
//! together with the job's completion.
use super::queue;
use crate::args;
use crate::domain::{template, Channel, OtpStatus};
use crate::on_db;
use crate::server::crypto;
use crate::server::db::otps::{JobRow, OtpRow, ACTIVE, COLUMNS, INSERT_ATTEMPT};
use crate::server::db::script::Script;
use crate::server::providers::{self, OutboundMessage, ProviderOutcome};
use crate::server::services::otp::changes::Otps;
use crate::server::services::otp::events;
use crate::server::state::AppState;
use serde_json::json;

/// After this many transient failures a delivery counts as failed.
const MAX_TRIES: i32 = 8;

pub async fn process(state: &AppState, job: JobRow) -> anyhow::Result<()> {
    let Some(Loaded { row, sealed }) = load(state, &job.otp_sid).await? else {
        return complete(state, job.id, Some("OTP not found")).await;
    };
    if job.kind == "callback" {
        return super::callbacks::post(state, &job, &row).await;
    }
    let status = OtpStatus::parse(&row.status).unwrap_or(OtpStatus::Failed);
    // Stale job: the OTP is final or already on another step.
    if status.is_final() || row.workflow_index != job.step {
        return complete(state, job.id, None).await;
    }
    match job.kind.as_str() {
        "deliver" => deliver(state, &job, &row, sealed).await,
        "fallback" => fallback(state, &job, &row, "not verified within workflowTimeout").await,
        other => complete(state, job.id, Some(&format!("unknown job kind {other}"))).await,
    }
}

#[derive(sqlx::FromRow)]
struct Loaded {
    #[sqlx(flatten)]
    row: OtpRow,
    sealed: Option<String>,
}

/// The OTP and its sealed code (gone once the OTP is final) in one read.
async fn load(state: &AppState, sid: &str) -> anyhow::Result<Option<Loaded>> {
    let sql = format!(
        "SELECT {COLUMNS}, (SELECT sealed FROM otp_codes WHERE otp_sid = $1) AS sealed FROM otps WHERE sid = $1"
    );
    Ok(
        on_db!(state.db(), pool => sqlx::query_as::<_, Loaded>(&sql).bind(sid).fetch_optional(pool).await)?,
    )
}

pub(super) async fn complete(state: &AppState, id: i64, error: Option<&str>) -> anyhow::Result<()> {
    let now = state.clock().now_ms();
    let mut s = Script::new();
    s.push(
        "UPDATE jobs SET done_at = $1, last_error = $2 WHERE id = $3",
        args![now, error, id],
    );
    crate::server::db::commit_script(state.db(), s).await?;
    Ok(())
}

/// The OTP while it is still active on this workflow step (a job's changes apply only then).
fn on_step(row: &OtpRow, step: i32) -> Otps {
    Otps::one(&row.sid).and(
        &format!("status IN {ACTIVE} AND workflow_index = $1"),
        args![step],
    )
}

/// The delivery attempt's record.
#[allow(clippy::too_many_arguments)]
fn attempt(
    s: &mut Script,
    row: &OtpRow,
    channel: Channel,
    provider: &str,
    provider_sid: Option<&str>,
    status: &str,
    error: Option<&str>,
    now: i64,
) {
    s.push(
        INSERT_ATTEMPT,
        args![
            row.sid.as_str(),
            channel.as_str(),
            provider,
            provider_sid,
            status,
            error,
            now
        ],
    );
}

/// The job's completion, in the script of what it did.
fn job_done(s: &mut Script, id: i64, now: i64) {
    s.push("UPDATE jobs SET done_at = $1 WHERE id = $2", args![now, id]);
}

fn workflow(row: &OtpRow) -> Vec<Channel> {
    row.workflow.split(',').filter_map(Channel::parse).collect()
}

async fn deliver(
    state: &AppState,
    job: &JobRow,
    row: &OtpRow,
    sealed: Option<String>,
) -> anyhow::Result<()> {
    let steps = workflow(row);
    let Some(&channel) = steps.get(job.step as usize) else {
        return complete(state, job.id, Some("no such workflow step")).await;
    };
    let code = sealed.and_then(|s| crypto::open(&state.inner.secrets.code_hash_key, &row.sid, &s));
    let Some(code) = code else {
        tracing::error!(request_id = %row.sid, "sealed code missing or unreadable; failing the OTP");
        let now = state.clock().now_ms();
        return finish_failed(
            state,
            Script::new(),
            job,
            row,
            channel,
            "internal: code unavailable",
            now,
        )
        .await;
    };
    let ttl_minutes = ((row.expires_at - row.date_created) / 60_000).max(1) as u64;
    let body_template = row
        .body
        .clone()
        .unwrap_or_else(|| template::default_body(channel).to_owned());
    let text = template::render(&body_template, channel, &code, &row.service, ttl_minutes);
    let subject = (channel == Channel::Email).then(|| {
        template::render(
            row.subject
                .as_deref()
                .unwrap_or(template::default_subject()),
            Channel::Email,
            &code,
            &row.service,
            ttl_minutes,
        )
    });
    drop(code);
    let msg = OutboundMessage {
        otp_sid: row.sid.clone(),
        account_sid: row.account_sid.clone(),
        step: job.step,
        channel,
        to: row.to_number.clone(),
        email_to: row.email_to.clone(),
        from: row.from_sender.clone(),
        email_from: row.email_from.clone(),
        subject,
        text,
        html: None,
        language: row.language.clone(),
        voice: row.voice.clone(),
        repeat: row.repeat_count,
        at: state.clock().now_ms(),
    };
    let provider = providers::for_channel(state, &row.account_sid, channel);
    let outcome = provider.deliver(state.db(), &msg).await;
    let now = state.clock().now_ms();
    let delivered = matches!(outcome, ProviderOutcome::Delivered { .. });
    match outcome {
        ProviderOutcome::Delivered { provider_sid } | ProviderOutcome::Sent { provider_sid } => {
            let success = Success {
                channel,
                provider: provider.name(),
                provider_sid,
                delivered,
                records: provider.records(&msg),
            };
            record_success(state, job, row, success, now).await
        }
        ProviderOutcome::Permanent(err) => {
            record_failure_and_fall_back(state, job, row, channel, provider.name(), &err, now).await
        }
        ProviderOutcome::Transient(err) if job.tries < MAX_TRIES => {
            tracing::warn!(request_id = %row.sid, tries = job.tries, error = %err, "delivery failed; will retry");
            let retry_at = now + queue::backoff_ms(job.tries);
            let detail = json!({"channel": channel.as_str(), "provider": provider.name(), "error": err, "try": job.tries, "retryAt": crate::server::clock::rfc3339(retry_at)});
            // The retry event and the rescheduled job, together.
            let mut s = Script::new();
            Otps::one(&row.sid).event(&mut s, now, events::DELIVERY_RETRY, &detail);
            queue::retry_later(&mut s, job.id, retry_at, &err);
            crate::server::db::commit_script(state.db(), s).await?;
            Ok(())
        }
        ProviderOutcome::Transient(err) => {
            record_failure_and_fall_back(
                state,
                job,
                row,
                channel,
                provider.name(),
                &format!("gave up after {} tries: {err}", job.tries),
                now,
            )
            .await
        }
    }
}

/// What a provider answered when it took the message.
struct Success {
    channel: Channel,
    provider: &'static str,
    provider_sid: String,
    /// Delivered already (else a delivery report follows).
    delivered: bool,
    /// The provider's own rows (the sandbox outbox message).
    records: Script,
}

/// The provider accepted the message: its rows, the attempt, the status, events, the workflow
/// timer for the next channel and the job's completion, in one transaction and one script.
async fn record_success(
    state: &AppState,
    job: &JobRow,
    row: &OtpRow,
    success: Success,
    now: i64,
) -> anyhow::Result<()> {
    let Success {
        channel,
        provider,
        provider_sid,
        delivered,
        records,
    } = success;
    let has_next = (job.step as usize) + 1 < workflow(row).len();
    let status = if delivered { "delivered" } else { "sent" };
    let mut s = records;
    attempt(
        &mut s,
        row,
        channel,
        provider,
        Some(&provider_sid),
        status,
        None,
        now,
    );
    // Still on this step and active: then (and only then) the status moves.
    let moving = on_step(row, job.step);
    moving.event(
        &mut s,
        now,
        events::ATTEMPT_SENT,
        &json!({"channel": channel.as_str(), "provider": provider, "providerSid": provider_sid}),
    );
    if row.status_callback.is_some() {
        moving.callback(&mut s, now, status);
    }
    if delivered {
        moving.event(
            &mut s,
            now,
            events::DELIVERY_REPORT,
            &json!({"channel": channel.as_str(), "status": "delivered"}),
        );
    }
    if has_next {
        moving.job(
            &mut s,
            "fallback",
            job.step,
            now + i64::from(row.workflow_timeout) * 1000,
        );
    }
    moving.update(
        &mut s,
        "status = $1, sent_at = COALESCE(sent_at, $2), delivered_at = CASE WHEN $1 = 'delivered' THEN $2 ELSE delivered_at END, date_updated = $2",
        args![status, now],
    );
    job_done(&mut s, job.id, now);
    crate::server::db::commit_script(state.db(), s).await?;
    tracing::info!(request_id = %row.sid, channel = channel.as_str(), provider, status, "otp delivered to provider");
    Ok(())
}

/// The step failed for good: the failed attempt, and the move to the next channel (or the
/// OTP's failure), committed together.
async fn record_failure_and_fall_back(
    state: &AppState,
    job: &JobRow,
    row: &OtpRow,
    channel: Channel,
    provider: &str,
    error: &str,
    now: i64,
) -> anyhow::Result<()> {
    tracing::warn!(request_id = %row.sid, channel = channel.as_str(), error, "delivery failed");
    let mut s = Script::new();
    attempt(
        &mut s,
        row,
        channel,
        provider,
        None,
        "failed",
        Some(error),
        now,
    );
    Otps::one(&row.sid).event(
        &mut s,
        now,
        events::DELIVERY_FAILED,
        &json!({"channel": channel.as_str(), "provider": provider, "error": error}),
    );
    if (job.step as usize) + 1 < workflow(row).len() {
        advance(state, s, job, row, "delivery failed", now).await
    } else {
        finish_failed(state, s, job, row, channel, error, now).await
    }
}

/// Every channel failed: the OTP is `failed` (after what `s` already holds).
async fn finish_failed(
    state: &AppState,
    mut s: Script,
    job: &JobRow,
    row: &OtpRow,
    channel: Channel,
    error: &str,
    now: i64,
) -> anyhow::Result<()> {
    let failing = Otps::one(&row.sid).and(&format!("status IN {ACTIVE}"), args![]);
    failing.event(
        &mut s,
        now,
        events::FAILED,
        &json!({"lastChannel": channel.as_str(), "error": error}),
    );
    if row.status_callback.is_some() {
        failing.callback(&mut s, now, "failed");
    }
    failing.update(&mut s, "status = 'failed', date_updated = $1", args![now]);
    job_done(&mut s, job.id, now);
    crate::server::db::commit_script(state.db(), s).await?;
    Ok(())
}

/// The workflow timer fired: if the step is still current and unverified, try the next channel.
async fn fallback(
    state: &AppState,
    job: &JobRow,
    row: &OtpRow,
    reason: &str,
) -> anyhow::Result<()> {
    if (job.step as usize) + 1 >= workflow(row).len() {
        return complete(state, job.id, None).await;
    }
    advance(
        state,
        Script::new(),
        job,
        row,
        reason,
        state.clock().now_ms(),
    )
    .await
}

/// Moves the OTP to the next workflow step and queues its delivery (same code, new channel),
/// after what `s` already holds.
async fn advance(
    state: &AppState,
    mut s: Script,
    job: &JobRow,
    row: &OtpRow,
    reason: &str,
    now: i64,
) -> anyhow::Result<()> {
    let steps = workflow(row);
    let next_step = job.step + 1;
    let Some(next) = steps.get(next_step as usize).copied() else {
        return complete(state, job.id, None).await;
    };
    let from = steps
        .get(job.step as usize)
        .map(|c| c.as_str())
        .unwrap_or("?");
    // Still active on this step: then (and only then) it moves on.
    let moving = on_step(row, job.step);
    moving.event(
        &mut s,
        now,
        events::FALLBACK,
        &json!({"from": from, "to": next.as_str(), "reason": reason}),
    );
    moving.job(&mut s, "deliver", next_step, now);
    if row.status_callback.is_some() {
        moving.callback(&mut s, now, "pending");
    }
    moving.update(
        &mut s,
        "workflow_index = $1, channel = $2, status = 'pending', date_updated = $3",
        args![next_step, next.as_str(), now],
    );
    job_done(&mut s, job.id, now);
    crate::server::db::commit_script(state.db(), s).await?;
    state.wake_workers();
    Ok(())
}
