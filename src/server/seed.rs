//! `smart2fa seed`: a realistic OTP history for an account, in bulk — several services, three
//! channels, 40 countries, every status, more traffic on weekdays and around midday — written
//! with set-based SQL (one statement per day). The rows go into `otps` like any other, so the
//! usage triggers record them exactly as they record live traffic; deltas are folded after each
//! day. A test checks counters == OTP table after a seed.
use super::clock::{Clock, SystemClock};
use super::db::seed::{self as db_seed, SeedDay};
use super::db::Db;
use super::services::usage;

/// `(country, weight in ‰, calling code)`: 40 countries, weights summing to 1000 (a test checks).
const COUNTRIES: [(&str, u32, &str); 40] = [
    ("US", 188, "1"),
    ("GB", 70, "44"),
    ("DE", 50, "49"),
    ("FR", 50, "33"),
    ("IN", 50, "91"),
    ("BR", 50, "55"),
    ("MX", 35, "52"),
    ("ES", 30, "34"),
    ("IT", 30, "39"),
    ("CA", 30, "1"),
    ("NG", 25, "234"),
    ("JP", 25, "81"),
    ("AU", 20, "61"),
    ("NL", 20, "31"),
    ("SE", 15, "46"),
    ("PL", 20, "48"),
    ("TR", 20, "90"),
    ("ID", 25, "62"),
    ("PH", 20, "63"),
    ("ZA", 15, "27"),
    ("AR", 15, "54"),
    ("CO", 15, "57"),
    ("EG", 15, "20"),
    ("KE", 10, "254"),
    ("PT", 10, "351"),
    ("BE", 10, "32"),
    ("CH", 10, "41"),
    ("AT", 10, "43"),
    ("IE", 10, "353"),
    ("DK", 8, "45"),
    ("NO", 8, "47"),
    ("FI", 7, "358"),
    ("GR", 10, "30"),
    ("RO", 12, "40"),
    ("UA", 12, "380"),
    ("VN", 15, "84"),
    ("TH", 13, "66"),
    ("MY", 10, "60"),
    ("SG", 8, "65"),
    ("NZ", 4, "64"),
];
#[cfg(test)]
#[test]
fn country_weights_sum_to_1000() {
    assert_eq!(COUNTRIES.iter().map(|c| c.1).sum::<u32>(), 1000);
}

const SERVICES: [&str; 5] = ["Shop", "Bank", "Games", "Travel", "Health"];

/// Seeds `otps` OTPs over the `days` days ending now into `account`; `progress` is told the
/// total so far after each day. Answers the rows written.
pub async fn seed(
    db: &Db,
    account: &str,
    otps: i64,
    days: i64,
    progress: &mut (dyn FnMut(i64) + Send),
) -> anyhow::Result<i64> {
    let otps = otps.clamp(1, 50_000_000);
    let days = days.clamp(1, 3650);
    let now = SystemClock.now_ms();
    let today = now.div_euclid(86_400_000);
    let first = today - days + 1;
    // Weekdays weigh 5, weekends 3, with a slow growth over the period.
    let weights: Vec<f64> = (first..=today)
        .map(|d| {
            let weekday = (d + 3).rem_euclid(7); // 1970-01-01 was a Thursday: 0 = Monday
            let base = if weekday >= 5 { 3.0 } else { 5.0 };
            base * (0.7 + 0.6 * (d - first) as f64 / days as f64)
        })
        .collect();
    let total_weight: f64 = weights.iter().sum();
    let prefix = super::crypto::random_hex(4);
    let mut written = 0i64;
    let mut carry = 0.0;
    for (n, w) in weights.iter().enumerate() {
        let exact = otps as f64 * w / total_weight + carry;
        let mut count = exact.floor() as i64;
        carry = exact - count as f64;
        if n + 1 == weights.len() {
            count = otps - written;
        }
        if count > 0 {
            let day_start = (first + n as i64) * 86_400_000;
            // Today's OTPs all lie before now.
            let span = (now - day_start).clamp(1, 86_399_999);
            let day = SeedDay {
                account,
                prefix: &prefix,
                offset: written,
                count,
                day_start,
                span,
            };
            db_seed::insert_otps(db, &day, &COUNTRIES, &SERVICES).await?;
            written += count;
            usage::compact(db).await?;
        }
        progress(written);
    }
    // A bulk load leaves PostgreSQL's planner statistics describing the empty tables until
    // autovacuum gets to them; refresh them now so the first reports get good plans.
    db_seed::refresh_statistics(db).await?;
    Ok(written)
}
