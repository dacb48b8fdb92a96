//! Usage counters: OTPs per account, UTC day of creation, service, channel, country and current
//! status, with their price. Database triggers append every OTP insert and change to
//! `usage_deltas` inside the transaction that makes it; [`compact`] folds the deltas into
//! `usage_daily`, `usage_monthly` and (per hour, channel and status only, for the console's Home)
//! `usage_hourly`; readers add both, so a report always equals what the OTP table says.
//! [`rebuild`] recomputes everything from the OTP table (repair) and says how much differed.
use crate::domain::AccountSid;
use crate::on_db;
use crate::server::db::{BeginWrite, Db};
use std::collections::BTreeMap;

type ServiceResult<T> = anyhow::Result<T>;

/// `(account_sid, day, service, channel, country_code, status)`.
pub type UsageKey = (String, i64, String, String, String, String);
/// `(count, price)`.
pub type UsageValue = (i64, i64);

type Row = (String, i64, String, String, String, String, i64, i64);

/// Adds up `source` rows into `table`, keyed by `day_expr` (the day, or its month's first day).
fn fold(table: &str, day_expr: &str, source: &str) -> String {
    format!(
        "INSERT INTO {table} (account_sid, day, service, channel, country_code, status, count, price) \
         SELECT account_sid, {day_expr}, service, channel, country_code, status, SUM(count), SUM(price) FROM {source} WHERE true \
         GROUP BY account_sid, {day_expr}, service, channel, country_code, status \
         ON CONFLICT (account_sid, day, service, channel, country_code, status) \
         DO UPDATE SET count = {table}.count + excluded.count, price = {table}.price + excluded.price"
    )
}

/// Adds up `source` rows that know their hour into `usage_hourly` (deltas written before hours
/// were recorded have none; the migration that added the table counted their effect).
fn fold_hourly(source: &str) -> String {
    format!(
        "INSERT INTO usage_hourly (account_sid, hour, channel, status, count) \
         SELECT account_sid, hour, channel, status, SUM(count) FROM {source} WHERE hour IS NOT NULL \
         GROUP BY account_sid, hour, channel, status \
         ON CONFLICT (account_sid, hour, channel, status) \
         DO UPDATE SET count = usage_hourly.count + excluded.count"
    )
}

/// The first day of `day`'s UTC month, in days since 1970-01-01, in SQL.
fn month_of(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "CAST(julianday(date(day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER)",
        Db::Postgres(_) => "(date_trunc('month', DATE '1970-01-01' + day::int)::date - DATE '1970-01-01')::bigint",
    }
}

const FROM_OTPS: &str = "INSERT INTO usage_daily (account_sid, day, service, channel, country_code, status, count, price) \
    SELECT account_sid, date_created / 86400000, service, channel, COALESCE(country_code, ''), status, COUNT(*), SUM(price) \
    FROM otps GROUP BY account_sid, date_created / 86400000, service, channel, COALESCE(country_code, ''), status";

/// The hourly counters as the OTP table says they are (rebuild writes them, tests compare).
const HOURLY_TRUTH: &str =
    "SELECT account_sid, date_created / 3600000, channel, status, COUNT(*) FROM otps \
    GROUP BY account_sid, date_created / 3600000, channel, status";

/// Folds every committed delta into `usage_daily`, `usage_monthly` and `usage_hourly`; answers
/// how many deltas
/// were folded. One
/// compactor at a time (SQLite's write lock; a transaction-scoped advisory lock on PostgreSQL,
/// where another instance already compacting means this one skips).
pub async fn compact(db: &Db) -> ServiceResult<u64> {
    let n = match db {
        Db::Sqlite(pool) => {
            let mut tx = pool.begin_write().await?;
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_deltas")
                .fetch_one(&mut *tx)
                .await?;
            if n > 0 {
                sqlx::query(&fold("usage_daily", "day", "usage_deltas"))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&fold("usage_monthly", month_of(db), "usage_deltas"))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&fold_hourly("usage_deltas"))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM usage_deltas")
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            n as u64
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let mine: bool = sqlx::query_scalar(
                "SELECT pg_try_advisory_xact_lock(hashtext('smart2fa.usage.compact'))",
            )
            .fetch_one(&mut *tx)
            .await?;
            if !mine {
                return Ok(0);
            }
            // Exactly the rows this statement deletes are the rows it adds up.
            let sql = format!(
                "WITH moved AS (DELETE FROM usage_deltas RETURNING account_sid, day, hour, service, channel, country_code, status, count, price), \
                 daily AS ({}), monthly AS ({}), hourly AS ({}) SELECT COUNT(*) FROM moved",
                fold("usage_daily", "day", "moved"),
                fold("usage_monthly", month_of(db), "moved"),
                fold_hourly("moved")
            );
            let n: i64 = sqlx::query_scalar(&sql).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            n as u64
        }
    };
    Ok(n)
}

/// Every counter of `account` (all accounts when `None`) as the reports see them: folded
/// counters plus pending deltas, zeros left out.
pub async fn live(db: &Db, account: Option<&str>) -> ServiceResult<BTreeMap<UsageKey, UsageValue>> {
    let rows: Vec<Row> =
        on_db!(db, pool => sqlx::query_as::<_, Row>(LIVE).bind(account).fetch_all(pool).await)?;
    Ok(collect(rows))
}

const LIVE: &str = "SELECT account_sid, day, service, channel, country_code, status, CAST(SUM(count) AS BIGINT), CAST(SUM(price) AS BIGINT) FROM ( \
        SELECT account_sid, day, service, channel, country_code, status, count, price FROM usage_daily \
          WHERE ($1 IS NULL OR account_sid = $1) \
        UNION ALL \
        SELECT account_sid, day, service, channel, country_code, status, count, price FROM usage_deltas \
          WHERE ($1 IS NULL OR account_sid = $1)) AS u \
        GROUP BY account_sid, day, service, channel, country_code, status";

/// The same counters computed from the OTP table itself (the truth the counters must match).
pub async fn from_otps(
    db: &Db,
    account: Option<&str>,
) -> ServiceResult<BTreeMap<UsageKey, UsageValue>> {
    let rows: Vec<Row> =
        on_db!(db, pool => sqlx::query_as::<_, Row>(TRUTH).bind(account).fetch_all(pool).await)?;
    Ok(collect(rows))
}

const TRUTH: &str = "SELECT account_sid, date_created / 86400000, service, channel, COALESCE(country_code, ''), status, \
        COUNT(*), CAST(SUM(price) AS BIGINT) FROM otps WHERE ($1 IS NULL OR account_sid = $1) \
        GROUP BY account_sid, date_created / 86400000, service, channel, COALESCE(country_code, ''), status";

fn collect(rows: Vec<Row>) -> BTreeMap<UsageKey, UsageValue> {
    rows.into_iter()
        .filter(|r| r.6 != 0 || r.7 != 0)
        .map(|(a, d, s, c, cc, st, n, p)| ((a, d, s, c, cc, st), (n, p)))
        .collect()
}

/// What [`rebuild`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    /// Counter rows written.
    pub rows: u64,
    /// Counters whose live value differed from the OTP table before the rebuild.
    pub differences: usize,
}

/// Recomputes every counter from the OTP table while OTP writes wait (SQLite's write lock; a
/// SHARE lock on `otps` on PostgreSQL), then answers how many counters had differed.
pub async fn rebuild(db: &Db) -> ServiceResult<Rebuilt> {
    let (rows, live, truth) = on_db!(db, pool => async {
        let mut tx = pool.begin_write().await?;
        if matches!(db, Db::Postgres(_)) {
            sqlx::query("LOCK TABLE otps IN SHARE MODE").execute(&mut *tx).await?;
        }
        // Compared inside the lock, so concurrent sends cannot show up as differences.
        let none: Option<&str> = None;
        let live: Vec<Row> = sqlx::query_as(LIVE).bind(none).fetch_all(&mut *tx).await?;
        let truth: Vec<Row> = sqlx::query_as(TRUTH).bind(none).fetch_all(&mut *tx).await?;
        sqlx::query("DELETE FROM usage_deltas").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM usage_daily").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM usage_monthly").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM usage_hourly").execute(&mut *tx).await?;
        let rows = sqlx::query(FROM_OTPS).execute(&mut *tx).await?.rows_affected();
        sqlx::query(&format!(
            "INSERT INTO usage_hourly (account_sid, hour, channel, status, count) {HOURLY_TRUTH}"
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::query(&fold("usage_monthly", month_of(db), "usage_daily")).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>((rows, live, truth))
    }.await)?;
    let (live, truth) = (collect(live), collect(truth));
    let keys: std::collections::BTreeSet<&UsageKey> = live.keys().chain(truth.keys()).collect();
    let differences = keys
        .into_iter()
        .filter(|k| live.get(*k) != truth.get(*k))
        .count();
    Ok(Rebuilt { rows, differences })
}

/// Monthly counters that disagree with the daily counters added up by month (0 when consistent;
/// deltas not yet folded are not looked at).
pub async fn monthly_differences(db: &Db) -> ServiceResult<usize> {
    let month = month_of(db);
    let by_month = format!(
        "SELECT account_sid, {month}, service, channel, country_code, status, CAST(SUM(count) AS BIGINT), CAST(SUM(price) AS BIGINT) \
         FROM usage_daily GROUP BY account_sid, {month}, service, channel, country_code, status"
    );
    let monthly = "SELECT account_sid, day, service, channel, country_code, status, count, price FROM usage_monthly";
    let (a, b): (Vec<Row>, Vec<Row>) = on_db!(db, pool => {
        let a = sqlx::query_as::<_, Row>(&by_month).fetch_all(pool).await?;
        let b = sqlx::query_as::<_, Row>(monthly).fetch_all(pool).await?;
        (a, b)
    });
    let (a, b) = (collect(a), collect(b));
    let keys: std::collections::BTreeSet<&UsageKey> = a.keys().chain(b.keys()).collect();
    Ok(keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).count())
}

/// OTPs of `account` created at or after `since_ms`, per current channel and status: whole hours
/// from the hourly counters (folded and pending), the part of an hour before the first whole
/// one from the OTP table (`otps_by_account_created`), so the window is exact to the
/// millisecond while reading at most an hour of OTPs.
pub async fn recent(
    db: &Db,
    account: &AccountSid,
    since_ms: i64,
) -> ServiceResult<Vec<(String, String, i64)>> {
    const SQL: &str = "SELECT channel, status, CAST(SUM(n) AS BIGINT) FROM ( \
          SELECT channel, status, count AS n FROM usage_hourly WHERE account_sid = $1 AND hour >= $3 \
          UNION ALL \
          SELECT channel, status, count AS n FROM usage_deltas \
            WHERE account_sid = $1 AND day >= $3 / 24 AND hour >= $3 \
          UNION ALL \
          SELECT channel, status, 1 AS n FROM otps \
            WHERE account_sid = $1 AND date_created >= $2 AND date_created < $3 * 3600000) AS u \
        GROUP BY channel, status";
    let first_hour =
        since_ms.div_euclid(3_600_000) + i64::from(since_ms.rem_euclid(3_600_000) != 0);
    let rows: Vec<(String, String, i64)> = on_db!(db, pool => sqlx::query_as(SQL)
        .bind(account.as_str()).bind(since_ms).bind(first_hour).fetch_all(pool).await)?;
    Ok(rows.into_iter().filter(|r| r.2 != 0).collect())
}

/// The hourly counters of every account as Home reads them (folded plus pending, zeros left
/// out), and the same counted from the OTP table: `(account, hour, channel, status) → count`.
pub async fn hourly_live_and_truth(db: &Db) -> ServiceResult<(HourlyCounts, HourlyCounts)> {
    const LIVE: &str = "SELECT account_sid, hour, channel, status, CAST(SUM(count) AS BIGINT) FROM ( \
          SELECT account_sid, hour, channel, status, count FROM usage_hourly \
          UNION ALL \
          SELECT account_sid, hour, channel, status, count FROM usage_deltas WHERE hour IS NOT NULL) AS u \
        GROUP BY account_sid, hour, channel, status";
    type HourRow = (String, i64, String, String, i64);
    let (live, truth): (Vec<HourRow>, Vec<HourRow>) = on_db!(db, pool => {
        let a = sqlx::query_as::<_, HourRow>(LIVE).fetch_all(pool).await?;
        let b = sqlx::query_as::<_, HourRow>(HOURLY_TRUTH).fetch_all(pool).await?;
        (a, b)
    });
    let collect = |rows: Vec<HourRow>| -> HourlyCounts {
        rows.into_iter()
            .filter(|r| r.4 != 0)
            .map(|(a, h, c, s, n)| ((a, h, c, s), n))
            .collect()
    };
    Ok((collect(live), collect(truth)))
}

/// `(account_sid, hour, channel, status) → count`.
pub type HourlyCounts = BTreeMap<(String, i64, String, String), i64>;

/// Has `account` any sub-account?
pub async fn has_sub_accounts(db: &Db, account: &AccountSid) -> ServiceResult<bool> {
    let found: Option<String> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT sid FROM accounts WHERE parent_sid = $1 LIMIT 1")
        .bind(account.as_str()).fetch_optional(pool).await)?;
    Ok(found.is_some())
}

/// One counter row read for a report: day, the requested group values, count, verified, price.
pub type CounterRow = (i64, Vec<String>, i64, i64, i64);

/// What to read: `account`'s counters (folded and pending; with its sub-accounts' when asked)
/// between two days, summed per day and per the `group_by` columns, narrowed by `filters`
/// (column, value).
pub struct CounterQuery<'a> {
    pub account: &'a AccountSid,
    /// Sub-accounts are found by a subquery on their parent, never bound one by one (an account
    /// may have more sub-accounts than a statement may have parameters).
    pub include_subaccounts: bool,
    /// (first day, last day), days since 1970-01-01.
    pub range: (i64, i64),
    /// When whole months lie inside the range: (first month's first day, last month's first
    /// day, last month's last day); those months are read from the monthly counters.
    pub months: Option<(i64, i64, i64)>,
    pub group_by: &'a [&'static str],
    pub filters: &'a [(&'static str, String)],
}

pub async fn counters(db: &Db, q: &CounterQuery<'_>) -> ServiceResult<Vec<CounterRow>> {
    let (sql, args) = counters_sql(q);
    let n = q.group_by.len();
    let rows = on_db!(db, pool => {
        let mut query = sqlx::query(&sql);
        for a in &args {
            query = query.bind(a.clone());
        }
        let rows = query.fetch_all(pool).await?;
        rows.iter().map(|r| {
            use sqlx::Row as _;
            let day: i64 = r.try_get(0)?;
            let groups = (0..n).map(|i| r.try_get::<String, _>(1 + i)).collect::<Result<Vec<_>, _>>()?;
            Ok::<CounterRow, sqlx::Error>((day, groups, r.try_get(1 + n)?, r.try_get(2 + n)?, r.try_get(3 + n)?))
        }).collect::<Result<Vec<CounterRow>, sqlx::Error>>()?
    });
    Ok(rows)
}

/// The statement [`counters`] runs and its text arguments, in order.
fn counters_sql(q: &CounterQuery<'_>) -> (String, Vec<String>) {
    let (first_day, last_day) = q.range;
    let mut args: Vec<String> = vec![q.account.to_string()];
    let accounts = if q.include_subaccounts {
        "(account_sid = $1 OR account_sid IN (SELECT sid FROM accounts WHERE parent_sid = $1))"
    } else {
        "account_sid = $1"
    };
    let mut clauses = vec![accounts.to_owned()];
    for (column, value) in q.filters {
        args.push(value.clone());
        clauses.push(format!("{column} = ${}", args.len()));
    }
    let base = clauses.join(" AND ");
    let whole = format!("{base} AND day >= {first_day} AND day <= {last_day}");
    let columns = "day, service, channel, country_code, status, count, price";
    let counters = match q.months {
        None => format!("SELECT {columns} FROM usage_daily WHERE {whole}"),
        Some((m0, m1, m1_end)) => format!(
            "SELECT {columns} FROM usage_monthly WHERE {base} AND day >= {m0} AND day <= {m1} \
             UNION ALL SELECT {columns} FROM usage_daily WHERE {base} \
               AND ((day >= {first_day} AND day < {m0}) OR (day > {m1_end} AND day <= {last_day}))"
        ),
    };
    let select_groups: String = q.group_by.iter().map(|c| format!(", {c}")).collect();
    let sql = format!(
        "SELECT day{select_groups}, CAST(SUM(count) AS BIGINT), \
         CAST(SUM(CASE WHEN status = 'verified' THEN count ELSE 0 END) AS BIGINT), CAST(SUM(price) AS BIGINT) \
         FROM ({counters} UNION ALL SELECT {columns} FROM usage_deltas WHERE {whole}) AS u \
         GROUP BY day{select_groups}"
    );
    (sql, args)
}

/// The distinct values of `column` (`country_code` or `service`) in `accounts`' counters, sorted:
/// what a report filter can usefully offer. Reads the monthly counters and pending deltas.
pub async fn present(
    db: &Db,
    accounts: &[String],
    column: Dimension,
) -> ServiceResult<Vec<String>> {
    let column = match column {
        Dimension::Country => "country_code",
        Dimension::Service => "service",
    };
    let list = (1..=accounts.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT DISTINCT {column} FROM usage_monthly WHERE account_sid IN ({list}) AND {column} <> '' \
         UNION SELECT DISTINCT {column} FROM usage_deltas WHERE account_sid IN ({list}) AND {column} <> '' \
         ORDER BY 1"
    );
    Ok(on_db!(db, pool => {
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for a in accounts {
            q = q.bind(a.clone());
        }
        q.fetch_all(pool).await
    })?)
}

/// A report dimension whose present values [`present`] lists.
#[derive(Debug, Clone, Copy)]
pub enum Dimension {
    Country,
    Service,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sub-accounts are found by their parent inside the statement: however many there are, the
    /// statement binds the account and the filters only (SQLite allows ~32 766 parameters).
    #[test]
    fn sub_accounts_are_a_subquery_not_bound_one_by_one() {
        let account = AccountSid::generate();
        let filters = [("channel", "sms".to_owned())];
        for include_subaccounts in [false, true] {
            let (sql, args) = counters_sql(&CounterQuery {
                account: &account,
                include_subaccounts,
                range: (20_000, 20_010),
                months: Some((20_001, 20_005, 20_008)),
                group_by: &["status"],
                filters: &filters,
            });
            assert_eq!(args, [account.to_string(), "sms".to_owned()]);
            assert!(!sql.contains("$3"), "{sql}");
            assert_eq!(
                sql.contains("account_sid IN (SELECT sid FROM accounts WHERE parent_sid = $1)"),
                include_subaccounts,
                "{sql}"
            );
        }
    }
}
