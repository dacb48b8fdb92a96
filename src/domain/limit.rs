//! Named limits: names, buckets, and the sliding-window arithmetic (pure).
use serde::{Deserialize, Serialize};

pub const MAX_BUCKETS: usize = 2;
pub const MAX_OTP: i64 = 1_000_000;
/// One year, in seconds.
pub const MAX_INTERVAL: i64 = 366 * 24 * 3600;

/// A limit or bucket name: 1–64 of `[A-Za-z0-9_.-]`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub name: String,
    pub max_otp: i64,
    /// Seconds.
    pub interval: i64,
}

/// Why a set of buckets is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketError {
    None,
    TooMany,
    Name(usize),
    DuplicateName(usize),
    MaxOtp(usize),
    Interval(usize),
}

pub fn validate_buckets(buckets: &[Bucket]) -> Result<(), BucketError> {
    if buckets.is_empty() {
        return Err(BucketError::None);
    }
    if buckets.len() > MAX_BUCKETS {
        return Err(BucketError::TooMany);
    }
    for (i, b) in buckets.iter().enumerate() {
        if !valid_name(&b.name) {
            return Err(BucketError::Name(i));
        }
        if buckets[..i].iter().any(|o| o.name == b.name) {
            return Err(BucketError::DuplicateName(i));
        }
        if !(1..=MAX_OTP).contains(&b.max_otp) {
            return Err(BucketError::MaxOtp(i));
        }
        if !(1..=MAX_INTERVAL).contains(&b.interval) {
            return Err(BucketError::Interval(i));
        }
    }
    Ok(())
}

/// The exact sliding window: `nth_newest` is the time of the `max_otp`-th most recent accepted
/// hit (None when there are fewer). A send at `now` fits when that hit is at least `interval`
/// old. Otherwise returns the milliseconds until it will fit.
pub fn wait_ms(bucket: &Bucket, nth_newest: Option<i64>, now: i64) -> Option<i64> {
    let at = nth_newest?;
    let frees = at + bucket.interval * 1000;
    (frees > now).then_some(frees - now)
}

/// A named limit of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub sid: super::ids::LimitSid,
    pub account_sid: super::ids::AccountSid,
    pub name: String,
    pub description: String,
    pub buckets: Vec<Bucket>,
    pub date_created: i64,
    pub date_updated: i64,
}

/// A full bucket of a send's limits: the one whose wait is the longest decides the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The limit's name and the bucket's.
    pub limit: String,
    pub bucket: String,
    /// Milliseconds until every full bucket has room again.
    pub wait_ms: i64,
    /// Every limit with a full bucket (for the timeline).
    pub full: Vec<String>,
}

impl Refusal {
    /// Whole seconds to wait (rounded up), as `retryAfter` says.
    pub fn retry_after(&self) -> i64 {
        (self.wait_ms + 999) / 1000
    }
}

/// Decides a send from its checks: for each (limit name, bucket), the time of that bucket's
/// `max_otp`-th newest hit. `None`: every bucket has room.
pub fn decide<'a>(
    checks: impl IntoIterator<Item = (&'a str, &'a Bucket, Option<i64>)>,
    now: i64,
) -> Option<Refusal> {
    let mut refusal: Option<Refusal> = None;
    let mut full: Vec<String> = Vec::new();
    for (limit, bucket, nth) in checks {
        if let Some(wait) = wait_ms(bucket, nth, now) {
            full.push(limit.to_owned());
            if refusal.as_ref().is_none_or(|r| wait > r.wait_ms) {
                refusal = Some(Refusal {
                    limit: limit.to_owned(),
                    bucket: bucket.name.clone(),
                    wait_ms: wait,
                    full: Vec::new(),
                });
            }
        }
    }
    refusal.map(|r| Refusal { full, ..r })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(max: i64, interval: i64) -> Bucket {
        Bucket {
            name: "b".into(),
            max_otp: max,
            interval,
        }
    }

    #[test]
    fn names() {
        assert!(valid_name("per_ip") && valid_name("a.b-C_9"));
        assert!(
            !valid_name("")
                && !valid_name("per ip")
                && !valid_name("café")
                && !valid_name(&"x".repeat(65))
        );
    }

    #[test]
    fn bucket_rules() {
        assert_eq!(validate_buckets(&[]), Err(BucketError::None));
        assert_eq!(
            validate_buckets(&[b(1, 1), b(1, 1), b(1, 1)]),
            Err(BucketError::TooMany)
        );
        assert_eq!(validate_buckets(&[b(0, 60)]), Err(BucketError::MaxOtp(0)));
        assert_eq!(validate_buckets(&[b(5, 0)]), Err(BucketError::Interval(0)));
        assert_eq!(
            validate_buckets(&[b(MAX_OTP + 1, 60)]),
            Err(BucketError::MaxOtp(0))
        );
        assert_eq!(
            validate_buckets(&[b(5, MAX_INTERVAL + 1)]),
            Err(BucketError::Interval(0))
        );
        assert_eq!(
            validate_buckets(&[b(5, 60), b(30, 86400)]),
            Err(BucketError::DuplicateName(1))
        );
        let ok = [
            b(5, 60),
            Bucket {
                name: "day".into(),
                max_otp: 30,
                interval: 86400,
            },
        ];
        assert_eq!(validate_buckets(&ok), Ok(()));
    }

    #[test]
    fn window_boundary_is_exact() {
        let bucket = b(2, 60);
        assert_eq!(wait_ms(&bucket, None, 1000), None, "fewer hits than maxOtp");
        // The 2nd newest hit at t=0: blocked until t=60 000 exactly, free at it.
        assert_eq!(wait_ms(&bucket, Some(0), 59_999), Some(1));
        assert_eq!(wait_ms(&bucket, Some(0), 60_000), None);
    }

    #[test]
    fn the_longest_wait_decides() {
        let minute = b(1, 60);
        let day = Bucket {
            name: "day".into(),
            max_otp: 1,
            interval: 86400,
        };
        assert_eq!(decide([("a", &minute, None)], 1000), None);
        let r = decide(
            [
                ("a", &minute, Some(0)),
                ("b", &day, Some(0)),
                ("c", &minute, None),
            ],
            1000,
        )
        .unwrap();
        assert_eq!((r.limit.as_str(), r.bucket.as_str()), ("b", "day"));
        assert_eq!(r.full, vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(r.retry_after(), 86_399);
    }
}
