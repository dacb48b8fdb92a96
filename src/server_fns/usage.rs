//! Usage reports for the console: the Usage page (a report by day, month or year with filters,
//! split by channel or status) and the Home page's last 24 hours and 30-day chart. Reports are
//! the usage records API's (`services::usage_records`), pivoted into a table.
use crate::domain::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The Usage page's state: every URL parameter, as typed (empty = default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct UsageQuery {
    /// `day`, `month` or `year` (default `day`).
    pub period: String,
    /// First day (YYYY-MM-DD, UTC) included; default: 30 days, 12 months or 5 years back.
    pub from: String,
    /// Last day included; default today.
    pub until: String,
    pub country: String,
    pub channel: String,
    pub status: String,
    pub service: String,
    /// Bars stacked by `channel` (default) or `status`.
    pub by: String,
}

impl UsageQuery {
    pub const PARAMS: [&'static str; 8] = [
        "period", "from", "until", "country", "channel", "status", "service", "by",
    ];

    /// The query from URL parameters (unknown ones ignored).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut q = UsageQuery::default();
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k {
                "period" => q.period = v,
                "from" => q.from = v,
                "until" => q.until = v,
                "country" => q.country = v.to_ascii_uppercase(),
                "channel" => q.channel = v,
                "status" => q.status = v,
                "service" => q.service = v,
                "by" => q.by = v,
                _ => {}
            }
        }
        q
    }

    /// `day`, `month` or `year`: what the report is cut by.
    pub fn period(&self) -> &'static str {
        match self.period.to_ascii_lowercase().as_str() {
            "month" | "monthly" => "month",
            "year" | "yearly" => "year",
            _ => "day",
        }
    }

    /// `channel` or `status`: what the bars are stacked by.
    pub fn by(&self) -> &'static str {
        if self.by.eq_ignore_ascii_case("status") {
            "status"
        } else {
            "channel"
        }
    }

    /// The state as URL parameters, non-empty ones only, plus `extra`.
    pub fn to_query_string(&self, extra: &[(&'static str, String)]) -> String {
        let mut pairs: Vec<(&'static str, String)> = [
            ("period", &self.period),
            ("from", &self.from),
            ("until", &self.until),
            ("country", &self.country),
            ("channel", &self.channel),
            ("status", &self.status),
            ("service", &self.service),
            ("by", &self.by),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect();
        pairs.extend(extra.iter().cloned());
        crate::domain::url::query_string(&pairs)
    }
}

/// One line of a report: a period (or the total), its count per series, and the sums.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageRow {
    /// `2026-11-26`, `2026-11` or `2026`; `Total` for the totals line.
    pub label: String,
    /// First and last day covered (cut to the report's range).
    pub start: String,
    pub end: String,
    /// OTPs per series, in the order of [`UsageReport::series`].
    pub values: Vec<i64>,
    pub count: i64,
    pub verified: i64,
    /// verified / count, 0 when there were none.
    pub conversion: f64,
    /// Price in USD, four decimals.
    pub price: String,
}

/// A report as the Usage page shows it: rows per period, the series the bars are stacked by,
/// totals, and what the filters can offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    /// `day`, `month` or `year`.
    pub period: String,
    /// The range, resolved (defaults applied).
    pub start: String,
    pub end: String,
    /// `channel` or `status`.
    pub by: String,
    /// The series' names (channels, or statuses present), in a stable order.
    pub series: Vec<String>,
    pub rows: Vec<UsageRow>,
    pub totals: UsageRow,
    /// Countries and services present in the account's counters (for the filters' lists; only
    /// the Usage page asks for them).
    pub countries: Vec<String>,
    pub services: Vec<String>,
}

impl UsageReport {
    /// The name of the CSV file of this report.
    pub fn file_name(&self) -> String {
        format!("usage-{}-{}-{}.csv", self.period, self.start, self.end)
    }
}

/// The Home page: the last 24 hours per channel, 30 days by channel, the latest failures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HomeSummary {
    pub cards: Vec<ChannelCard>,
    pub chart: UsageReport,
    pub failures: Vec<FailedOtp>,
}

/// One channel over the last 24 hours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelCard {
    pub channel: String,
    /// OTPs requested on this channel and not blocked by a limit.
    pub sent: i64,
    pub verified: i64,
    pub failed: i64,
    /// verified / sent.
    pub conversion: f64,
}

/// A recent failed OTP, as the Home page lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FailedOtp {
    pub request_id: String,
    pub destination: String,
    pub channel: String,
    pub service: String,
    pub date_created: String,
}

/// How many failures the Home page lists.
pub const HOME_FAILURES: i64 = 8;

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::domain::usage::{conversion_rate, date_at, Period};
    use crate::domain::{Channel, ErrorCode, OtpStatus};
    use crate::server::clock::rfc3339;
    use crate::server::db::Db;
    use crate::server::services::usage::{
        self, Report, ReportQuery, ReportRow, UsageError, UsageField,
    };
    use crate::server::services::AccountScope;

    /// The page's state as a report question; problems name the page's fields.
    fn question(q: &UsageQuery) -> Result<ReportQuery, ConsoleError> {
        let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let bad = |field: &str, label: &str, what: &str| {
            ConsoleError::field(
                ErrorCode::InvalidParameter,
                field,
                format!("{label} {what}"),
            )
        };
        let country = match text(&q.country) {
            Some(c) if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) => {
                return Err(bad(
                    "country",
                    "Country",
                    "must be an ISO 3166 alpha-2 code like US.",
                ))
            }
            c => c.map(|c| c.to_ascii_uppercase()),
        };
        let channel = text(&q.channel)
            .map(|c| {
                Channel::parse(&c)
                    .ok_or_else(|| bad("channel", "Channel", "must be sms, call or email."))
            })
            .transpose()?;
        let status = text(&q.status)
            .map(|s| {
                OtpStatus::parse(&s).ok_or_else(|| {
                    bad("status", "Status", "must be one of pending, sent, delivered, verified, expired, canceled, max_attempts, failed, blocked.")
                })
            })
            .transpose()?;
        let service = match text(&q.service) {
            Some(s) if s.chars().count() > 64 => {
                return Err(bad("service", "Service", "must be 1–64 characters long."))
            }
            s => s,
        };
        Ok(ReportQuery {
            period: match q.period() {
                "month" => Period::Monthly,
                "year" => Period::Yearly,
                _ => Period::Daily,
            },
            from: text(&q.from),
            until: text(&q.until),
            country,
            channel,
            status,
            service,
            by_status: q.by() == "status",
        })
    }

    /// A usage refusal as the page shows it, next to the page's own field.
    pub fn usage_error(e: UsageError, period: &str) -> ConsoleError {
        let name = |f: UsageField| match f {
            UsageField::Start => ("from", "From"),
            UsageField::End => ("until", "Until"),
        };
        match e {
            UsageError::Invalid { field, problem } => {
                let (field, label) = name(field);
                ConsoleError::field(problem.code(), field, problem.message(label))
            }
            UsageError::EndBeforeStart { start, end } => ConsoleError::field(
                ErrorCode::InvalidParameter,
                "until",
                format!("Until ({end}) must not be before From ({start})."),
            ),
            UsageError::TooManyPeriods { count, max } => ConsoleError::field(
                ErrorCode::InvalidParameter,
                "from",
                format!("This range has {count} {period}s; a report shows at most {max}. Choose a later start or a longer period."),
            ),
            UsageError::Denied(m) => ConsoleError::new(ErrorCode::Forbidden, m),
            UsageError::Internal(e) => crate::server::auth::console::internal_error(e),
        }
    }

    fn row_view(r: &ReportRow, label: String) -> UsageRow {
        UsageRow {
            label,
            start: r.first.map(|d| d.to_string()).unwrap_or_default(),
            end: r.last.map(|d| d.to_string()).unwrap_or_default(),
            values: r.values.clone(),
            count: r.count,
            verified: r.verified,
            conversion: conversion_rate(r.verified, r.count),
            price: format!("{:.4}", r.price_micros as f64 / 1_000_000.0),
        }
    }

    fn report_view(r: &Report) -> UsageReport {
        let period = match r.period {
            Period::Monthly => "month",
            Period::Yearly => "year",
            _ => "day",
        };
        let label = |row: &ReportRow| {
            let d = row.first.unwrap_or(r.start);
            match period {
                "month" => format!("{}-{:02}", d.year(), d.month() as u8),
                "year" => d.year().to_string(),
                _ => d.to_string(),
            }
        };
        UsageReport {
            period: period.into(),
            start: r.start.to_string(),
            end: r.end.to_string(),
            by: if r.by_status { "status" } else { "channel" }.into(),
            series: r.series.clone(),
            rows: r.rows.iter().map(|row| row_view(row, label(row))).collect(),
            totals: row_view(&r.totals, "Total".into()),
            countries: Vec::new(),
            services: Vec::new(),
        }
    }

    /// The report of `q` for `scope`, `now_ms` deciding what "today" is.
    pub async fn report(
        db: &Db,
        scope: &AccountScope,
        q: &UsageQuery,
        now_ms: i64,
    ) -> Result<UsageReport, ConsoleError> {
        let question = question(q)?;
        let r = usage::report(db, scope, &question, date_at(now_ms))
            .await
            .map_err(|e| usage_error(e, q.period()))?;
        Ok(report_view(&r))
    }

    /// The countries and services present in `scope`'s counters, for the page's filter lists.
    pub async fn with_lists(
        db: &Db,
        scope: &AccountScope,
        mut report: UsageReport,
    ) -> Result<UsageReport, ConsoleError> {
        let (countries, services) = usage::present_values(db, scope)
            .await
            .map_err(|e| usage_error(e, "day"))?;
        report.countries = countries;
        report.services = services;
        Ok(report)
    }

    /// The Home page's figures for `scope` at `now_ms`.
    pub async fn home(
        db: &Db,
        scope: &AccountScope,
        now_ms: i64,
    ) -> Result<HomeSummary, ConsoleError> {
        let h = usage::home(db, scope, now_ms, HOME_FAILURES)
            .await
            .map_err(|e| usage_error(e, "day"))?;
        Ok(HomeSummary {
            cards: h
                .cards
                .iter()
                .map(|c| ChannelCard {
                    channel: c.channel.as_str().into(),
                    sent: c.sent,
                    verified: c.verified,
                    failed: c.failed,
                    conversion: conversion_rate(c.verified, c.sent),
                })
                .collect(),
            chart: report_view(&h.chart),
            failures: h
                .failures
                .iter()
                .map(|o| FailedOtp {
                    request_id: o.sid.to_string(),
                    destination: o.destination().unwrap_or_default().to_owned(),
                    channel: o.channel.as_str().into(),
                    service: o.service.clone(),
                    date_created: rfc3339(o.date_created),
                })
                .collect(),
        })
    }
}

#[cfg(feature = "ssr")]
pub use server::{home as home_service, report as report_service};

#[cfg(feature = "ssr")]
fn now_ms() -> Result<i64, ConsoleError> {
    Ok(super::ctx::state()?.clock().now_ms())
}

/// The Usage page's report (every role may read usage).
#[server(endpoint = "usage_report")]
pub async fn load_usage_report(query: UsageQuery) -> Result<UsageReport, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let report = server::report(state.db(), &user.scope, &query, now_ms()?)
        .await
        .map_err(ctx::fail)?;
    server::with_lists(state.db(), &user.scope, report)
        .await
        .map_err(ctx::fail)
}

/// The Home page's figures.
#[server(endpoint = "home_summary")]
pub async fn load_home_summary() -> Result<HomeSummary, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    server::home(state.db(), &user.scope, now_ms()?)
        .await
        .map_err(ctx::fail)
}
