//! Delivery jobs: deliver a workflow step through its channel's providers (in priority order:
//! a permanent failure, or too many transient ones, moves to the next provider, then to the
//! next channel of the workflow), or fall back to the next channel when a step was not
//! verified in time. Every outcome, its timeline events and its status change are committed
//! together with the job's completion. A delivery through a real provider is recorded before
//! the provider is called (so its receipt can arrive first), and the job's lease is renewed
//! while the call is in flight (so a slow provider does not cause a second send).
use crate::domain::provider::{ProviderKind, ProviderSetup};
use crate::domain::template;
use crate::domain::timeline::OtpEvent;
use crate::domain::{Channel, Otp};
use crate::server::clock::Millis;
use crate::server::crypto;
use crate::server::db::jobs::{self, Job, JobKind};
use crate::server::db::otps::attempts::{self, Attempt};
use crate::server::db::otps::changes::{Move, NewAttempt, OtpChanges, Selection};
use crate::server::db::script::Script;
use crate::server::metrics;
use crate::server::providers::{Content, OutboundMessage, Provider, ProviderOutcome, Recipient};
use crate::server::services::otp::progress::{advance, fail, move_on};
use crate::server::state::AppState;
use std::sync::Arc;

/// After this many transient failures a delivery through one provider counts as failed.
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

/// One provider a channel can be delivered through: a configured one (with its setup), or the
/// sandbox / a provider a test registered.
pub struct Route {
    pub setup: Option<ProviderSetup>,
    pub provider: Arc<dyn Provider>,
}

/// The providers of `otp`'s channel, in the order they are tried.
pub async fn routes(
    state: &AppState,
    otp: &Otp,
    channel: Channel,
) -> anyhow::Result<Result<Vec<Route>, String>> {
    if let Some(p) = state.providers().registered(&otp.account_sid, channel) {
        return Ok(Ok(vec![Route {
            setup: None,
            provider: p,
        }]));
    }
    use crate::server::services::providers;
    let setups = providers::setups_for(
        state.db(),
        state.otp().code_key(),
        state.providers(),
        &otp.account_sid,
    )
    .await?;
    let country = if channel.uses_phone() {
        otp.country_code.as_deref()
    } else {
        None
    };
    let routing = providers::route(
        &setups,
        state.providers().defaults(),
        &otp.account_sid,
        channel,
        country,
    );
    if routing.providers.is_empty() {
        return Ok(if routing.configured {
            Err(format!(
                "no {} provider serves {}",
                channel.label(),
                country.unwrap_or("this destination")
            ))
        } else {
            Ok(vec![Route {
                setup: None,
                provider: state.providers().sandbox(),
            }])
        });
    }
    let secret = if routing
        .providers
        .iter()
        .any(|p| p.kind() == ProviderKind::Webhook)
    {
        Some(crate::domain::Secret(
            crate::server::services::accounts::callback_secret(
                state.db(),
                state.otp().code_key(),
                otp.account_sid.as_str(),
            )
            .await?,
        ))
    } else {
        None
    };
    let mut out = Vec::with_capacity(routing.providers.len());
    for setup in routing.providers {
        match state.providers().instance(&setup, secret.as_ref()) {
            Ok(provider) => out.push(Route {
                setup: Some(setup),
                provider,
            }),
            Err(e) => {
                tracing::warn!(provider = %setup.sid, error = %e, "provider cannot be built; skipped")
            }
        }
    }
    Ok(Ok(out))
}

/// The account's template for this step's channel and the OTP's language, unless the request
/// gave everything the message needs (one query on the templates' key otherwise).
async fn chosen_template(
    state: &AppState,
    otp: &Otp,
    channel: Channel,
) -> anyhow::Result<Option<template::Template>> {
    let given = otp.body.is_some() && (channel != Channel::Email || otp.subject.is_some());
    if given {
        return Ok(None);
    }
    let chosen = crate::server::services::templates::for_delivery(
        state.db(),
        &otp.account_sid,
        channel,
        &otp.language,
    )
    .await?;
    Ok(Some(chosen.template))
}

/// The message for this step: the request's body and subject, else the account's template
/// (`chosen`), filled with the code. Email gets the template's HTML part unless the request
/// gave its own body (the provider then makes one from the text).
fn message(
    state: &AppState,
    job: &Job,
    otp: &Otp,
    channel: Channel,
    code: &str,
    chosen: Option<&template::Template>,
) -> OutboundMessage {
    let ttl = otp.ttl_minutes();
    let body = otp
        .body
        .as_deref()
        .or(chosen.map(|t| t.text.as_str()))
        .unwrap_or_else(|| template::default_body(channel));
    let text = template::render(body, channel, code, &otp.service, ttl);
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
                    .or(chosen.and_then(|t| t.subject.as_deref()))
                    .unwrap_or(template::default_subject()),
                Channel::Email,
                code,
                &otp.service,
                ttl,
            ),
            text,
            html: match (&otp.body, chosen.and_then(|t| t.html.as_deref())) {
                (None, Some(html)) => Some(template::render_html(html, code, &otp.service, ttl)),
                _ => None,
            },
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
        receipt_url: None,
        voice_url: None,
        code_shown: crate::domain::Secret(template::code_text(channel, code)),
        at: state.clock().now_ms(),
    }
}

async fn deliver(
    state: &AppState,
    job: &Job,
    otp: &Otp,
    sealed: Option<String>,
) -> anyhow::Result<()> {
    let now = state.clock().now_ms();
    let Some(channel) = otp.workflow.step(job.step) else {
        return jobs::complete(state.db(), job.id, now, Some("no such workflow step")).await;
    };
    let routes = match routes(state, otp, channel).await? {
        Ok(r) => r,
        Err(why) => {
            metrics::delivery(channel, "none", "no_route", None);
            let failed = Failed {
                channel,
                provider: "none",
                error: &why,
                key: None,
            };
            return record_failure(state, job, otp, failed, &[], now).await;
        }
    };
    let Some(route) = routes.get(job.provider_index) else {
        return jobs::complete(state.db(), job.id, now, Some("no such provider")).await;
    };
    let chosen = chosen_template(state, otp, channel).await?;
    let code = sealed.and_then(|s| crypto::open(state.otp().code_key(), otp.sid.as_str(), &s));
    let Some(code) = code else {
        tracing::error!(request_id = %otp.sid, "sealed code missing or unreadable; failing the OTP");
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
        metrics::otp_failed(channel);
        return Ok(());
    };
    let mut msg = message(state, job, otp, channel, &code, chosen.as_ref());
    drop(code);
    let name = route.provider.name();
    // A real provider: the attempt is on record before the call, and the URLs it gets carry
    // an unguessable token that finds it again (receipts, the voice document).
    let attempt = match &route.setup {
        Some(setup) => {
            let token = crypto::random_hex(16);
            let base = state.settings().public_base();
            msg.receipt_url = Some(format!(
                "{base}/2fa/providers/{}/status?d={token}",
                setup.sid
            ));
            if channel == Channel::Call {
                msg.voice_url = Some(format!("{base}/2fa/voice/{token}"));
            }
            msg.idempotency_key = format!("{}-{}-{}", otp.sid, job.step, setup.sid);
            let a = Attempt {
                otp_sid: otp.sid.clone(),
                step: job.step,
                channel,
                provider: name.clone(),
                provider_ref: Some(setup.sid.to_string()),
                provider_kind: setup.kind().as_str().into(),
                provider_sid: None,
                status: "sending".into(),
                delivery_key: crypto::hash_token(&token),
            };
            attempts::begin(state.db(), &a, now).await?;
            Some(a)
        }
        None => None,
    };
    let started = std::time::Instant::now();
    let outcome = with_lease(state, job, route.provider.deliver(&msg)).await;
    let took = started.elapsed();
    let now = state.clock().now_ms();
    let key = attempt.as_ref().map(|a| a.delivery_key.as_str());
    let kind = route
        .setup
        .as_ref()
        .map_or("sandbox", |s| s.kind().as_str());
    let measured = match &outcome {
        ProviderOutcome::Delivered { .. } => "delivered",
        ProviderOutcome::Sent { .. } => "sent",
        ProviderOutcome::Permanent(_) => "failed",
        ProviderOutcome::Transient(_) if job.tries < MAX_TRIES => "retry",
        ProviderOutcome::Transient(_) => "gave_up",
    };
    metrics::delivery(channel, kind, measured, Some(took));
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
                record: record.map(|r| *r),
                key,
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
                key,
            };
            record_accepted(state, job, otp, accepted, now).await
        }
        ProviderOutcome::Permanent(err) => {
            let failed = Failed {
                channel,
                provider: &name,
                error: &err,
                key,
            };
            record_failure(state, job, otp, failed, &routes_names(&routes), now).await
        }
        ProviderOutcome::Transient(err) if job.tries < MAX_TRIES => {
            tracing::warn!(request_id = %otp.sid, tries = job.tries, error = %err, "delivery failed; will retry");
            let retry_at = now + jobs::backoff_ms(job.tries);
            // The retry event and the rescheduled job, together.
            let mut changes = OtpChanges::new();
            if let Some(key) = key {
                changes.complete_attempt(key, "failed", None, Some(&err), now);
            }
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
            let failed = Failed {
                channel,
                provider: &name,
                error: &error,
                key,
            };
            record_failure(state, job, otp, failed, &routes_names(&routes), now).await
        }
    }
}

fn routes_names(routes: &[Route]) -> Vec<String> {
    routes.iter().map(|r| r.provider.name()).collect()
}

/// Runs a provider call, renewing the job's lease while it is in flight (a slow provider must
/// not make another worker take the job over and send a second message).
async fn with_lease<T>(
    state: &AppState,
    job: &Job,
    call: impl std::future::Future<Output = T>,
) -> T {
    let lease_ms = state.settings().job_lease_secs as i64 * 1000;
    let renew_every = std::time::Duration::from_millis((lease_ms / 3).max(500) as u64);
    tokio::pin!(call);
    loop {
        tokio::select! {
            out = &mut call => return out,
            _ = tokio::time::sleep(renew_every) => {
                let until = state.clock().now_ms() + lease_ms;
                if let Err(e) = jobs::extend_lease(state.db(), job.id, state.worker_id(), until).await {
                    tracing::warn!(error = ?e, "could not renew a delivery's lease");
                }
            }
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
    /// The pre-recorded attempt's key (real providers).
    key: Option<&'a str>,
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
    match a.key {
        Some(key) => changes.complete_attempt(key, status, Some(a.provider_sid), None, now),
        None => changes.attempt(
            &otp.sid,
            &NewAttempt {
                channel: a.channel,
                provider: a.provider,
                provider_sid: Some(a.provider_sid),
                status,
                error: None,
            },
            now,
        ),
    }
    // A receipt may have come first (the provider posted it before answering us): if it
    // failed the attempt, the OTP has moved on without it and nothing here applies.
    let this_step = || {
        let sel = Selection::one(&otp.sid).on_step(job.step);
        match a.key {
            Some(key) => sel.unless_attempt_failed(key),
            None => sel,
        }
    };
    // Whichever came first, the answer or a `delivered` receipt: the attempt in the timeline,
    // and the timer for the workflow's next channel, while the OTP is active on this step.
    let mut kept = changes
        .while_active(this_step(), now)
        .event(OtpEvent::AttemptSent {
            channel: a.channel,
            provider: a.provider.to_owned(),
            provider_sid: a.provider_sid.to_owned(),
        });
    if otp.workflow.has_next(job.step) {
        kept = kept.job(
            JobKind::Fallback,
            job.step,
            now + otp.workflow_timeout_secs * 1000,
        );
    }
    kept.push();
    // Still waiting on this step: then (and only then) the status moves.
    let movement = if a.delivered {
        Move::ReportDelivered
    } else {
        Move::Deliver
    };
    let mut moving = changes
        .apply(this_step(), movement, now)
        .callback(otp.has_callback());
    if a.delivered {
        moving = moving.event(OtpEvent::DeliveryReport {
            channel: a.channel,
            status: "delivered".into(),
            provider: None,
            reported: None,
            error: None,
        });
    }
    moving.push();
    job_done(&mut changes, job, now);
    changes.commit(state.db()).await?;
    if a.record.is_some() {
        state
            .signals()
            .message_stored(otp.account_sid.as_str(), otp.sid.as_str());
    }
    tracing::info!(request_id = %otp.sid, channel = a.channel.as_str(), provider = a.provider, status, "otp delivered to provider");
    Ok(())
}

/// A delivery through one provider that failed for good.
struct Failed<'a> {
    channel: Channel,
    provider: &'a str,
    error: &'a str,
    /// The pre-recorded attempt's key (real providers).
    key: Option<&'a str>,
}

/// The step's delivery through one provider failed for good: the failed attempt, and the move
/// to the next provider, the next channel or the OTP's failure, committed together.
async fn record_failure(
    state: &AppState,
    job: &Job,
    otp: &Otp,
    f: Failed<'_>,
    providers: &[String],
    now: Millis,
) -> anyhow::Result<()> {
    let Failed {
        channel,
        provider,
        error,
        key,
    } = f;
    tracing::warn!(request_id = %otp.sid, channel = channel.as_str(), provider, error, "delivery failed");
    let mut changes = OtpChanges::new();
    match key {
        Some(key) => changes.complete_attempt(key, "failed", None, Some(error), now),
        None => changes.attempt(
            &otp.sid,
            &NewAttempt {
                channel,
                provider,
                provider_sid: None,
                status: "failed",
                error: Some(error),
            },
            now,
        ),
    }
    changes.event(
        &otp.sid,
        now,
        &OtpEvent::DeliveryFailed {
            channel,
            provider: provider.to_owned(),
            error: error.to_owned(),
        },
    );
    let woken = move_on(
        &mut changes,
        otp,
        job.step,
        job.provider_index,
        providers,
        channel,
        error,
        now,
    );
    job_done(&mut changes, job, now);
    changes.commit(state.db()).await?;
    if woken {
        state.signals().jobs_committed();
    } else {
        // Nothing left to try: the OTP ended failed.
        metrics::otp_failed(channel);
    }
    Ok(())
}

/// The workflow timer fired: if the step is still current and unverified, try the next channel.
async fn fallback(state: &AppState, job: &Job, otp: &Otp, reason: &str) -> anyhow::Result<()> {
    let now = state.clock().now_ms();
    let mut changes = OtpChanges::new();
    let advanced =
        otp.workflow.has_next(job.step) && advance(&mut changes, otp, job.step, reason, now);
    job_done(&mut changes, job, now);
    changes.commit(state.db()).await?;
    if advanced {
        state.signals().jobs_committed();
    }
    Ok(())
}
