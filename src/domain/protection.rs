//! Destination protection (always on): at most a number of sends per destination per 10
//! minutes and per 24 hours for an account (5 and 20 unless the account's defaults say
//! otherwise).
use super::otp::Millis;

/// The thresholds of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    pub per_10_minutes: i64,
    pub per_24_hours: i64,
}

impl Default for Protection {
    fn default() -> Self {
        Protection {
            per_10_minutes: super::settings::DEFAULT_PER_10_MINUTES,
            per_24_hours: super::settings::DEFAULT_PER_24_HOURS,
        }
    }
}

impl Protection {
    /// (most sends, window in milliseconds)
    pub fn windows(self) -> [(i64, i64); 2] {
        [
            (self.per_10_minutes, 10 * 60 * 1000),
            (self.per_24_hours, 24 * 60 * 60 * 1000),
        ]
    }

    /// The longest window, and the most sends any window allows: how far back to look.
    pub fn lookback(self) -> (i64, i64) {
        let w = self.windows();
        let longest = w.iter().map(|(_, w)| *w).max().unwrap_or(0);
        let most = w.iter().map(|(max, _)| *max).max().unwrap_or(0);
        (longest, most)
    }
}

/// A refused send: the window's threshold and length, and the seconds until a send is allowed
/// again (the moment the sends of every full window have dropped below its threshold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub max: i64,
    pub window_ms: i64,
    pub retry_after: u64,
}

/// Whether a send now is refused, given the destination's recent sends (newest first).
pub fn refusal(rule: Protection, recent: &[Millis], now: Millis) -> Option<Refused> {
    let mut refused = None;
    let mut allowed_at = now;
    for (max, window_ms) in rule.windows() {
        let in_window = recent.iter().filter(|d| **d > now - window_ms).count() as i64;
        if in_window >= max {
            // Below the threshold once the max-th newest send of the window leaves it.
            let leaves = recent[max as usize - 1] + window_ms;
            allowed_at = allowed_at.max(leaves);
            refused.get_or_insert((max, window_ms));
        }
    }
    refused.map(|(max, window_ms)| Refused {
        max,
        window_ms,
        retry_after: ((allowed_at - now).max(1) as u64).div_ceil(1000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn r(max: i64, window_ms: i64, retry_after: u64) -> Option<Refused> {
        Some(Refused {
            max,
            window_ms,
            retry_after,
        })
    }

    #[test]
    fn allowed_under_both_thresholds() {
        let now = 100 * 24 * 60 * MIN;
        assert_eq!(refusal(Protection::default(), &[], now), None);
        let four: Vec<_> = (1..=4).map(|i| now - i * MIN).collect();
        assert_eq!(refusal(Protection::default(), &four, now), None);
    }

    #[test]
    fn short_window_waits_for_its_fifth_newest_send_to_leave() {
        let now = 100 * 24 * 60 * MIN;
        // Sends 1, 2, 3, 4 and 9 minutes ago: the one 9 minutes ago leaves in 1 minute.
        let recent = [1, 2, 3, 4, 9].map(|m| now - m * MIN);
        assert_eq!(
            refusal(Protection::default(), &recent, now),
            r(5, 10 * MIN, 60)
        );
    }

    #[test]
    fn a_full_day_waits_for_the_later_of_both_windows() {
        let now = 100 * 24 * 60 * MIN;
        // 20 sends an hour apart, the newest 2 minutes ago: the short window has 1 send, the
        // day is full until the 20th newest (19 h 2 min ago) leaves, in 4 h 58 min.
        let recent: Vec<_> = (0..20).map(|h| now - 2 * MIN - h * 60 * MIN).collect();
        assert_eq!(
            refusal(Protection::default(), &recent, now),
            r(20, 24 * 60 * MIN, (4 * 60 + 58) * 60)
        );
        // Both full: the answer waits for both.
        let mut both: Vec<_> = (0..5).map(|m| now - m * MIN - 1).collect();
        both.extend((0..15).rev().map(|i| now - 23 * 60 * MIN + i));
        let secs = refusal(Protection::default(), &both, now)
            .unwrap()
            .retry_after;
        assert_eq!(
            secs,
            60 * 60,
            "the day frees up an hour from now, later than 6 minutes"
        );
    }

    #[test]
    fn an_accounts_own_thresholds() {
        let now = 100 * 24 * 60 * MIN;
        let rule = Protection {
            per_10_minutes: 2,
            per_24_hours: 3,
        };
        assert_eq!(refusal(rule, &[now - MIN], now), None);
        assert_eq!(
            refusal(rule, &[now - MIN, now - 2 * MIN], now),
            r(2, 10 * MIN, 8 * 60)
        );
        // Three in a day, none in the last 10 minutes: the day's window refuses.
        let day = [now - 60 * MIN, now - 120 * MIN, now - 180 * MIN];
        assert_eq!(
            refusal(rule, &day, now),
            r(3, 24 * 60 * MIN, (24 * 60 - 180) * 60)
        );
    }
}
