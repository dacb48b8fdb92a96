//! The bulk insert behind `smart2fa seed`: one set-based statement per day of synthetic OTPs.
use super::Db;
use crate::on_db;

/// One day of seeded OTPs: `count` OTPs numbered from `offset` (sids `OTP<prefix><n>`), within
/// `span` ms from `day_start` (a UTC day's start), denser around the middle.
pub struct SeedDay<'a> {
    pub account: &'a str,
    pub prefix: &'a str,
    pub offset: i64,
    pub count: i64,
    pub day_start: i64,
    pub span: i64,
}

/// Inserts a day of OTPs into `account`. Countries are `(country, weight in ‰, calling code)`
/// (weights summing to 1000); services get 30/20/20/10/20 % of the traffic.
pub async fn insert_otps(
    db: &Db,
    day: &SeedDay<'_>,
    countries: &[(&str, u32, &str)],
    services: &[&str; 5],
) -> sqlx::Result<()> {
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
        countries
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
        countries
            .iter()
            .map(|(c, _, code)| format!("WHEN '{c}' THEN '{code}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let service = format!(
        "CASE (n * 31) % 10 WHEN 0 THEN '{0}' WHEN 1 THEN '{0}' WHEN 2 THEN '{0}' WHEN 3 THEN '{1}' WHEN 4 THEN '{1}' \
         WHEN 5 THEN '{2}' WHEN 6 THEN '{2}' WHEN 7 THEN '{3}' ELSE '{4}' END",
        services[0], services[1], services[2], services[3], services[4]
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
        .bind(day.account).bind(day.prefix).bind(day.offset).bind(day.count).bind(day.day_start).bind(day.span)
        .execute(pool).await.map(|_| ()))
}

/// After a bulk load: PostgreSQL's planner statistics still describe the empty tables until
/// autovacuum gets to them, so refresh them now (SQLite: nothing to do).
pub async fn refresh_statistics(db: &Db) -> sqlx::Result<()> {
    if let Db::Postgres(pool) = db {
        sqlx::query("ANALYZE otps, usage_daily, usage_monthly, usage_deltas")
            .execute(pool)
            .await?;
    }
    Ok(())
}
