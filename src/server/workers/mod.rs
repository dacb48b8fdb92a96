//! Background work: the durable job queue (deliveries, workflow fallbacks, status callbacks),
//! the expiry sweeper and the usage compactor. Jobs are claimed with a lease, so several server
//! processes can share one database and a crashed worker's job is taken up again once its
//! lease runs out.
pub mod callbacks;
pub mod delivery;

use crate::server::db::jobs::{self, Job, JobKind};
use crate::server::services::{otp::expire, usage};
use crate::server::state::AppState;
use std::time::Duration;

/// How often usage deltas are folded into the daily counters.
const COMPACT_EVERY: Duration = Duration::from_secs(2);
/// How often overdue OTPs are looked for (verify checks expiry itself; this only records it).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// How long a busy dispatcher lets new jobs gather before it claims them.
const CLAIM_GATHER: Duration = Duration::from_millis(2);

/// How often old sandbox messages are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Runs until the process ends: one dispatcher claims due jobs and runs each OTP's jobs as a
/// task of their own, in two lanes — deliveries (at most `worker_tasks × 16` at once) and
/// status callbacks (`worker_tasks × 8`, at most [`callbacks::PER_ACCOUNT`] per account) — so
/// a provider that hangs holds only its own deliveries and a tenant's slow callback receiver
/// never delays anyone's codes; it claims again as soon as a task ends, when a new job was
/// committed here, or after a short tick (jobs of other processes, timers). A housekeeping
/// task sweeps expired OTPs, folds usage deltas and prunes the sandbox outbox and the audit
/// log (by age).
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        // Alive before the first claim, so no other process takes this one's jobs.
        if let Err(e) = jobs::heartbeat(state.db(), state.worker_id(), state.clock().now_ms()).await
        {
            tracing::error!(error = ?e, "recording this process's heartbeat failed");
        }
        tokio::spawn(housekeeping(state.clone()));
        dispatch(state).await;
    });
}

async fn dispatch(state: AppState) {
    let deliveries = state.settings().worker_tasks.max(1) * 16;
    let callbacks = state.settings().worker_tasks.max(1) * 8;
    let lanes = [
        (jobs::Lane::Deliveries, deliveries),
        (jobs::Lane::Callbacks, callbacks),
    ]
    .map(|(lane, n)| (lane, n, std::sync::Arc::new(tokio::sync::Semaphore::new(n))));
    let task_ended = std::sync::Arc::new(tokio::sync::Notify::new());
    // The callbacks lane is claimed while its claims find jobs and otherwise every 250 ms, not
    // on every wake-up: with no callbacks due, each wake cost an empty claim (a write
    // transaction). Deliveries are claimed on every wake-up.
    let mut callbacks_hot = true;
    let mut callbacks_claimed = std::time::Instant::now();
    loop {
        let callbacks_due =
            callbacks_hot || callbacks_claimed.elapsed() >= Duration::from_millis(250);
        // A full batch in a lane: more may be waiting, claim again at once.
        let mut claimed_full = false;
        for (lane, _, permits) in &lanes {
            if *lane == jobs::Lane::Callbacks && !callbacks_due {
                continue;
            }
            let free = permits.available_permits().min(jobs::CLAIM_BATCH as usize);
            if free == 0 {
                continue;
            }
            let lease_ms = state.settings().job_lease_secs as i64 * 1000;
            let now = state.clock().now_ms();
            match jobs::claim(
                state.db(),
                state.worker_id(),
                now,
                lease_ms,
                free as i64,
                *lane,
            )
            .await
            {
                Ok(claimed) => {
                    claimed_full |= claimed.len() == free;
                    if *lane == jobs::Lane::Callbacks {
                        callbacks_hot = !claimed.is_empty();
                        callbacks_claimed = std::time::Instant::now();
                    }
                    for same in by_otp(claimed) {
                        // A permit per group: the claim took no more than are free.
                        let Ok(permit) = permits.clone().try_acquire_owned() else {
                            tracing::error!("a claimed job found no free worker");
                            break;
                        };
                        let (state, ended) = (state.clone(), task_ended.clone());
                        tokio::spawn(async move {
                            for job in same {
                                if let Err(e) = process(&state, job).await {
                                    tracing::error!(error = ?e, "a job failed");
                                }
                            }
                            drop(permit);
                            ended.notify_one();
                        });
                    }
                }
                Err(e) => {
                    tracing::error!(error = ?e, "claiming jobs failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        if claimed_full {
            continue;
        }
        tokio::select! {
            _ = state.signals().work() => {}
            _ = task_ended.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        // While jobs are running, let new ones gather for a moment so that one claim (a
        // write) takes several; an idle dispatcher claims at once.
        if lanes
            .iter()
            .any(|(_, n, permits)| permits.available_permits() < *n)
        {
            tokio::time::sleep(CLAIM_GATHER).await;
        }
    }
}

async fn housekeeping(state: AppState) {
    let mut compacted = std::time::Instant::now();
    let mut pruned: Option<std::time::Instant> = None;
    loop {
        if let Err(e) = jobs::heartbeat(state.db(), state.worker_id(), state.clock().now_ms()).await
        {
            tracing::error!(error = ?e, "recording this process's heartbeat failed");
        }
        if let Err(e) = expire::sweep(state.otp()).await {
            tracing::error!(error = ?e, "expiry sweep failed");
        }
        if compacted.elapsed() >= COMPACT_EVERY {
            compacted = std::time::Instant::now();
            if let Err(e) = usage::compact(state.db()).await {
                tracing::error!(error = ?e, "usage compaction failed");
            }
        }
        if pruned.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            pruned = Some(std::time::Instant::now());
            let before = state.clock().now_ms() - crate::server::db::sandbox::KEEP_MS;
            if let Err(e) = crate::server::db::sandbox::prune(state.db(), before).await {
                tracing::error!(error = ?e, "pruning the sandbox outbox failed");
            }
            let days = state.settings().audit_retention_days;
            if let Err(e) =
                crate::server::services::audit::prune(state.db(), state.clock(), days).await
            {
                tracing::error!(error = ?e, "pruning the audit log failed");
            }
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

/// Claimed jobs grouped by OTP: the jobs of different OTPs run side by side (their writes
/// commit together, slow providers overlap); one OTP's jobs run in order, so its callbacks keep
/// theirs.
fn by_otp(claimed: Vec<Job>) -> Vec<Vec<Job>> {
    let mut groups: Vec<Vec<Job>> = Vec::new();
    for job in claimed {
        match groups
            .iter_mut()
            .find(|same| same[0].otp_sid == job.otp_sid)
        {
            Some(same) => same.push(job),
            None => groups.push(vec![job]),
        }
    }
    groups
}

/// Processes every job that is due now; returns how many ran. Tests call this directly.
pub async fn run_due(state: &AppState) -> anyhow::Result<usize> {
    let mut n = 0;
    loop {
        let lease_ms = state.settings().job_lease_secs as i64 * 1000;
        let claimed = jobs::claim(
            state.db(),
            state.worker_id(),
            state.clock().now_ms(),
            lease_ms,
            jobs::CLAIM_BATCH,
            jobs::Lane::All,
        )
        .await?;
        if claimed.is_empty() {
            return Ok(n);
        }
        let outcomes =
            futures::future::join_all(by_otp(claimed).into_iter().map(|same| async move {
                let mut outcomes = Vec::with_capacity(same.len());
                for job in same {
                    outcomes.push(process(state, job).await);
                }
                outcomes
            }))
            .await;
        let mut failure = None;
        for outcome in outcomes.into_iter().flatten() {
            match outcome {
                Ok(()) => n += 1,
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
    }
}

/// One job: by its kind.
async fn process(state: &AppState, job: Job) -> anyhow::Result<()> {
    let now = state.clock().now_ms();
    match job.kind {
        Some(JobKind::Deliver) | Some(JobKind::Fallback) => delivery::process(state, job).await,
        Some(JobKind::Callback) => callbacks::post(state, &job).await,
        None => {
            let error = format!("unknown job kind {}", job.kind_name());
            jobs::complete(state.db(), job.id, now, Some(&error)).await
        }
    }
}
