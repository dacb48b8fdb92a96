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

/// Runs until the process ends: drain due jobs, sweep expired OTPs, then wait for a wake-up
/// (a new job committed here) or a short tick (jobs from other processes, timers).
pub fn spawn(state: AppState) {
    for n in 0..state.settings().worker_tasks.max(1) {
        let state = state.clone();
        tokio::spawn(async move {
            let mut compacted = std::time::Instant::now();
            let mut swept: Option<std::time::Instant> = None;
            loop {
                if let Err(e) = run_due(&state).await {
                    tracing::error!(error = ?e, "delivery worker pass failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                // One task sweeps and folds usage deltas; the others only deliver.
                if n == 0 {
                    if swept.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
                        swept = Some(std::time::Instant::now());
                        if let Err(e) = expire::sweep(state.otp()).await {
                            tracing::error!(error = ?e, "expiry sweep failed");
                        }
                    }
                    if compacted.elapsed() >= COMPACT_EVERY {
                        compacted = std::time::Instant::now();
                        if let Err(e) = usage::compact(state.db()).await {
                            tracing::error!(error = ?e, "usage compaction failed");
                        }
                    }
                }
                tokio::select! {
                    _ = state.signals().work() => {}
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            }
        });
    }
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
        )
        .await?;
        if claimed.is_empty() {
            return Ok(n);
        }
        // The jobs of different OTPs run side by side (their writes then commit together, and
        // slow providers overlap); one OTP's jobs run in order, so its callbacks keep theirs.
        // A failing job does not hold up the rest of its batch (each has its own lease).
        let mut by_otp: Vec<Vec<Job>> = Vec::new();
        for job in claimed {
            match by_otp
                .iter_mut()
                .find(|same| same[0].otp_sid == job.otp_sid)
            {
                Some(same) => same.push(job),
                None => by_otp.push(vec![job]),
            }
        }
        let outcomes = futures::future::join_all(by_otp.into_iter().map(|same| async move {
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
        // Whoever waits for a sandbox message (long-polling readers) looks again.
        state.signals().deliveries_ran();
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
