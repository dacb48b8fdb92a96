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
    for (max, window_ms) in WINDOWS {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM otps WHERE account_sid = $1 AND {} = $2 AND date_created > $3 \
             AND status <> 'blocked' LIMIT $4) recent",
            dest.column()
        );
        let n: i64 = on_db!(db, pool => sqlx::query_scalar(&sql)
            .bind(account).bind(dest.value()).bind(now - window_ms).bind(max).fetch_one(pool).await)?;
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
