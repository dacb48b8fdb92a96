//! Usage: records per period read from the usage counters (never a scan of the OTPs), the
//! console's report (a pivot of those records) and its Home page figures, and the counters'
//! repair. Database triggers keep the counters in the same transaction as every OTP change;
//! `db::usage` holds how they are stored, folded and read.
use super::{AccountScope, ServiceError};
use crate::domain::usage::{self as rules, Dimension, Period, MAX_PERIODS};
use crate::domain::{Channel, ErrorCode, Otp, OtpStatus, Problem};
use crate::server::db::otps::search::{self as otp_search, OtpFilter, Seek};
use crate::server::db::usage::{self as store, CounterQuery};
use crate::server::db::Db;
use std::collections::BTreeMap;
use time::{Date, Duration};

pub use store::{compact, Rebuilt};

/// Recomputes every counter from the OTPs; says how many had differed.
pub async fn rebuild(db: &Db) -> anyhow::Result<Rebuilt> {
    store::rebuild(db).await
}

/// A usage question: which period cut, which range, which filters and groups.
#[derive(Debug, Clone)]
pub struct RecordsQuery {
    pub period: Period,
    /// First and last day, `YYYY-MM-DD` or relative (`-30days`); default the last 30 days.
    pub start: Option<String>,
    pub end: Option<String>,
    pub channel: Option<Channel>,
    pub country: Option<String>,
    pub status: Option<OtpStatus>,
    pub service: Option<String>,
    pub group_by: Vec<Dimension>,
    pub include_subaccounts: bool,
}

impl RecordsQuery {
    pub fn new(period: Period) -> Self {
        RecordsQuery {
            period,
            start: None,
            end: None,
            channel: None,
            country: None,
            status: None,
            service: None,
            group_by: Vec::new(),
            include_subaccounts: false,
        }
    }

    fn filter(&self, d: Dimension) -> Option<String> {
        match d {
            Dimension::Channel => self.channel.map(|c| c.as_str().to_owned()),
            Dimension::Country => self.country.clone(),
            Dimension::Status => self.status.map(|s| s.as_str().to_owned()),
            Dimension::Service => self.service.clone(),
        }
    }
}

/// A record's value for one dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slice {
    /// Neither grouped nor filtered by it.
    All,
    /// Grouped or filtered: this value (empty for "none": OTPs without a country).
    Value(String),
}

/// OTPs created in a period (and group): how many, how many verified, their price.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    pub start: Date,
    pub end: Date,
    pub slices: BTreeMap<Dimension, Slice>,
    pub count: i64,
    pub verified: i64,
    pub price_micros: i64,
}

impl UsageRecord {
    pub fn slice(&self, d: Dimension) -> &Slice {
        self.slices.get(&d).unwrap_or(&Slice::All)
    }

    pub fn conversion_rate(&self) -> f64 {
        rules::conversion_rate(self.verified, self.count)
    }
}

/// The records of a question (all of them, or one page), in order of period then group values,
/// and the range it covers.
#[derive(Debug, Clone)]
pub struct Records {
    pub records: Vec<UsageRecord>,
    /// How many records the whole question has (more than `records` when paged).
    pub total: i64,
    pub start: Date,
    pub end: Date,
    /// Sub-accounts' OTPs are included.
    pub with_subaccounts: bool,
}

/// A field a usage question is judged on by the use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageField {
    Start,
    End,
}

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("invalid {field:?}: {problem:?}")]
    Invalid { field: UsageField, problem: Problem },
    #[error("end {end} before start {start}")]
    EndBeforeStart { start: Date, end: Date },
    /// The range has more periods than a question may cover ([`MAX_PERIODS`]).
    #[error("{count} periods, at most {max}")]
    TooManyPeriods { count: i64, max: i64 },
    #[error("{0}")]
    Denied(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl UsageError {
    pub fn code(&self) -> ErrorCode {
        match self {
            UsageError::Invalid { problem, .. } => problem.code(),
            UsageError::EndBeforeStart { .. } | UsageError::TooManyPeriods { .. } => {
                ErrorCode::InvalidParameter
            }
            UsageError::Denied(_) => ErrorCode::Forbidden,
            UsageError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<ServiceError> for UsageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Rule {
                code: ErrorCode::Forbidden,
                message,
                ..
            } => UsageError::Denied(message),
            ServiceError::Rule { code, message, .. } => {
                UsageError::Internal(anyhow::anyhow!("unexpected rule {code:?}: {message}"))
            }
            ServiceError::Internal(e) => UsageError::Internal(e),
        }
    }
}

pub type UsageResult<T> = Result<T, UsageError>;

fn column(d: Dimension) -> &'static str {
    match d {
        Dimension::Channel => "channel",
        Dimension::Country => "country_code",
        Dimension::Status => "status",
        Dimension::Service => "service",
    }
}

/// The range a question covers, inclusive.
fn range(q: &RecordsQuery, today: Date) -> UsageResult<(Date, Date)> {
    if let Some(fixed) = q.period.fixed_range(today) {
        return Ok(fixed);
    }
    let parse = |field, raw: &str| {
        rules::parse_date(raw, today).map_err(|problem| UsageError::Invalid { field, problem })
    };
    let end = match &q.end {
        Some(s) => parse(UsageField::End, s)?,
        None => today,
    };
    let start = match &q.start {
        Some(s) => parse(UsageField::Start, s)?,
        None => end - Duration::days(29),
    };
    if start > end {
        return Err(UsageError::EndBeforeStart { start, end });
    }
    Ok((start, end))
}

/// The records of a question, all of them, on `today`.
pub async fn records(
    db: &Db,
    scope: &AccountScope,
    q: &RecordsQuery,
    today: Date,
) -> UsageResult<Records> {
    build(db, scope, q, today, None).await
}

/// `limit` records of a question from the `offset`-th on (one page), and how many it has: only
/// the page's records are built, and without grouping only the page's days are read.
pub async fn records_page(
    db: &Db,
    scope: &AccountScope,
    q: &RecordsQuery,
    today: Date,
    offset: i64,
    limit: i64,
) -> UsageResult<Records> {
    let window = (offset.max(0) as usize, limit.max(0) as usize);
    build(db, scope, q, today, Some(window)).await
}

async fn build(
    db: &Db,
    scope: &AccountScope,
    q: &RecordsQuery,
    today: Date,
    window: Option<(usize, usize)>,
) -> UsageResult<Records> {
    let (start, end) = range(q, today)?;
    let count = rules::count_periods(q.period, start, end);
    if count > MAX_PERIODS {
        return Err(UsageError::TooManyPeriods {
            count,
            max: MAX_PERIODS,
        });
    }
    let with_subaccounts =
        q.include_subaccounts && store::has_sub_accounts(db, scope.sid()).await?;
    let mut group_by: Vec<Dimension> = Vec::new();
    for d in &q.group_by {
        if !group_by.contains(d) {
            group_by.push(*d);
        }
    }
    let filters: Vec<(&'static str, String)> = Dimension::ALL
        .iter()
        .filter_map(|d| q.filter(*d).map(|v| (column(*d), v)))
        .collect();
    // Without grouping every period has exactly one record, so a page is a run of periods and
    // only their days need reading.
    let mut read = (start, end);
    if let (true, Some((offset, limit))) = (group_by.is_empty(), window) {
        let all = rules::periods(q.period, start, end);
        let rest = &all[offset.min(all.len())..];
        let page = &rest[..limit.min(rest.len())];
        match (page.first(), page.last()) {
            (Some((first, _)), Some((_, last))) => read = (*first, *last),
            _ => {
                return Ok(Records {
                    records: Vec::new(),
                    total: count,
                    start,
                    end,
                    with_subaccounts,
                })
            }
        }
    }
    // Whole months inside the range are read from the monthly counters (a year is ~12 rows per
    // combination instead of ~365); the days around them, and Daily reports, from the daily ones.
    let months = if matches!(q.period, Period::Daily | Period::Today | Period::Yesterday) {
        None
    } else {
        rules::whole_months(read.0, read.1)
    };
    let group_columns: Vec<&'static str> = group_by.iter().map(|d| column(*d)).collect();
    let rows = store::counters(
        db,
        &CounterQuery {
            account: scope.sid(),
            include_subaccounts: q.include_subaccounts,
            range: (rules::day_of(read.0), rules::day_of(read.1)),
            months,
            group_by: &group_columns,
            filters: &filters,
        },
    )
    .await?;
    // Fold days into periods: key = (period start, group values).
    let mut totals: BTreeMap<(Date, Vec<String>), (i64, i64, i64)> = BTreeMap::new();
    for (day, groups, count, verified, price) in rows {
        let t = totals
            .entry((q.period.first_of(rules::date_of(day), start), groups))
            .or_default();
        t.0 += count;
        t.1 += verified;
        t.2 += price;
    }
    // Without grouping, every period of the range has a record (zeros included), so a chart has
    // one point per day/month/year.
    if group_by.is_empty() {
        for (first, _) in rules::periods(q.period, read.0, read.1) {
            totals.entry((first, Vec::new())).or_default();
        }
    }
    // Groups that saw no OTP have no record.
    totals.retain(|(_, groups), (count, _, _)| {
        group_by.is_empty() || *count != 0 || groups.is_empty()
    });
    let (total, skip, take) = match window {
        // Without grouping, `totals` holds just the page's periods.
        Some(_) if group_by.is_empty() => (count, 0, usize::MAX),
        Some((offset, limit)) => (totals.len() as i64, offset, limit),
        None => (totals.len() as i64, 0, usize::MAX),
    };
    let records = totals
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|((first, groups), (count, verified, price))| {
            let mut slices = BTreeMap::new();
            for (d, value) in group_by.iter().zip(groups) {
                slices.insert(*d, Slice::Value(value));
            }
            for d in Dimension::ALL {
                if let Some(v) = q.filter(d) {
                    slices.insert(d, Slice::Value(v));
                }
            }
            UsageRecord {
                start: first,
                end: q.period.last_of(first, end),
                slices,
                count,
                verified,
                price_micros: price,
            }
        })
        .collect();
    Ok(Records {
        records,
        total,
        start,
        end,
        with_subaccounts,
    })
}

/// The console's report: by day, month or year over a range, stacked by channel or status.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub period: Period,
    pub from: Option<String>,
    pub until: Option<String>,
    pub country: Option<String>,
    pub channel: Option<Channel>,
    pub status: Option<OtpStatus>,
    pub service: Option<String>,
    /// Stack by status (else by channel).
    pub by_status: bool,
}

/// One line of a report: a period, its count per series, and its totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportRow {
    pub first: Option<Date>,
    pub last: Option<Date>,
    pub values: Vec<i64>,
    pub count: i64,
    pub verified: i64,
    pub price_micros: i64,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub period: Period,
    pub start: Date,
    pub end: Date,
    pub by_status: bool,
    /// Every channel (stable colours), or the statuses present in their usual order.
    pub series: Vec<String>,
    pub rows: Vec<ReportRow>,
    pub totals: ReportRow,
}

/// The report of `q` on `today`.
pub async fn report(
    db: &Db,
    scope: &AccountScope,
    q: &ReportQuery,
    today: Date,
) -> UsageResult<Report> {
    let end = match &q.until {
        Some(s) => rules::parse_date(s, today).map_err(|problem| UsageError::Invalid {
            field: UsageField::End,
            problem,
        })?,
        None => today,
    };
    let default_start = match q.period {
        Period::Monthly => rules::months_back(rules::month_start(end), 11),
        Period::Yearly => {
            Date::from_calendar_date(end.year() - 4, time::Month::January, 1).expect("Jan 1")
        }
        _ => end - Duration::days(29),
    };
    let mut question = RecordsQuery::new(q.period);
    question.start = Some(q.from.clone().unwrap_or_else(|| default_start.to_string()));
    question.end = Some(end.to_string());
    question.country = q.country.clone();
    question.channel = q.channel;
    question.status = q.status;
    question.service = q.service.clone();
    let by = if q.by_status {
        Dimension::Status
    } else {
        Dimension::Channel
    };
    question.group_by = vec![by];
    let found = records(db, scope, &question, today).await?;
    let value = |r: &UsageRecord| match r.slice(by) {
        Slice::Value(v) => v.clone(),
        Slice::All => String::new(),
    };
    let series: Vec<String> = if q.by_status {
        OtpStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .filter(|s| found.records.iter().any(|r| value(r) == *s && r.count != 0))
            .map(str::to_owned)
            .collect()
    } else {
        Channel::ALL.iter().map(|c| c.as_str().to_owned()).collect()
    };
    let mut rows: Vec<ReportRow> = rules::periods(q.period, found.start, found.end)
        .into_iter()
        .map(|(first, last)| ReportRow {
            first: Some(first),
            last: Some(last),
            values: vec![0; series.len()],
            ..Default::default()
        })
        .collect();
    let index: BTreeMap<Date, usize> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.first.map(|f| (f, i)))
        .collect();
    for r in &found.records {
        let Some(&i) = index.get(&r.start) else {
            continue;
        };
        if let Some(s) = series.iter().position(|s| *s == value(r)) {
            rows[i].values[s] += r.count;
        }
        rows[i].count += r.count;
        rows[i].verified += r.verified;
        rows[i].price_micros += r.price_micros;
    }
    let mut totals = ReportRow {
        first: Some(found.start),
        last: Some(found.end),
        values: vec![0; series.len()],
        ..Default::default()
    };
    for row in &rows {
        for (t, v) in totals.values.iter_mut().zip(&row.values) {
            *t += v;
        }
        totals.count += row.count;
        totals.verified += row.verified;
        totals.price_micros += row.price_micros;
    }
    Ok(Report {
        period: q.period,
        start: found.start,
        end: found.end,
        by_status: q.by_status,
        series,
        rows,
        totals,
    })
}

/// The countries and services present in `scope`'s counters (what a filter can offer).
pub async fn present_values(
    db: &Db,
    scope: &AccountScope,
) -> UsageResult<(Vec<String>, Vec<String>)> {
    let accounts = vec![scope.sid().to_string()];
    let countries = store::present(db, &accounts, store::Dimension::Country).await?;
    let services = store::present(db, &accounts, store::Dimension::Service).await?;
    Ok((countries, services))
}

/// One channel's last 24 hours.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelDay {
    pub channel: Channel,
    /// Requests not blocked by a limit.
    pub sent: i64,
    pub verified: i64,
    pub failed: i64,
}

/// The Home page: the last 24 hours per channel, 30 days by channel, the latest failures.
#[derive(Debug, Clone)]
pub struct Home {
    pub cards: Vec<ChannelDay>,
    pub chart: Report,
    pub failures: Vec<Otp>,
}

pub async fn home(db: &Db, scope: &AccountScope, now_ms: i64, failures: i64) -> UsageResult<Home> {
    let recent = store::recent(db, scope.sid(), now_ms - 86_400_000).await?;
    let cards = Channel::ALL
        .iter()
        .map(|c| {
            let of = |pred: &dyn Fn(&str) -> bool| -> i64 {
                recent
                    .iter()
                    .filter(|(ch, s, _)| ch == c.as_str() && pred(s))
                    .map(|(_, _, n)| n)
                    .sum()
            };
            ChannelDay {
                channel: *c,
                sent: of(&|s| s != OtpStatus::Blocked.as_str()),
                verified: of(&|s| s == OtpStatus::Verified.as_str()),
                failed: of(&|s| s == OtpStatus::Failed.as_str()),
            }
        })
        .collect();
    let chart = report(
        db,
        scope,
        &ReportQuery {
            period: Period::Daily,
            from: None,
            until: None,
            country: None,
            channel: None,
            status: None,
            service: None,
            by_status: false,
        },
        rules::date_at(now_ms),
    )
    .await?;
    let filter = OtpFilter {
        status: Some(OtpStatus::Failed),
        ..Default::default()
    };
    let (failures, _) =
        otp_search::keyset(db, scope.sid(), &filter, &Seek::First, failures).await?;
    Ok(Home {
        cards,
        chart,
        failures,
    })
}
