//! `GET|POST /2fa/usage/records[/{period}]`: OTP counts, verified counts, conversion and price
//! per period, read from the usage counters (never a scan of the OTPs).
use crate::domain::ErrorCode;
use crate::on_db;
use crate::server::db::Db;
use crate::server::services::otp::input::Fields;
use crate::server::services::otp::sdr::Paging;
use crate::server::services::{AccountScope, ServiceError, ServiceResult};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use time::{Date, Duration, Month};

/// How records are cut: the whole range, or one per day, month or year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Total,
    Daily,
    Monthly,
    Yearly,
    AllTime,
    Today,
    Yesterday,
    ThisMonth,
    LastMonth,
}

impl Period {
    pub fn parse(raw: &str) -> ServiceResult<Self> {
        Ok(match raw.to_ascii_lowercase().as_str() {
            "daily" => Period::Daily,
            "monthly" => Period::Monthly,
            "yearly" => Period::Yearly,
            "alltime" => Period::AllTime,
            "today" => Period::Today,
            "yesterday" => Period::Yesterday,
            "thismonth" => Period::ThisMonth,
            "lastmonth" => Period::LastMonth,
            _ => {
                return Err(ServiceError::rule(
                    ErrorCode::NotFound,
                    format!("Unknown usage period {raw:?}: use Daily, Monthly, Yearly, AllTime, Today, Yesterday, ThisMonth or LastMonth."),
                ))
            }
        })
    }

    fn path(self) -> &'static str {
        match self {
            Period::Total => "",
            Period::Daily => "/Daily",
            Period::Monthly => "/Monthly",
            Period::Yearly => "/Yearly",
            Period::AllTime => "/AllTime",
            Period::Today => "/Today",
            Period::Yesterday => "/Yesterday",
            Period::ThisMonth => "/ThisMonth",
            Period::LastMonth => "/LastMonth",
        }
    }
}

/// The fields records can be grouped by, with their counter column.
const GROUPS: [(&str, &str); 4] = [
    ("channel", "channel"),
    ("countryCode", "country_code"),
    ("status", "status"),
    ("service", "service"),
];

const EPOCH: Date = time::macros::date!(1970 - 01 - 01);

fn day_of(d: Date) -> i64 {
    (d - EPOCH).whole_days()
}

pub fn date_of(day: i64) -> Date {
    EPOCH + Duration::days(day)
}

pub fn month_start(d: Date) -> Date {
    d.replace_day(1).expect("day 1 exists")
}

fn prev_month_start(d: Date) -> Date {
    let first = month_start(d);
    month_start(first - Duration::days(1))
}

/// `YYYY-MM-DD`, or relative to today: `-30days`, `-2months`, `-1year`, `today`.
pub fn parse_date(field: &'static str, raw: &str, today: Date) -> ServiceResult<Date> {
    let raw = raw.trim();
    let bad = || {
        ServiceError::invalid(
            field,
            format!(
                "{field} must be a date like 2026-11-26 or relative like -30days (got {raw:?})."
            ),
        )
    };
    if raw.eq_ignore_ascii_case("today") {
        return Ok(today);
    }
    if let Some(rel) = raw.strip_prefix('-') {
        let digits: String = rel.chars().take_while(|c| c.is_ascii_digit()).collect();
        let n: i64 = digits.parse().map_err(|_| bad())?;
        if n > 36_500 {
            return Err(bad());
        }
        return match rel[digits.len()..].to_ascii_lowercase().as_str() {
            "day" | "days" => Ok(today - Duration::days(n)),
            "month" | "months" | "year" | "years" => {
                let months = if rel[digits.len()..].to_ascii_lowercase().starts_with('y') {
                    n * 12
                } else {
                    n
                };
                let total = today.year() as i64 * 12 + (today.month() as i64 - 1) - months;
                let (y, m) = (
                    total.div_euclid(12) as i32,
                    (total.rem_euclid(12) + 1) as u8,
                );
                let month = Month::try_from(m).map_err(|_| bad())?;
                let last = month.length(y);
                Date::from_calendar_date(y, month, today.day().min(last)).map_err(|_| bad())
            }
            _ => Err(bad()),
        };
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, &fmt).map_err(|_| bad())
}

/// One counter row read for a report: day, the requested group values, count, verified, price.
type Row = (i64, Vec<String>, i64, i64, i64);

pub async fn records(
    db: &Db,
    caller: &AccountScope,
    raw: &Map<String, Value>,
    period: Period,
    today_ms: i64,
) -> ServiceResult<Value> {
    let paging = Paging::parse(&Fields(raw))?;
    let all = compute(db, caller, raw, period, today_ms).await?;
    let total = all.records.len() as i64;
    let from = (paging.page * paging.page_size).min(total) as usize;
    let page: Vec<Value> = all
        .records
        .into_iter()
        .skip(from)
        .take(paging.page_size as usize)
        .collect();
    let mut out = paging.envelope(total, page.len(), &all.path, &all.echo);
    out.insert("usageRecords".into(), Value::Array(page));
    Ok(Value::Object(out))
}

/// Every record of a report (unpaged), with the range it covers.
pub struct Computed {
    pub records: Vec<Value>,
    /// First and last day of the range, inclusive.
    pub start: Date,
    pub end: Date,
    /// The report's path and its parameters as understood (for `uri` and the envelope).
    pub path: String,
    pub echo: Vec<(String, String)>,
}

/// The first and last day of every period of `period` in `start..=end` (the first and last cut
/// to the range), in order.
pub fn periods(period: Period, start: Date, end: Date) -> Vec<(Date, Date)> {
    let mut out = Vec::new();
    let mut d = start;
    while d <= end {
        let next = match period {
            Period::Daily => d + Duration::days(1),
            Period::Monthly => month_start(month_start(d) + Duration::days(32)),
            Period::Yearly => {
                Date::from_calendar_date(d.year() + 1, Month::January, 1).expect("Jan 1")
            }
            _ => end + Duration::days(1),
        };
        out.push((d, (next - Duration::days(1)).min(end)));
        d = next;
    }
    out
}

/// The records of a report, all of them, in order of period then group values.
pub async fn compute(
    db: &Db,
    caller: &AccountScope,
    raw: &Map<String, Value>,
    period: Period,
    today_ms: i64,
) -> ServiceResult<Computed> {
    let f = Fields(raw);
    let scope = f.scope(db, caller).await?;
    let today = date_of(today_ms.div_euclid(86_400_000));

    // The range, inclusive.
    let (start, end) = match period {
        Period::Today => (today, today),
        Period::Yesterday => (today - Duration::days(1), today - Duration::days(1)),
        Period::ThisMonth => (month_start(today), today),
        Period::LastMonth => {
            let first = prev_month_start(today);
            (first, month_start(today) - Duration::days(1))
        }
        Period::AllTime => (EPOCH, today),
        _ => {
            let end = match f.string("endDate")? {
                Some(s) => parse_date("endDate", &s, today)?,
                None => today,
            };
            let start = match f.string("startDate")? {
                Some(s) => parse_date("startDate", &s, today)?,
                None => end - Duration::days(29),
            };
            (start, end)
        }
    };
    if start > end {
        return Err(ServiceError::invalid(
            "endDate",
            format!("endDate ({end}) must not be before startDate ({start})."),
        ));
    }

    let include_subaccounts = f.bool("includeSubaccounts")?.unwrap_or(false);
    let mut accounts = vec![scope.sid().as_str().to_owned()];
    if include_subaccounts {
        let subs: Vec<String> = on_db!(db, pool => sqlx::query_scalar("SELECT sid FROM accounts WHERE parent_sid = $1")
            .bind(scope.sid().as_str()).fetch_all(pool).await)?;
        accounts.extend(subs);
    }
    let group_by: Vec<(&str, &str)> = match f.list("groupBy")? {
        None => Vec::new(),
        Some(items) => {
            let mut out = Vec::new();
            for item in items {
                let g = GROUPS.iter().find(|(name, _)| name.eq_ignore_ascii_case(&item)).ok_or_else(|| {
                    ServiceError::invalid("groupBy", format!("groupBy: unknown field {item:?} (use channel, countryCode, status, service)."))
                })?;
                if !out.contains(g) {
                    out.push(*g);
                }
            }
            out
        }
    };

    // Filters.
    let mut filters: Vec<(&str, String)> = Vec::new();
    let mut echo = scope.acting_for(caller);
    if include_subaccounts {
        echo.push(("includeSubaccounts".into(), "true".into()));
    }
    if let Some(ch) = f.channel()? {
        filters.push(("channel", ch.as_str().into()));
        echo.push(("channel".into(), ch.as_str().into()));
    }
    if let Some(c) = f.country_code()? {
        echo.push(("countryCode".into(), c.clone()));
        filters.push(("country_code", c));
    }
    if let Some(st) = f.status()? {
        filters.push(("status", st.as_str().into()));
        echo.push(("status".into(), st.as_str().into()));
    }
    if let Some(s) = f.text("service", 1, 64)? {
        echo.push(("service".into(), s.clone()));
        filters.push(("service", s));
    }
    if matches!(
        period,
        Period::Total | Period::Daily | Period::Monthly | Period::Yearly
    ) {
        echo.push(("startDate".into(), start.to_string()));
        echo.push(("endDate".into(), end.to_string()));
    }
    if !group_by.is_empty() {
        echo.push((
            "groupBy".into(),
            group_by
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(","),
        ));
    }

    // Whole months inside the range are read from the monthly counters (a year is ~12 rows per
    // combination instead of ~365); the days around them, and Daily reports, from the daily ones.
    let months = if matches!(period, Period::Daily | Period::Today | Period::Yesterday) {
        None
    } else {
        let first = if start.day() == 1 {
            start
        } else {
            month_start(month_start(start) + Duration::days(32))
        };
        let after_end = end + Duration::days(1);
        let last_end = if after_end.day() == 1 {
            end
        } else {
            month_start(end) - Duration::days(1)
        };
        (first <= last_end).then(|| {
            (
                day_of(first),
                day_of(month_start(last_end)),
                day_of(last_end),
            )
        })
    };
    let rows = read(
        db,
        &accounts,
        (day_of(start), day_of(end)),
        months,
        &group_by,
        &filters,
    )
    .await?;

    // Fold days into periods: key = (period start, group values).
    let bucket = |day: i64| -> Date {
        let d = date_of(day);
        match period {
            Period::Daily => d,
            Period::Monthly => month_start(d).max(start),
            Period::Yearly => Date::from_calendar_date(d.year(), Month::January, 1)
                .expect("Jan 1")
                .max(start),
            _ => start,
        }
    };
    let mut totals: BTreeMap<(Date, Vec<String>), (i64, i64, i64)> = BTreeMap::new();
    for (day, groups, count, verified, price) in rows {
        let t = totals.entry((bucket(day), groups)).or_default();
        t.0 += count;
        t.1 += verified;
        t.2 += price;
    }
    // Without grouping, every period of the range has a record (zeros included), so a chart has
    // one point per day/month/year.
    if group_by.is_empty() {
        for (first, _) in periods(period, start, end) {
            totals.entry((first, Vec::new())).or_default();
        }
    }
    let period_end = |first: Date| -> Date {
        let last = match period {
            Period::Daily => first,
            Period::Monthly => {
                month_start(month_start(first) + Duration::days(32)) - Duration::days(1)
            }
            Period::Yearly => {
                Date::from_calendar_date(first.year(), Month::December, 31).expect("Dec 31")
            }
            _ => end,
        };
        last.min(end)
    };
    let account_label = if accounts.len() > 1 {
        format!("{} and sub-accounts", scope.sid())
    } else {
        scope.sid().to_string()
    };
    let query_string = crate::domain::url::query_string(&echo);
    let path = format!("/2fa/usage/records{}", period.path());
    let all: Vec<Value> = totals
        .into_iter()
        .filter(|((_, groups), (count, _, _))| group_by.is_empty() || *count != 0 || groups.is_empty())
        .map(|((first, groups), (count, verified, price))| {
            let mut r = json!({
                "accountSid": scope.sid().as_str(),
                "startTime": first.to_string(),
                "endTime": period_end(first).to_string(),
                "channel": "all", "countryCode": "all", "status": "all", "service": "all",
                "count": count,
                "verified": verified,
                "conversionRate": if count > 0 { (verified as f64 / count as f64 * 10_000.0).round() / 10_000.0 } else { 0.0 },
                "price": format!("{:.4}", price as f64 / 1_000_000.0),
                "priceUnit": "USD",
                "unit": "OTP",
            });
            for (&(name, _), value) in group_by.iter().zip(groups.iter()) {
                r[name] = Value::String(if value.is_empty() { "none".into() } else { value.clone() });
            }
            for (column, value) in &filters {
                if let Some((name, _)) = GROUPS.iter().find(|(_, c)| c == column) {
                    r[*name] = Value::String(value.clone());
                }
            }
            let described: Vec<String> = GROUPS
                .iter()
                .filter(|(n, _)| r[*n] != "all")
                .map(|(n, _)| format!("{n} {}", r[*n].as_str().unwrap_or_default()))
                .collect();
            r["description"] = Value::String(format!(
                "OTP requests of {account_label}{}",
                if described.is_empty() { String::new() } else { format!(", {}", described.join(", ")) }
            ));
            r["uri"] = Value::String(format!("{path}?{query_string}"));
            r
        })
        .collect();
    Ok(Computed {
        records: all,
        start,
        end,
        path,
        echo,
    })
}

/// Counter rows (folded and pending) of `accounts` between two days, summed per day and per
/// requested group.
/// `range` is (first day, last day); `months`, when whole months lie inside it, is (first
/// month's first day, last month's first day, last month's last day).
async fn read(
    db: &Db,
    accounts: &[String],
    range: (i64, i64),
    months: Option<(i64, i64, i64)>,
    group_by: &[(&str, &str)],
    filters: &[(&str, String)],
) -> ServiceResult<Vec<Row>> {
    let (first_day, last_day) = range;
    let mut args: Vec<String> = Vec::new();
    let account_list = accounts
        .iter()
        .map(|a| {
            args.push(a.clone());
            format!("${}", args.len())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut clauses = vec![format!("account_sid IN ({account_list})")];
    for (column, value) in filters {
        args.push(value.clone());
        clauses.push(format!("{column} = ${}", args.len()));
    }
    let base = clauses.join(" AND ");
    let whole = format!("{base} AND day >= {first_day} AND day <= {last_day}");
    let columns = "day, service, channel, country_code, status, count, price";
    let counters = match months {
        None => format!("SELECT {columns} FROM usage_daily WHERE {whole}"),
        Some((m0, m1, m1_end)) => format!(
            "SELECT {columns} FROM usage_monthly WHERE {base} AND day >= {m0} AND day <= {m1} \
             UNION ALL SELECT {columns} FROM usage_daily WHERE {base} \
               AND ((day >= {first_day} AND day < {m0}) OR (day > {m1_end} AND day <= {last_day}))"
        ),
    };
    let cols = group_by.iter().map(|(_, c)| *c).collect::<Vec<_>>();
    let select_groups: String = cols.iter().map(|c| format!(", {c}")).collect();
    let sql = format!(
        "SELECT day{select_groups}, CAST(SUM(count) AS BIGINT), \
         CAST(SUM(CASE WHEN status = 'verified' THEN count ELSE 0 END) AS BIGINT), CAST(SUM(price) AS BIGINT) \
         FROM ({counters} UNION ALL SELECT {columns} FROM usage_deltas WHERE {whole}) AS u \
         GROUP BY day{select_groups}"
    );
    let n = cols.len();
    let rows = on_db!(db, pool => {
        let mut q = sqlx::query(&sql);
        for a in &args {
            q = q.bind(a.clone());
        }
        let rows = q.fetch_all(pool).await?;
        rows.iter().map(|r| {
            use sqlx::Row as _;
            let day: i64 = r.try_get(0)?;
            let groups = (0..n).map(|i| r.try_get::<String, _>(1 + i)).collect::<Result<Vec<_>, _>>()?;
            Ok::<Row, sqlx::Error>((day, groups, r.try_get(1 + n)?, r.try_get(2 + n)?, r.try_get(3 + n)?))
        }).collect::<Result<Vec<Row>, sqlx::Error>>()?
    });
    Ok(rows)
}
