//! The job table as a queue: claim with a lease, complete, or retry later.
use crate::args;
use crate::server::db::otps::JobRow;
use crate::server::db::script::Script;
use crate::server::db::Db;
use crate::server::state::AppState;

/// Jobs one claim takes at most (one write instead of one per job; each keeps its own lease).
pub const CLAIM_BATCH: i64 = 16;

/// Claims up to [`CLAIM_BATCH`] of the oldest due jobs (unclaimed, or whose lease ran out),
/// oldest first. Exactly one worker wins a job: the UPDATE re-checks the lease, and PostgreSQL
/// skips rows another worker has locked.
pub async fn claim(state: &AppState) -> anyhow::Result<Vec<JobRow>> {
    let now = state.clock().now_ms();
    let owner = &state.inner.worker_id;
    let lease_ms = state.settings().job_lease_secs as i64 * 1000;
    let lock = match state.db() {
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Db::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE jobs SET lease_owner = $1, lease_until = $2, tries = tries + 1 \
         WHERE id IN (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $3 \
                      AND (lease_until IS NULL OR lease_until < $3) ORDER BY run_at, id LIMIT {CLAIM_BATCH}{lock}) \
         AND done_at IS NULL AND (lease_until IS NULL OR lease_until < $3) \
         RETURNING id, kind, otp_sid, step, tries, payload, created_at, run_at"
    );
    let mut jobs: Vec<Claimed> = match state.db() {
        Db::Sqlite(pool) => {
            sqlx::query_as(&sql)
                .bind(owner)
                .bind(now + lease_ms)
                .bind(now)
                .fetch_all(&crate::server::db::write_pool(pool))
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&sql)
                .bind(owner)
                .bind(now + lease_ms)
                .bind(now)
                .fetch_all(pool)
                .await?
        }
    };
    // RETURNING has no order: run them oldest first.
    jobs.sort_by_key(|c| (c.run_at, c.job.id));
    Ok(jobs.into_iter().map(|c| c.job).collect())
}

#[derive(sqlx::FromRow)]
struct Claimed {
    #[sqlx(flatten)]
    job: JobRow,
    run_at: i64,
}

/// Schedules a retry (into the script that records why): the lease is released and the job
/// runs again at `run_at`.
pub fn retry_later(s: &mut Script, id: i64, run_at: i64, error: &str) {
    s.push(
        "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, run_at = $1, last_error = $2 WHERE id = $3",
        args![run_at, error, id],
    );
}

/// Back-off for the n-th try: 1 s, 2 s, 4 s … capped at 5 minutes.
pub fn backoff_ms(tries: i32) -> i64 {
    let exp = tries.clamp(1, 20) as u32 - 1;
    (1000i64 << exp.min(9)).min(5 * 60 * 1000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(super::backoff_ms(1), 1000);
        assert_eq!(super::backoff_ms(2), 2000);
        assert_eq!(super::backoff_ms(5), 16000);
        assert_eq!(super::backoff_ms(30), 5 * 60 * 1000);
    }
}
