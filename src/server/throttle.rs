//! Counting failures per key (client address, email, address + credential) in a sliding window,
//! in memory. Used to slow down and refuse credential guessing; bounded in memory.
//!
//! A check that costs something (a password hash) reserves its failure slot first
//! ([`Throttle::try_reserve`]) and gives it back on success ([`Throttle::release`]), so a
//! parallel burst checks at most the threshold, not whatever was in flight before the first
//! failure was recorded.
use super::clock::Millis;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Most failures remembered per key; thresholds are far below this.
const MAX_PER_KEY: usize = 256;
/// When the map grows past this, keys with no failure left in the window are dropped.
const PRUNE_AT: usize = 10_000;
/// Most keys kept at all: past it (after pruning) the keys whose last failure is oldest go first,
/// so spraying keys (made-up emails or sids) costs memory only up to here.
const MAX_KEYS: usize = 50_000;
/// Longer keys are kept as their SHA-256, so a 60 KiB "email" costs 64 bytes.
const MAX_KEY_LEN: usize = 128;

pub struct Throttle {
    window_ms: i64,
    failures: Mutex<HashMap<String, VecDeque<Millis>>>,
}

/// A reserved failure slot: keep it (the check failed) or give it back with
/// [`Throttle::release`] (the check passed, or never ran).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Slot(Millis);

impl Throttle {
    pub fn new(window_ms: i64) -> Self {
        Self {
            window_ms,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Millis>>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key_of(key: &str) -> std::borrow::Cow<'_, str> {
        if key.len() <= MAX_KEY_LEN {
            key.into()
        } else {
            format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes()))).into()
        }
    }

    /// Failures of `key` within the window ending at `now`.
    pub fn count(&self, key: &str, now: Millis) -> u32 {
        let key = Self::key_of(key);
        let mut map = self.lock();
        match map.get_mut(key.as_ref()) {
            Some(q) => {
                Self::prune(q, now - self.window_ms);
                q.len() as u32
            }
            None => 0,
        }
    }

    /// Records a failure; returns the count including it.
    pub fn record_failure(&self, key: &str, now: Millis) -> u32 {
        let key = Self::key_of(key);
        let mut map = self.lock();
        let q = self.entry(&mut map, &key, now);
        if q.len() == MAX_PER_KEY {
            q.pop_front();
        }
        q.push_back(now);
        q.len() as u32
    }

    /// Records a failure now, before the check it stands for, unless `key` already has
    /// `threshold` failures in the window: then the seconds until it is under the threshold.
    /// Checking and recording happen under one lock, so of N parallel callers at most
    /// `threshold` get a slot.
    pub fn try_reserve(&self, key: &str, threshold: u32, now: Millis) -> Result<Slot, u64> {
        let key = Self::key_of(key);
        let mut map = self.lock();
        let q = self.entry(&mut map, &key, now);
        if q.len() as u32 >= threshold {
            return Err(Self::retry_after(q, threshold, self.window_ms, now));
        }
        q.push_back(now);
        Ok(Slot(now))
    }

    /// Gives a reserved slot back: the check it stood for passed (or did not run).
    pub fn release(&self, key: &str, slot: Slot) {
        let key = Self::key_of(key);
        let mut map = self.lock();
        if let Some(q) = map.get_mut(key.as_ref()) {
            if let Some(i) = q.iter().rposition(|&t| t == slot.0) {
                q.remove(i);
            }
            if q.is_empty() {
                map.remove(key.as_ref());
            }
        }
    }

    /// Seconds until the count of `key` drops below `threshold` (at least 1).
    pub fn retry_after_secs(&self, key: &str, threshold: u32, now: Millis) -> u64 {
        let key = Self::key_of(key);
        let map = self.lock();
        match map.get(key.as_ref()) {
            Some(q) => Self::retry_after(q, threshold, self.window_ms, now),
            None => 1,
        }
    }

    fn retry_after(q: &VecDeque<Millis>, threshold: u32, window_ms: i64, now: Millis) -> u64 {
        let live: Vec<Millis> = q.iter().copied().filter(|&t| t > now - window_ms).collect();
        if (live.len() as u32) < threshold || threshold == 0 {
            return 1;
        }
        // The failure whose expiry brings the count under the threshold.
        let idx = live.len() - threshold as usize;
        let frees_at = live[idx] + window_ms;
        (((frees_at - now).max(0) + 999) / 1000).max(1) as u64
    }

    pub fn reset(&self, key: &str) {
        let key = Self::key_of(key);
        self.lock().remove(key.as_ref());
    }

    /// The live failures of `key` (pruned to the window), made room for when the map is full.
    fn entry<'m>(
        &self,
        map: &'m mut HashMap<String, VecDeque<Millis>>,
        key: &str,
        now: Millis,
    ) -> &'m mut VecDeque<Millis> {
        let cutoff = now - self.window_ms;
        if map.len() >= PRUNE_AT && !map.contains_key(key) {
            map.retain(|_, q| q.back().is_some_and(|&t| t > cutoff));
            if map.len() >= MAX_KEYS {
                // Drop the tenth of the keys that failed longest ago (amortized: this runs
                // once per MAX_KEYS / 10 new keys at most).
                let mut by_age: Vec<(Millis, String)> = map
                    .iter()
                    .map(|(k, q)| (q.back().copied().unwrap_or(Millis::MIN), k.clone()))
                    .collect();
                let n = map.len() / 10;
                by_age.select_nth_unstable(n);
                for (_, k) in &by_age[..n] {
                    map.remove(k);
                }
            }
        }
        let q = map.entry(key.to_owned()).or_default();
        Self::prune(q, cutoff);
        q
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

    #[test]
    fn parallel_reservations_never_pass_the_threshold() {
        let t = std::sync::Arc::new(Throttle::new(60_000));
        let granted = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|s| {
            for _ in 0..32 {
                s.spawn(|| {
                    if t.try_reserve("user", 5, 1_000).is_ok() {
                        granted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(granted.into_inner(), 5);
        assert_eq!(t.count("user", 1_000), 5);
        assert_eq!(t.try_reserve("user", 5, 2_000), Err(59));
    }

    #[test]
    fn a_released_slot_is_not_a_failure() {
        let t = Throttle::new(60_000);
        let a = t.try_reserve("user", 2, 1_000).unwrap();
        let _b = t.try_reserve("user", 2, 1_500).unwrap();
        assert!(t.try_reserve("user", 2, 1_600).is_err());
        t.release("user", a);
        assert_eq!(t.count("user", 1_600), 1);
        assert!(t.try_reserve("user", 2, 1_700).is_ok());
    }

    #[test]
    fn long_keys_and_many_keys_stay_bounded() {
        let t = Throttle::new(i64::MAX / 4);
        let long = "x".repeat(60_000);
        t.record_failure(&long, 1);
        assert_eq!(t.count(&long, 2), 1);
        assert!(t.lock().keys().all(|k| k.len() <= MAX_KEY_LEN));
        for i in 0..(MAX_KEYS as i64 + 10) {
            t.record_failure(&format!("k{i}"), i);
        }
        let n = t.lock().len();
        assert!(n <= MAX_KEYS, "{n} keys");
        // The newest keys are the ones kept.
        assert_eq!(
            t.count(&format!("k{}", MAX_KEYS + 9), MAX_KEYS as i64 + 10),
            1
        );
    }
}
