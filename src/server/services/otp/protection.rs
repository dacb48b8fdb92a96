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
    let (_, long_ms) = WINDOWS[1];
    let long_max = WINDOWS.iter().map(|(max, _)| *max).max().unwrap_or(0);
    // One read: the most recent sends in the long window, newest first (at most `long_max`).
    let sql = format!(
        "SELECT date_created FROM otps WHERE account_sid = $1 AND {} = $2 AND date_created > $3 \
         AND status <> 'blocked' ORDER BY date_created DESC LIMIT $4",
        dest.column()
    );
    let recent: Vec<i64> = on_db!(db, pool => sqlx::query_scalar(&sql)
        .bind(account).bind(dest.value()).bind(now - long_ms).bind(long_max)
        .fetch_all(pool).await)?;
    match refusal(&recent, now) {
        None => Ok(()),
        Some((max, window_ms, retry_after)) => Err(ServiceError::with(
            ErrorCode::TooManySendsToDestination,
            format!(
                "Too many codes sent to this destination: at most {max} per {} minutes. Try again in {retry_after} s.",
                window_ms / 60_000
            ),
            serde_json::json!({ "retryAfter": retry_after }),
        )),
    }
}

/// Whether a send now is refused, given the destination's recent sends (newest first): the
/// window's threshold and length, and the seconds until a send is allowed again (the moment the
/// sends of every full window have dropped below its threshold).
fn refusal(recent: &[Millis], now: Millis) -> Option<(i64, i64, u64)> {
    let mut refused = None;
    let mut allowed_at = now;
    for (max, window_ms) in WINDOWS {
        let in_window = recent.iter().filter(|d| **d > now - window_ms).count() as i64;
        if in_window >= max {
            // Below the threshold once the max-th newest send of the window leaves it.
            let leaves = recent[max as usize - 1] + window_ms;
            allowed_at = allowed_at.max(leaves);
            refused.get_or_insert((max, window_ms));
        }
    }
    refused.map(|(max, window_ms)| {
        let secs = ((allowed_at - now).max(1) as u64).div_ceil(1000);
        (max, window_ms, secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn allowed_under_both_thresholds() {
        let now = 100 * 24 * 60 * MIN;
        assert_eq!(refusal(&[], now), None);
        let four: Vec<_> = (1..=4).map(|i| now - i * MIN).collect();
        assert_eq!(refusal(&four, now), None);
    }

    #[test]
    fn short_window_waits_for_its_fifth_newest_send_to_leave() {
        let now = 100 * 24 * 60 * MIN;
        // Sends 1, 2, 3, 4 and 9 minutes ago: the one 9 minutes ago leaves in 1 minute.
        let recent = [1, 2, 3, 4, 9].map(|m| now - m * MIN);
        assert_eq!(refusal(&recent, now), Some((5, 10 * MIN, 60)));
    }

    #[test]
    fn a_full_day_waits_for_the_later_of_both_windows() {
        let now = 100 * 24 * 60 * MIN;
        // 20 sends an hour apart, the newest 2 minutes ago: the short window has 1 send, the
        // day is full until the 20th newest (19 h 2 min ago) leaves, in 4 h 58 min.
        let recent: Vec<_> = (0..20).map(|h| now - 2 * MIN - h * 60 * MIN).collect();
        assert_eq!(
            refusal(&recent, now),
            Some((20, 24 * 60 * MIN, (4 * 60 + 58) * 60))
        );
        // Both full: the answer waits for both.
        let mut both: Vec<_> = (0..5).map(|m| now - m * MIN - 1).collect();
        both.extend((0..15).rev().map(|i| now - 23 * 60 * MIN + i));
        let (_, _, secs) = refusal(&both, now).unwrap();
        assert_eq!(
            secs,
            60 * 60,
            "the day frees up an hour from now, later than 6 minutes"
        );
    }
}
