//! Usage reports for the console: the Usage page (a report by day, month or year with filters,
//! split by channel or status) and the Home page's last 24 hours and 30-day chart. Reports are
//! the usage records API's (`services::usage_records`), pivoted into a table.
use crate::domain::ConsoleError;
#[cfg(feature = "ssr")]
use crate::server_fns::otps::SdrView;
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

/// Each URL parameter of the Usage page with the usage API field its errors name, and its label.
pub const USAGE_FIELDS: [(&str, &str, &str); 8] = [
    ("period", "period", "Period"),
    ("from", "startDate", "From"),
    ("until", "endDate", "Until"),
    ("country", "countryCode", "Country"),
    ("channel", "channel", "Channel"),
    ("status", "status", "Status"),
    ("service", "service", "Service"),
    ("by", "groupBy", "Bars by"),
];

/// A report covers at most this many periods (days of a Day report…).
pub const MAX_PERIODS: usize = 1000;

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
    use crate::domain::{Channel, OtpStatus};
    use crate::server::db::Db;
    use crate::server::services::otp::input::Fields;
    use crate::server::services::otp::sdr::{self, OtpFilter, Seek};
    use crate::server::services::usage::{self, Dimension};
    use crate::server::services::usage_records::{self, Period};
    use crate::server::services::{AccountScope, ServiceError, ServiceResult};
    use serde_json::{Map, Value};
    use time::{Date, Duration, Month};

    /// The report of `q` for `scope`, `now_ms` deciding what "today" is.
    pub async fn report(
        db: &Db,
        scope: &AccountScope,
        q: &UsageQuery,
        now_ms: i64,
    ) -> ServiceResult<UsageReport> {
        let today = usage_records::date_of(now_ms.div_euclid(86_400_000));
        let (period, api_period) = match q.period() {
            "month" => ("month", Period::Monthly),
            "year" => ("year", Period::Yearly),
            _ => ("day", Period::Daily),
        };
        let end = if q.until.is_empty() {
            today
        } else {
            usage_records::parse_date("endDate", &q.until, today)?
        };
        let start = if q.from.is_empty() {
            match api_period {
                Period::Monthly => months_back(usage_records::month_start(end), 11),
                Period::Yearly => {
                    Date::from_calendar_date(end.year() - 4, Month::January, 1).expect("Jan 1")
                }
                _ => end - Duration::days(29),
            }
        } else {
            usage_records::parse_date("startDate", &q.from, today)?
        };
        let periods = usage_records::periods(api_period, start, end);
        if periods.len() > MAX_PERIODS {
            return Err(ServiceError::invalid(
                "startDate",
                format!(
                    "This range has {} {period}s; a report shows at most {MAX_PERIODS}. Choose a later start or a longer period.",
                    periods.len()
                ),
            ));
        }

        let mut fields = Map::new();
        let mut put = |k: &str, v: &str| {
            if !v.trim().is_empty() {
                fields.insert(k.into(), Value::String(v.trim().to_owned()));
            }
        };
        put("startDate", &start.to_string());
        put("endDate", &end.to_string());
        put("countryCode", &q.country);
        put("channel", &q.channel);
        put("status", &q.status);
        put("service", &q.service);
        put("groupBy", q.by());
        let computed = usage_records::compute(db, scope, &fields, api_period, now_ms).await?;

        // Series: every channel (stable colours), or the statuses present in their usual order.
        let by = q.by();
        let series: Vec<String> = if by == "status" {
            OtpStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .filter(|s| {
                    computed
                        .records
                        .iter()
                        .any(|r| r["status"] == *s && r["count"].as_i64().unwrap_or(0) != 0)
                })
                .map(str::to_owned)
                .collect()
        } else {
            Channel::ALL.iter().map(|c| c.as_str().to_owned()).collect()
        };
        let label = |d: Date| match period {
            "month" => format!("{}-{:02}", d.year(), d.month() as u8),
            "year" => d.year().to_string(),
            _ => d.to_string(),
        };
        let mut rows: Vec<UsageRow> = periods
            .iter()
            .map(|(first, last)| UsageRow {
                label: label(*first),
                start: first.to_string(),
                end: last.to_string(),
                values: vec![0; series.len()],
                ..Default::default()
            })
            .collect();
        let index: std::collections::HashMap<String, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| (row.start.clone(), i))
            .collect();
        let mut prices = vec![0f64; rows.len()];
        for r in &computed.records {
            let Some(&i) = r["startTime"].as_str().and_then(|s| index.get(s)) else {
                continue;
            };
            let count = r["count"].as_i64().unwrap_or(0);
            if let Some(s) = series.iter().position(|s| r[by] == **s) {
                rows[i].values[s] += count;
            }
            rows[i].count += count;
            rows[i].verified += r["verified"].as_i64().unwrap_or(0);
            prices[i] += r["price"]
                .as_str()
                .and_then(|p| p.parse::<f64>().ok())
                .unwrap_or(0.0);
        }
        let mut totals = UsageRow {
            label: "Total".into(),
            start: start.to_string(),
            end: end.to_string(),
            values: vec![0; series.len()],
            ..Default::default()
        };
        for (row, price) in rows.iter_mut().zip(&prices) {
            row.conversion = rate(row.verified, row.count);
            row.price = format!("{price:.4}");
            for (t, v) in totals.values.iter_mut().zip(&row.values) {
                *t += v;
            }
            totals.count += row.count;
            totals.verified += row.verified;
        }
        totals.conversion = rate(totals.verified, totals.count);
        totals.price = format!("{:.4}", prices.iter().sum::<f64>());

        Ok(UsageReport {
            period: period.into(),
            start: start.to_string(),
            end: end.to_string(),
            by: by.into(),
            series,
            rows,
            totals,
            countries: Vec::new(),
            services: Vec::new(),
        })
    }

    /// The countries and services present in `scope`'s counters, for the page's filter lists.
    pub async fn with_lists(
        db: &Db,
        scope: &AccountScope,
        mut report: UsageReport,
    ) -> ServiceResult<UsageReport> {
        let accounts = vec![scope.sid().to_string()];
        report.countries = usage::present(db, &accounts, Dimension::Country).await?;
        report.services = usage::present(db, &accounts, Dimension::Service).await?;
        Ok(report)
    }

    fn rate(verified: i64, count: i64) -> f64 {
        if count > 0 {
            (verified as f64 / count as f64 * 10_000.0).round() / 10_000.0
        } else {
            0.0
        }
    }

    fn months_back(first: Date, n: i32) -> Date {
        let total = first.year() * 12 + first.month() as i32 - 1 - n;
        let month = Month::try_from((total.rem_euclid(12) + 1) as u8).expect("1..=12");
        Date::from_calendar_date(total.div_euclid(12), month, 1).expect("day 1")
    }

    /// The Home page's figures for `scope` at `now_ms`.
    pub async fn home(db: &Db, scope: &AccountScope, now_ms: i64) -> ServiceResult<HomeSummary> {
        let recent = usage::recent(db, scope.sid().as_str(), now_ms - 86_400_000).await?;
        let cards = Channel::ALL
            .iter()
            .map(|c| {
                let ch = c.as_str();
                let of = |pred: &dyn Fn(&str) -> bool| -> i64 {
                    recent
                        .iter()
                        .filter(|(c, s, _)| c == ch && pred(s))
                        .map(|(_, _, n)| n)
                        .sum()
                };
                let sent = of(&|s| s != "blocked");
                let verified = of(&|s| s == "verified");
                ChannelCard {
                    channel: ch.to_owned(),
                    sent,
                    verified,
                    failed: of(&|s| s == "failed"),
                    conversion: rate(verified, sent),
                }
            })
            .collect();
        let chart = report(
            db,
            scope,
            &UsageQuery {
                period: "day".into(),
                by: "channel".into(),
                ..Default::default()
            },
            now_ms,
        )
        .await?;
        let mut fields = Map::new();
        fields.insert("status".into(), Value::String("failed".into()));
        let filter = OtpFilter::parse(&Fields(&fields), scope)?;
        let (rows, _) = sdr::search_keyset(db, &filter, &Seek::First, HOME_FAILURES).await?;
        let failures = rows
            .iter()
            .map(|row| {
                let v: SdrView = crate::server_fns::otps::sdr_view(row);
                FailedOtp {
                    destination: v.destination(),
                    request_id: v.request_id,
                    channel: v.channel,
                    service: v.service,
                    date_created: v.date_created,
                }
            })
            .collect();
        Ok(HomeSummary {
            cards,
            chart,
            failures,
        })
    }

    /// A service error as the Usage page shows it: the page's field and label instead of the
    /// API's (`from`/"From" for `startDate`…).
    pub fn console_error(e: ServiceError) -> ConsoleError {
        let mut err = crate::server::auth::console::console_error(e);
        if let Some(f) = err.field.clone() {
            if let Some((console, api, label)) = USAGE_FIELDS.iter().find(|(_, a, _)| *a == f) {
                err.field = Some((*console).to_owned());
                if let Some(rest) = err.message.strip_prefix(api) {
                    err.message = format!("{label}{rest}");
                }
            }
        }
        for (_, api, label) in USAGE_FIELDS
            .iter()
            .filter(|(_, a, _)| a.contains(char::is_uppercase))
        {
            err.message = err.message.replace(api, label);
        }
        err
    }
}

#[cfg(feature = "ssr")]
pub use server::{console_error, home as home_service, report as report_service};

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
        .map_err(|e| ctx::fail(server::console_error(e)))?;
    server::with_lists(state.db(), &user.scope, report)
        .await
        .map_err(ctx::service)
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
        .map_err(ctx::service)
}
