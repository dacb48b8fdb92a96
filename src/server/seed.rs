//! `smart2fa seed`: a realistic OTP history for an account, in bulk — several services, three
//! channels, 40 countries, every status, more traffic on weekdays and around midday — written
//! with set-based SQL (one statement per day). The rows go into `otps` like any other, so the
//! usage triggers record them exactly as they record live traffic; deltas are folded after each
//! day. A test checks counters == OTP table after a seed.
use super::clock::{Clock, SystemClock};
use super::db::Db;
use super::services::usage;
use crate::on_db;

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
            insert_day(db, account, &prefix, written, count, (day_start, span)).await?;
            written += count;
            usage::compact(db).await?;
        }
        progress(written);
    }
    // A bulk load leaves PostgreSQL's planner statistics describing the empty tables until
    // autovacuum gets to them; refresh them now so the first reports get good plans.
    if let Db::Postgres(pool) = db {
        sqlx::query("ANALYZE otps, usage_daily, usage_monthly, usage_deltas")
            .execute(pool)
            .await?;
    }
    Ok(written)
}

/// `count` OTPs numbered from `offset`, within `span` ms from `day_start` (a UTC day's start),
/// denser around the middle.
async fn insert_day(
    db: &Db,
    account: &str,
    prefix: &str,
    offset: i64,
    count: i64,
    (day_start, span): (i64, i64),
) -> anyhow::Result<()> {
    let (series, sid, digits) = match db {
        Db::Sqlite(_) => (
            "WITH RECURSIVE g(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM g WHERE k + 1 < $4) SELECT k FROM g",
            "'OTP' || $2 || printf('%024x', n)",
            "printf('%07d', n * 7919 % 10000000)",
        ),
        Db::Postgres(_) => (
            "SELECT generate_series(0, $4::bigint - 1) AS k",
            "'OTP' || $2 || lpad(to_hex(n), 24, '0')",
            "lpad((n * 7919 % 10000000)::text, 7, '0')",
        ),
    };
    let mut bound = 0;
    let country = format!(
        "CASE {} END",
        COUNTRIES
            .iter()
            .map(|(c, w, _)| {
                bound += w;
                format!("WHEN pick < {bound} THEN '{c}'")
            })
            .collect::<Vec<_>>()
            .join(" ")
    );
    let calling = format!(
        "CASE cc {} END",
        COUNTRIES
            .iter()
            .map(|(c, _, code)| format!("WHEN '{c}' THEN '{code}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let service = format!(
        "CASE (n * 31) % 10 WHEN 0 THEN '{0}' WHEN 1 THEN '{0}' WHEN 2 THEN '{0}' WHEN 3 THEN '{1}' WHEN 4 THEN '{1}' \
         WHEN 5 THEN '{2}' WHEN 6 THEN '{2}' WHEN 7 THEN '{3}' ELSE '{4}' END",
        SERVICES[0], SERVICES[1], SERVICES[2], SERVICES[3], SERVICES[4]
    );
    // Statuses (per 100): 72 verified, 8 expired, 5 delivered (never verified), 4 failed,
    // 4 canceled, 3 max_attempts, 2 blocked, 1 sent, 1 pending.
    let status =
        "CASE WHEN r < 72 THEN 'verified' WHEN r < 80 THEN 'expired' WHEN r < 85 THEN 'delivered' \
        WHEN r < 89 THEN 'failed' WHEN r < 93 THEN 'canceled' WHEN r < 96 THEN 'max_attempts' \
        WHEN r < 98 THEN 'blocked' WHEN r < 99 THEN 'sent' ELSE 'pending' END";
    let sql = format!(
        "INSERT INTO otps (sid, account_sid, service, reference, channel, workflow, workflow_timeout, to_number, email_to, \
         country_code, language, voice, repeat_count, code_hash, code_length, code_type, expires_at, max_attempts, \
         verify_attempts, status, price, date_created, date_updated, sent_at, verified_at) \
         SELECT {sid}, $1, svc, 'seed-' || n, ch, ch, 60, \
           CASE WHEN ch = 'email' THEN NULL ELSE '+' || {calling} || {digits} END, \
           CASE WHEN ch = 'email' THEN 'user' || (n % 2000000) || '@example.com' ELSE NULL END, \
           CASE WHEN ch = 'email' THEN NULL ELSE cc END, 'en-US', 'woman', 1, 'seeded', 6, 'numeric', at + 600000, 5, \
           CASE WHEN st = 'max_attempts' THEN 5 ELSE 0 END, st, \
           CASE WHEN st IN ('blocked', 'failed') THEN 0 WHEN ch = 'sms' THEN 7500 WHEN ch = 'call' THEN 13000 ELSE 500 END, \
           at, at, CASE WHEN st IN ('blocked', 'pending') THEN NULL ELSE at + 800 END, \
           CASE WHEN st = 'verified' THEN at + 45000 ELSE NULL END \
         FROM (SELECT n, ch, svc, at, {country} AS cc, {status} AS st FROM ( \
                 SELECT n, at, (n * 7) % 1000 AS pick, (n * 13) % 100 AS r, {service} AS svc, \
                   CASE WHEN (n * 17) % 100 < 60 THEN 'sms' WHEN (n * 17) % 100 < 88 THEN 'email' ELSE 'call' END AS ch \
                 FROM (SELECT $3 + k AS n, \
                   $5 + CAST($6 * (0.5 + 4 * ((k + 0.5) / $4 - 0.5) * ((k + 0.5) / $4 - 0.5) * ((k + 0.5) / $4 - 0.5)) AS BIGINT) AS at \
                   FROM ({series}) AS s) AS a) AS b) AS c"
    );
    on_db!(db, pool => sqlx::query(&sql)
        .bind(account).bind(prefix).bind(offset).bind(count).bind(day_start).bind(span)
        .execute(pool).await.map(|_| ()))?;
    Ok(())
}
