//! The durable job queue: deliveries, workflow fallbacks and status callbacks. Jobs are claimed
//! with a lease, so several server processes can share one database and a crashed worker's job
//! is taken up again once its lease runs out.
use crate::args;
use crate::domain::{AccountSid, OtpSid, OtpStatus};
use crate::server::clock::Millis;
use crate::server::db::script::Script;
use crate::server::db::Db;
use anyhow::Context;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Deliver a workflow step through its provider.
    Deliver,
    /// The workflow timer: move on to the next channel if the step was not verified in time.
    Fallback,
    /// Post a status callback.
    Callback,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Deliver => "deliver",
            JobKind::Fallback => "fallback",
            JobKind::Callback => "callback",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [JobKind::Deliver, JobKind::Fallback, JobKind::Callback]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    /// `None`: a kind this version does not know (it is completed with an error).
    pub kind: Option<JobKind>,
    pub otp_sid: OtpSid,
    /// The workflow step a delivery or fallback is for.
    pub step: usize,
    /// Tries so far, this one included.
    pub tries: i64,
    /// For a callback: the status it reports.
    pub callback_status: Option<OtpStatus>,
    /// For a delivery: which of the channel's providers (0: the first).
    pub provider_index: usize,
    /// When the change a callback reports happened.
    pub created_at: Option<Millis>,
    pub(crate) raw_kind: String,
}

impl Job {
    pub fn kind_name(&self) -> &str {
        &self.raw_kind
    }
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    otp_sid: String,
    step: i32,
    tries: i32,
    payload: Option<String>,
    created_at: Option<Millis>,
    run_at: Millis,
}

/// A process that has not beaten for this long is dead: its jobs are free.
pub const DEAD_AFTER_MS: Millis = 5_000;

/// Records that the process `worker` is alive (every second; see [`DEAD_AFTER_MS`]), and
/// forgets processes silent for a day.
pub async fn heartbeat(db: &Db, worker: &str, now: Millis) -> anyhow::Result<()> {
    let mut s = Script::new();
    s.push(
        "INSERT INTO workers (id, heartbeat_at) VALUES ($1, $2) \
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        args![worker, now],
    );
    s.push(
        "DELETE FROM workers WHERE heartbeat_at < $1",
        args![now - 24 * 60 * 60 * 1000],
    );
    crate::server::db::commit_script(db, s).await?;
    Ok(())
}

/// Which jobs a claim takes: deliveries never wait behind status callbacks (each lane has its
/// own workers), tests take both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Deliveries and workflow fallbacks.
    Deliveries,
    /// Status callbacks.
    Callbacks,
    All,
}

impl Lane {
    fn filter(self) -> String {
        match self {
            Lane::Deliveries => format!(
                " AND j.kind IN ('{}', '{}')",
                JobKind::Deliver.as_str(),
                JobKind::Fallback.as_str()
            ),
            Lane::Callbacks => format!(" AND j.kind = '{}'", JobKind::Callback.as_str()),
            Lane::All => String::new(),
        }
    }
}

/// Jobs one claim takes at most (one write instead of one per job; each keeps its own lease).
pub const CLAIM_BATCH: i64 = 16;

/// Claims up to `limit` due jobs (unclaimed, or whose lease ran out) for `owner` until
/// `now + lease_ms`, taking turns between accounts: each account's oldest due job first, then
/// each account's second… (so one tenant's flood of sends never makes another tenant's codes
/// wait behind it), oldest first within a turn. Exactly one worker wins a job: the UPDATE
/// re-checks the lease, and PostgreSQL skips rows another worker has locked.
pub async fn claim(
    db: &Db,
    owner: &str,
    now: Millis,
    lease_ms: i64,
    limit: i64,
    lane: Lane,
) -> anyhow::Result<Vec<Job>> {
    let lock = match db {
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Db::Sqlite(_) => "",
    };
    let kinds = lane.filter();
    // Free: never leased, its lease ran out, or its owner's heartbeat stopped (an owner that
    // never beat — an older version — keeps its lease until it runs out).
    let free = |t: &str| {
        format!(
            "({t}.lease_until IS NULL OR {t}.lease_until < $3 OR EXISTS \
             (SELECT 1 FROM workers w WHERE w.id = {t}.lease_owner AND w.heartbeat_at <= $4))"
        )
    };
    let (free_jobs, free_j) = (free("jobs"), free("j"));
    // `turn`: the job's place in its account's queue. A job whose OTP is gone still runs (and
    // is completed with an error); one whose OTP was already gone when jobs started carrying
    // their account (migration 022) runs in the turns of account ''.
    let sql = format!(
        "UPDATE jobs SET lease_owner = $1, lease_until = $2, tries = tries + 1 \
         WHERE id IN (SELECT id FROM jobs WHERE id IN ( \
             SELECT id FROM ( \
               SELECT j.id, j.run_at, ROW_NUMBER() OVER ( \
                   PARTITION BY j.account_sid ORDER BY j.run_at, j.id) AS turn \
               FROM jobs j \
               WHERE j.done_at IS NULL AND j.run_at <= $3{kinds} AND {free_j}) AS due \
             ORDER BY turn, run_at, id LIMIT {limit}){lock}) \
         AND done_at IS NULL AND {free_jobs} \
         RETURNING id, kind, otp_sid, step, tries, payload, created_at, run_at"
    );
    let mut rows: Vec<JobRow> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(&sql)
                .bind(owner)
                .bind(now + lease_ms)
                .bind(now)
                .bind(now - DEAD_AFTER_MS)
                .fetch_all(&crate::server::db::write_pool(pool))
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&sql)
                .bind(owner)
                .bind(now + lease_ms)
                .bind(now)
                .bind(now - DEAD_AFTER_MS)
                .fetch_all(pool)
                .await?
        }
    };
    // RETURNING has no order: run them oldest first.
    rows.sort_by_key(|r| (r.run_at, r.id));
    rows.into_iter()
        .map(|r| {
            Ok(Job {
                id: r.id,
                kind: JobKind::parse(&r.kind),
                otp_sid: OtpSid::parse(&r.otp_sid).context("stored job OTP")?,
                step: r.step.max(0) as usize,
                tries: i64::from(r.tries),
                callback_status: r.payload.as_deref().and_then(OtpStatus::parse),
                provider_index: r
                    .payload
                    .as_deref()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0),
                created_at: r.created_at,
                raw_kind: r.kind,
            })
        })
        .collect()
}

/// A new job of `account`'s OTP, due at `run_at`.
pub(crate) fn insert(
    s: &mut Script,
    kind: JobKind,
    otp: &OtpSid,
    account: &AccountSid,
    step: usize,
    run_at: Millis,
) {
    s.push(
        "INSERT INTO jobs (kind, otp_sid, account_sid, step, run_at) VALUES ($1, $2, $3, $4, $5)",
        args![
            kind.as_str(),
            otp.as_str(),
            account.as_str(),
            step as i32,
            run_at
        ],
    );
}

/// Holds the job's lease until `until` (a provider call still in flight), if it is still ours.
pub async fn extend_lease(db: &Db, id: i64, owner: &str, until: Millis) -> anyhow::Result<()> {
    let mut s = Script::new();
    s.push(
        "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND done_at IS NULL",
        args![until, id, owner],
    );
    crate::server::db::commit_script(db, s).await?;
    Ok(())
}

/// The job is done (with why, if it ended without doing its work).
pub fn done(s: &mut Script, id: i64, now: Millis, error: Option<&str>) {
    match error {
        None => s.push("UPDATE jobs SET done_at = $1 WHERE id = $2", args![now, id]),
        Some(e) => s.push(
            "UPDATE jobs SET done_at = $1, last_error = $2 WHERE id = $3",
            args![now, e, id],
        ),
    };
}

/// The job waits until `run_at` without having been tried (its lease released, the claim's try
/// given back): its account has as many callbacks in flight as it may.
pub async fn postpone(db: &Db, id: i64, run_at: Millis) -> anyhow::Result<()> {
    let mut s = Script::new();
    s.push(
        "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, run_at = $1, tries = tries - 1 WHERE id = $2",
        args![run_at, id],
    );
    crate::server::db::commit_script(db, s).await?;
    Ok(())
}

/// The job runs again at `run_at` (its lease released), and why.
pub fn retry_later(s: &mut Script, id: i64, run_at: Millis, error: &str) {
    s.push(
        "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, run_at = $1, last_error = $2 WHERE id = $3",
        args![run_at, error, id],
    );
}

/// Completes a job on its own.
pub async fn complete(db: &Db, id: i64, now: Millis, error: Option<&str>) -> anyhow::Result<()> {
    let mut s = Script::new();
    s.push(
        "UPDATE jobs SET done_at = $1, last_error = $2 WHERE id = $3",
        args![now, error, id],
    );
    crate::server::db::commit_script(db, s).await?;
    Ok(())
}

/// Back-off for the n-th try: 1 s, 2 s, 4 s … capped at 5 minutes.
pub fn backoff_ms(tries: i64) -> i64 {
    let exp = tries.clamp(1, 20) as u32 - 1;
    (1000i64 << exp.min(9)).min(5 * 60 * 1000)
}

/// The queue's backlog: jobs not done yet, and the due time of the oldest one that is due.
pub async fn backlog(db: &Db, now: Millis) -> anyhow::Result<(i64, Option<Millis>)> {
    let depth = db
        .scalar_i64(
            "SELECT COUNT(*) FROM jobs WHERE done_at IS NULL",
            Vec::new(),
        )
        .await?;
    let oldest = db
        .scalar_i64(
            "SELECT COALESCE(MIN(run_at), $1) FROM jobs WHERE done_at IS NULL AND run_at <= $1",
            args![now],
        )
        .await?;
    Ok((depth, (oldest < now).then_some(oldest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff_ms(1), 1000);
        assert_eq!(backoff_ms(2), 2000);
        assert_eq!(backoff_ms(5), 16000);
        assert_eq!(backoff_ms(30), 5 * 60 * 1000);
    }

    #[test]
    fn kinds_round_trip() {
        for k in [JobKind::Deliver, JobKind::Fallback, JobKind::Callback] {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(JobKind::parse("mail"), None);
    }
}
