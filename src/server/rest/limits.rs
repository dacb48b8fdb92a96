//! `/2fa/limits`: named limits.
use super::api_error::ApiError;
use super::input::{invalid, ApiInput, Loose};
use super::otps::acting;
use super::paging::{acting_for, Page, PageParams};
use crate::domain::limit::{self, Bucket, BucketError, Limit};
use crate::domain::Problem;
use crate::server::auth::{ApiCaller, ApiOrigin};
use crate::server::clock::rfc3339;
#[allow(unused_imports)]
use crate::server::rest::api_error::ErrorEnvelope;
use crate::server::services::audit::{self, limit_json, AuditAction, Change};
use crate::server::services::limits::{self, LimitChange, LimitError, LimitField, LimitNameFilter};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitBucket {
    /// 1–64 of `[A-Za-z0-9_.-]`, unique in the limit (default `bucket1`, `bucket2`).
    #[schema(pattern = "^[A-Za-z0-9_.-]{1,64}$", example = "per_minute")]
    pub name: String,
    /// 1–1 000 000 accepted sends per key…
    #[schema(minimum = 1, maximum = 1_000_000, example = 3)]
    pub max_otp: i64,
    /// …in any window of this many seconds (1–31 622 400).
    #[schema(minimum = 1, maximum = 31_622_400, example = 60)]
    pub interval: i64,
}

/// `POST /2fa/limits`, `PUT /2fa/limits/{limitSid}` (PUT: every field optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct LimitRequest {
    /// 1–64 of `[A-Za-z0-9_.-]`, unique per account (409/7050).
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9_.-]{1,64}$", example = "per_ip")]
    pub name: Loose,
    /// ≤ 256 chars.
    #[schema(value_type = Option<String>, max_length = 256)]
    pub description: Loose,
    /// 1–2 buckets (more: 400/7051); in a form, as JSON text.
    #[schema(value_type = Vec<LimitBucket>, required = true, min_items = 1, max_items = 2)]
    pub buckets: Loose,
    #[schema(value_type = Option<String>)]
    pub account_sid: Loose,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Limit)]
pub struct LimitDto {
    pub limit_sid: String,
    pub account_sid: String,
    pub name: String,
    pub description: String,
    pub buckets: Vec<LimitBucket>,
    pub date_created: String,
    pub date_updated: String,
    pub uri: String,
}

impl From<&Limit> for LimitDto {
    fn from(l: &Limit) -> Self {
        LimitDto {
            limit_sid: l.sid.to_string(),
            account_sid: l.account_sid.to_string(),
            name: l.name.clone(),
            description: l.description.clone(),
            buckets: l
                .buckets
                .iter()
                .map(|b| LimitBucket {
                    name: b.name.clone(),
                    max_otp: b.max_otp,
                    interval: b.interval,
                })
                .collect(),
            date_created: rfc3339(l.date_created),
            date_updated: rfc3339(l.date_updated),
            uri: format!("/2fa/limits/{}", l.sid),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsResponse {
    #[serde(flatten)]
    pub page: Page,
    pub limits: Vec<LimitDto>,
}

/// `GET /2fa/limits`: filter `name` (exact, or a prefix with a trailing `*`), paging.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LimitsRequest {
    pub name: Loose,
    pub account_sid: Loose,
    #[serde(flatten)]
    pub paging: PageParams,
}

fn field_name(f: LimitField) -> &'static str {
    match f {
        LimitField::Name => "name",
        LimitField::Description => "description",
        LimitField::Buckets => "buckets",
    }
}

impl From<LimitError> for ApiError {
    fn from(e: LimitError) -> Self {
        let message = match &e {
            LimitError::Invalid { field, problem } => problem.message(field_name(*field)),
            LimitError::Bucket(b) => bucket_message(b),
            LimitError::DuplicateName => {
                "A limit with this name already exists in this account.".into()
            }
            LimitError::NotFound => "The requested limit was not found.".into(),
            LimitError::Denied(m) => m.clone(),
            LimitError::Internal(_) => String::new(),
        };
        let field = e.field().map(field_name);
        if let LimitError::Internal(err) = e {
            return ApiError::internal(err);
        }
        let err = ApiError::new(e.code(), message);
        match field {
            Some(f) => err.with_field(f),
            None => err,
        }
    }
}

fn bucket_message(e: &BucketError) -> String {
    match e {
        BucketError::None => "A limit needs at least one bucket.".into(),
        BucketError::TooMany => "A limit has at most 2 buckets.".into(),
        BucketError::Name(i) => format!(
            "buckets[{i}].name must be 1–64 characters of letters, digits, '_', '.' or '-'."
        ),
        BucketError::DuplicateName(i) => {
            format!("buckets[{i}].name repeats another bucket's name.")
        }
        BucketError::MaxOtp(i) => format!("buckets[{i}].maxOtp must be 1–{}.", limit::MAX_OTP),
        BucketError::Interval(i) => format!(
            "buckets[{i}].interval must be 1–{} seconds.",
            limit::MAX_INTERVAL
        ),
    }
}

/// The request's fields as a change (names and buckets are judged by the use case).
fn change(r: &LimitRequest) -> Result<LimitChange, ApiError> {
    Ok(LimitChange {
        name: r.name.string("name")?.map(|n| n.trim().to_owned()),
        description: r.description.text("description", (0, 256))?,
        buckets: buckets(&r.buckets)?,
    })
}

fn buckets(raw: &Loose) -> Result<Option<Vec<Bucket>>, ApiError> {
    let bad = |what: String| invalid("buckets", Problem::sentence(what));
    let v = match &raw.0 {
        None => return Ok(None),
        // Form bodies carry the list as JSON text.
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .map_err(|_| bad("buckets must be a JSON list of {name, maxOtp, interval}.".into()))?,
        Some(other) => other.clone(),
    };
    let list = v
        .as_array()
        .ok_or_else(|| bad("buckets must be a list of {name, maxOtp, interval}.".into()))?;
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let obj = item.as_object().ok_or_else(|| {
            bad(format!(
                "buckets[{i}] must be an object {{name, maxOtp, interval}}."
            ))
        })?;
        let get = |k: &str| Loose(obj.get(k).filter(|v| !v.is_null()).cloned());
        let part = |what: &str| bad(format!("buckets[{i}].{what}"));
        let name = get("name")
            .string("name")
            .map_err(|_| part("name must be a string."))?
            .unwrap_or_else(|| format!("bucket{}", i + 1));
        let max_otp = get("maxOtp")
            .int("maxOtp", (i64::MIN, i64::MAX))
            .map_err(|_| part("maxOtp must be a whole number."))?
            .ok_or_else(|| part("maxOtp is required."))?;
        let interval = get("interval")
            .int("interval", (i64::MIN, i64::MAX))
            .map_err(|_| part("interval must be a whole number of seconds."))?
            .ok_or_else(|| part("interval is required."))?;
        out.push(Bucket {
            name: name.trim().to_owned(),
            max_otp,
            interval,
        });
    }
    Ok(Some(out))
}

#[utoipa::path(post, path = "/2fa/limits", tag = "Limits", request_body = LimitRequest,
    responses((status = 201, body = LimitDto), (status = 400, body = ErrorEnvelope, description = "7004, 7051"), (status = 409, body = ErrorEnvelope, description = "7050")))]
pub async fn create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    input: ApiInput,
) -> Result<(StatusCode, Json<LimitDto>), ApiError> {
    let req: LimitRequest = input.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let l = limits::create(state.db(), state.clock(), &scope, change(&req)?).await?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        Change::new(AuditAction::LimitCreate, l.sid.as_str()).after(limit_json(&l)),
    )
    .await;
    Ok((StatusCode::CREATED, Json(LimitDto::from(&l))))
}

#[utoipa::path(get, path = "/2fa/limits", tag = "Limits",
    params(("name" = Option<String>, Query, description = "exact, or a prefix ending in *"), ("Page" = Option<i64>, Query,), ("PageSize" = Option<i64>, Query,)),
    responses((status = 200, body = LimitsResponse)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    input: ApiInput,
) -> Result<Json<LimitsResponse>, ApiError> {
    let req: LimitsRequest = input.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let paging = req.paging.parse()?;
    let name = req.name.text("name", (1, 65))?;
    let filter = match &name {
        Some(n) if n.ends_with('*') => LimitNameFilter::Prefix(n.trim_end_matches('*').to_owned()),
        Some(n) => LimitNameFilter::Exactly(n.clone()),
        None => LimitNameFilter::Any,
    };
    let found = limits::list(state.db(), &scope, &filter, paging).await?;
    let mut echo = acting_for(&scope, &caller);
    echo.extend(name.map(|n| ("name".to_owned(), n)));
    Ok(Json(LimitsResponse {
        page: Page::of(paging, found.total, found.items.len(), "/2fa/limits", &echo),
        limits: found.items.iter().map(LimitDto::from).collect(),
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScopeOnly {
    pub account_sid: Loose,
}

#[utoipa::path(get, path = "/2fa/limits/{limitSid}", tag = "Limits", params(("limitSid" = String, Path,)),
    responses((status = 200, body = LimitDto), (status = 404, body = ErrorEnvelope)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(sid): Path<String>,
    input: ApiInput,
) -> Result<Json<LimitDto>, ApiError> {
    let req: ScopeOnly = input.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    Ok(Json(LimitDto::from(
        &limits::get(state.db(), &scope, &sid).await?,
    )))
}

#[utoipa::path(put, path = "/2fa/limits/{limitSid}", tag = "Limits", params(("limitSid" = String, Path,)), request_body = LimitRequest,
    responses((status = 200, body = LimitDto), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    Path(sid): Path<String>,
    input: ApiInput,
) -> Result<Json<LimitDto>, ApiError> {
    let req: LimitRequest = input.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let current = limits::get(state.db(), &scope, &sid).await?;
    let l = limits::update(
        state.db(),
        state.clock(),
        &scope,
        current.sid.as_str(),
        change(&req)?,
    )
    .await?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        Change::new(AuditAction::LimitUpdate, l.sid.as_str())
            .before(limit_json(&current))
            .after(limit_json(&l)),
    )
    .await;
    Ok(Json(LimitDto::from(&l)))
}

#[utoipa::path(delete, path = "/2fa/limits/{limitSid}", tag = "Limits", params(("limitSid" = String, Path,)),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    Path(sid): Path<String>,
    input: ApiInput,
) -> Result<StatusCode, ApiError> {
    let req: ScopeOnly = input.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let current = limits::get(state.db(), &scope, &sid).await?;
    limits::delete(state.db(), &scope, current.sid.as_str()).await?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        Change::new(AuditAction::LimitDelete, current.sid.as_str()).before(limit_json(&current)),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
