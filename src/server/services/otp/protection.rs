//! Built-in destination protection (always on): at most 5 sends per destination per 10 minutes
//! and 20 per 24 hours for an account. Counted over the indexed OTP history of that one
//! destination, so the cost is bounded by the thresholds.
use super::params::Destination;
use crate::domain::ErrorCode;
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::db::Db;
use crate::server::services::{ServiceError, ServiceResult};

pub const WINDOWS: [(i64, i64); 2] = [(5, 10 * 60 * 1000), (20, 24 * 60 * 60 * 1000)];

pub async fn check(db: &Db, account: &str, dest: &Destination, now: Millis) -> ServiceResult<()> {
    let [(short_max, short_ms), (long_max, long_ms)] = WINDOWS;
    // One read: the most recent sends in the long window (at most `long_max` of them), and how
    // many of those fall in the short window. Parameters appear in text order (SQLite binds so).
    let sql = format!(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN date_created > $1 THEN 1 ELSE 0 END), 0) FROM \
         (SELECT date_created FROM otps WHERE account_sid = $2 AND {} = $3 AND date_created > $4 \
          AND status <> 'blocked' ORDER BY date_created DESC LIMIT $5) recent",
        dest.column()
    );
    let (long_n, short_n): (i64, i64) = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(now - short_ms).bind(account).bind(dest.value()).bind(now - long_ms).bind(long_max)
        .fetch_one(pool).await)?;
    for (n, max, window_ms) in [(short_n, short_max, short_ms), (long_n, long_max, long_ms)] {
        if n >= max {
            let minutes = window_ms / 60_000;
            return Err(ServiceError::Rule {
                code: ErrorCode::TooManySendsToDestination,
                message: format!("Too many codes sent to this destination: at most {max} per {minutes} minutes. Try again later."),
                field: None,
            });
        }
    }
    Ok(())
}
