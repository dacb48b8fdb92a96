//! `GET|POST /2fa/usage/records` and `/2fa/usage/records/{period}`.
use super::api_error::ApiError;
use super::input::{invalid, ApiInput, Loose};
use super::otps::acting;
use super::paging::{acting_for, Page, PageParams};
use crate::domain::usage::{date_at, Dimension, Period};
use crate::domain::{ErrorCode, Problem};
use crate::server::auth::ApiCaller;
#[allow(unused_imports)]
use crate::server::rest::api_error::ErrorEnvelope;
use crate::server::services::usage::{
    self, RecordsQuery, Slice, UsageError, UsageField, UsageRecord,
};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The usage filters, groups and paging.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UsageRequest {
    pub start_date: Loose,
    pub end_date: Loose,
    pub channel: Loose,
    pub country_code: Loose,
    pub status: Loose,
    pub service: Loose,
    pub group_by: Loose,
    pub include_subaccounts: Loose,
    pub account_sid: Loose,
    #[serde(flatten)]
    pub paging: PageParams,
}

/// One usage record: OTPs created in the period (and group), how many were verified.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UsageRecord)]
pub struct UsageRecordDto {
    pub account_sid: String,
    /// First day of the period (UTC, YYYY-MM-DD).
    pub start_time: String,
    /// Last day of the period, inclusive.
    pub end_time: String,
    /// `all` unless grouped or filtered by it; the same for countryCode, status, service.
    pub channel: String,
    /// `none` for OTPs without a country (email).
    pub country_code: String,
    pub status: String,
    pub service: String,
    pub count: i64,
    pub verified: i64,
    pub conversion_rate: f64,
    pub price: String,
    pub price_unit: String,
    pub unit: String,
    pub description: String,
    pub uri: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageRecordsResponse {
    #[serde(flatten)]
    pub page: Page,
    pub usage_records: Vec<UsageRecordDto>,
}

/// How the API names the dimensions.
fn dimension_name(d: Dimension) -> &'static str {
    match d {
        Dimension::Channel => "channel",
        Dimension::Country => "countryCode",
        Dimension::Status => "status",
        Dimension::Service => "service",
    }
}

impl From<UsageError> for ApiError {
    fn from(e: UsageError) -> Self {
        let name = |f: UsageField| match f {
            UsageField::Start => "startDate",
            UsageField::End => "endDate",
        };
        match e {
            UsageError::Invalid { field, problem } => invalid(name(field), problem),
            UsageError::EndBeforeStart { start, end } => invalid(
                "endDate",
                Problem::sentence(format!(
                    "endDate ({end}) must not be before startDate ({start})."
                )),
            ),
            UsageError::TooManyPeriods { count, max } => invalid(
                "startDate",
                Problem::sentence(format!(
                    "startDate..endDate has {count} periods; a request covers at most {max}: choose a later startDate, an earlier endDate or a longer period (Monthly, Yearly)."
                )),
            ),
            UsageError::Denied(m) => ApiError::new(ErrorCode::Forbidden, m),
            UsageError::Internal(e) => ApiError::internal(e),
        }
    }
}

#[utoipa::path(get, path = "/2fa/usage/records", tag = "Usage",
    params(
        ("startDate" = Option<String>, Query, description = "YYYY-MM-DD (UTC, inclusive) or relative like -30days; default 29 days before endDate"),
        ("endDate" = Option<String>, Query, description = "YYYY-MM-DD (UTC, inclusive) or relative; default today"),
        ("channel" = Option<String>, Query,), ("countryCode" = Option<String>, Query,), ("status" = Option<String>, Query,), ("service" = Option<String>, Query,),
        ("groupBy" = Option<String>, Query, description = "comma list of channel, countryCode, status, service"),
        ("includeSubaccounts" = Option<bool>, Query,), ("accountSid" = Option<String>, Query,),
        ("Page" = Option<i64>, Query,), ("PageSize" = Option<i64>, Query,)),
    responses((status = 200, body = UsageRecordsResponse, description = "one record per group over the whole range"), (status = 400, body = ErrorEnvelope, description = "7004 naming the field")))]
pub async fn totals(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    input: ApiInput,
) -> Result<Json<UsageRecordsResponse>, ApiError> {
    records(&state, &caller, input, Period::Total).await
}

#[utoipa::path(get, path = "/2fa/usage/records/{period}", tag = "Usage",
    params(("period" = String, Path, description = "Daily, Monthly, Yearly, AllTime, Today, Yesterday, ThisMonth or LastMonth (any case)")),
    responses((status = 200, body = UsageRecordsResponse, description = "one record per period (and group); the same filters as /2fa/usage/records"), (status = 400, body = ErrorEnvelope, description = "7004 naming the field; a range of more than 1000 periods names startDate"), (status = 404, body = ErrorEnvelope)))]
pub async fn by_period(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(period): Path<String>,
    input: ApiInput,
) -> Result<Json<UsageRecordsResponse>, ApiError> {
    let period = Period::parse(&period).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("Unknown usage period {period:?}: use Daily, Monthly, Yearly, AllTime, Today, Yesterday, ThisMonth or LastMonth."),
        )
    })?;
    records(&state, &caller, input, period).await
}

async fn records(
    state: &AppState,
    caller: &crate::server::services::AccountScope,
    input: ApiInput,
    period: Period,
) -> Result<Json<UsageRecordsResponse>, ApiError> {
    let req: UsageRequest = input.into_wire()?;
    let paging = req.paging.parse()?;
    let scope = acting(state, caller, &req.account_sid).await?;
    let mut q = RecordsQuery::new(period);
    if period.takes_range() {
        q.end = req.end_date.string("endDate")?;
        q.start = req.start_date.string("startDate")?;
    }
    q.include_subaccounts = req
        .include_subaccounts
        .bool("includeSubaccounts")?
        .unwrap_or(false);
    if let Some(items) = req.group_by.list("groupBy")? {
        for item in items {
            let d = Dimension::ALL
                .into_iter()
                .find(|d| dimension_name(*d).eq_ignore_ascii_case(&item))
                .ok_or_else(|| {
                    invalid(
                        "groupBy",
                        Problem::sentence(format!(
                            "groupBy: unknown field {item:?} (use channel, countryCode, status, service)."
                        )),
                    )
                })?;
            q.group_by.push(d);
        }
    }
    q.channel = req.channel.channel("channel")?;
    q.country = req.country_code.country_code("countryCode")?;
    q.status = req.status.status("status")?;
    q.service = req.service.text("service", (1, 64))?;
    let today = date_at(state.clock().now_ms());
    // Only the requested page's records are built.
    let found =
        usage::records_page(state.db(), &scope, &q, today, paging.offset(), paging.size).await?;

    // The question as understood, for `uri` and the paging links.
    let mut echo = acting_for(&scope, caller);
    if q.include_subaccounts {
        echo.push(("includeSubaccounts".into(), "true".into()));
    }
    for (name, v) in [
        ("channel", q.channel.map(|c| c.as_str().to_owned())),
        ("countryCode", q.country.clone()),
        ("status", q.status.map(|s| s.as_str().to_owned())),
        ("service", q.service.clone()),
    ] {
        if let Some(v) = v {
            echo.push((name.into(), v));
        }
    }
    if period.takes_range() {
        echo.push(("startDate".into(), found.start.to_string()));
        echo.push(("endDate".into(), found.end.to_string()));
    }
    let mut grouped: Vec<Dimension> = Vec::new();
    for d in &q.group_by {
        if !grouped.contains(d) {
            grouped.push(*d);
        }
    }
    if !grouped.is_empty() {
        let names: Vec<&str> = grouped.iter().map(|d| dimension_name(*d)).collect();
        echo.push(("groupBy".into(), names.join(",")));
    }
    let path = match period.name() {
        Some(p) => format!("/2fa/usage/records/{p}"),
        None => "/2fa/usage/records".to_owned(),
    };
    let uri = format!("{path}?{}", crate::domain::url::query_string(&echo));
    let account = if found.with_subaccounts {
        format!("{} and sub-accounts", scope.sid())
    } else {
        scope.sid().to_string()
    };
    let page: Vec<UsageRecordDto> = found
        .records
        .iter()
        .map(|r| record(r, scope.sid().as_str(), &account, &uri))
        .collect();
    Ok(Json(UsageRecordsResponse {
        page: Page::of(paging, found.total, page.len(), &path, &echo),
        usage_records: page,
    }))
}

fn record(r: &UsageRecord, account_sid: &str, account: &str, uri: &str) -> UsageRecordDto {
    let text = |d: Dimension| match r.slice(d) {
        Slice::All => "all".to_owned(),
        Slice::Value(v) if v.is_empty() => "none".to_owned(),
        Slice::Value(v) => v.clone(),
    };
    let described: Vec<String> = Dimension::ALL
        .into_iter()
        .filter(|d| *r.slice(*d) != Slice::All)
        .map(|d| format!("{} {}", dimension_name(d), text(d)))
        .collect();
    UsageRecordDto {
        account_sid: account_sid.to_owned(),
        start_time: r.start.to_string(),
        end_time: r.end.to_string(),
        channel: text(Dimension::Channel),
        country_code: text(Dimension::Country),
        status: text(Dimension::Status),
        service: text(Dimension::Service),
        count: r.count,
        verified: r.verified,
        conversion_rate: r.conversion_rate(),
        price: format!("{:.4}", r.price_micros as f64 / 1_000_000.0),
        price_unit: "USD".into(),
        unit: "OTP".into(),
        description: format!(
            "OTP requests of {account}{}",
            if described.is_empty() {
                String::new()
            } else {
                format!(", {}", described.join(", "))
            }
        ),
        uri: uri.to_owned(),
    }
}
