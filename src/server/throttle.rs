//! Counting failures per key (client address, email) in a sliding window, in memory.
//! Used to slow down and refuse credential guessing; bounded in memory.
use super::clock::Millis;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Most failures remembered per key; thresholds are far below this.
const MAX_PER_KEY: usize = 256;
/// When the map grows past this, keys with no failure left in the window are dropped.
const PRUNE_AT: usize = 10_000;

pub struct Throttle {
    window_ms: i64,
    failures: Mutex<HashMap<String, VecDeque<Millis>>>,
}

impl Throttle {
    pub fn new(window_ms: i64) -> Self {
        Self {
            window_ms,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Failures of `key` within the window ending at `now`.
    pub fn count(&self, key: &str, now: Millis) -> u32 {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(key) {
            Some(q) => {
                Self::prune(q, now - self.window_ms);
                q.len() as u32
            }
            None => 0,
        }
    }

    /// Records a failure; returns the count including it.
    pub fn record_failure(&self, key: &str, now: Millis) -> u32 {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= PRUNE_AT {
            let cutoff = now - self.window_ms;
            map.retain(|_, q| q.back().is_some_and(|&t| t > cutoff));
        }
        let q = map.entry(key.to_owned()).or_default();
        Self::prune(q, now - self.window_ms);
        if q.len() == MAX_PER_KEY {
            q.pop_front();
        }
        q.push_back(now);
        q.len() as u32
    }

    /// Seconds until the count of `key` drops below `threshold` (at least 1).
    pub fn retry_after_secs(&self, key: &str, threshold: u32, now: Millis) -> u64 {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(q) = map.get(key) else { return 1 };
        let live: Vec<Millis> = q
            .iter()
            .copied()
            .filter(|&t| t > now - self.window_ms)
            .collect();
        if (live.len() as u32) < threshold {
            return 1;
        }
        // The failure whose expiry brings the count under the threshold.
        let idx = live.len() - threshold as usize;
        let frees_at = live[idx] + self.window_ms;
        (((frees_at - now).max(0) + 999) / 1000).max(1) as u64
    }

    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    fn prune(q: &mut VecDeque<Millis>, cutoff: Millis) {
        while q.front().is_some_and(|&t| t <= cutoff) {
            q.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_the_window_only() {
        let t = Throttle::new(60_000);
        assert_eq!(t.count("a", 0), 0);
        assert_eq!(t.record_failure("a", 1_000), 1);
        assert_eq!(t.record_failure("a", 2_000), 2);
        assert_eq!(t.record_failure("b", 2_000), 1);
        assert_eq!(t.count("a", 60_999), 2);
        assert_eq!(t.count("a", 61_500), 1);
        assert_eq!(t.count("a", 62_000), 0);
        t.record_failure("b", 3_000);
        t.reset("b");
        assert_eq!(t.count("b", 3_000), 0);
    }

    #[test]
    fn retry_after_is_time_until_under_threshold() {
        let t = Throttle::new(60_000);
        for s in 0..5 {
            t.record_failure("ip", s * 1000);
        }
        // 5 failures at 0..4 s; under a threshold of 5 once the first expires at 60 s.
        assert_eq!(t.retry_after_secs("ip", 5, 10_000), 50);
        // Under 3 once the third (at 2 s) expires at 62 s.
        assert_eq!(t.retry_after_secs("ip", 3, 10_000), 52);
        assert_eq!(t.retry_after_secs("other", 3, 10_000), 1);
    }

    #[test]
    fn memory_per_key_is_bounded() {
        let t = Throttle::new(i64::MAX / 4);
        for i in 0..1000 {
            t.record_failure("k", i);
        }
        assert_eq!(t.count("k", 1000), MAX_PER_KEY as u32);
    }
}
