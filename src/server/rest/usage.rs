//! `GET|POST /2fa/usage/records` and `/2fa/usage/records/{period}`.
use super::error::ApiError;
use super::input::ApiInput;
use crate::server::auth::ApiCaller;
use crate::server::services::usage_records::{self, Period};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;

pub async fn totals(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    let now = state.clock().now_ms();
    Ok(Json(
        usage_records::records(state.db(), &scope, &input, Period::Total, now).await?,
    ))
}

pub async fn by_period(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    Path(period): Path<String>,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    let period = Period::parse(&period)?;
    let now = state.clock().now_ms();
    Ok(Json(
        usage_records::records(state.db(), &scope, &input, period, now).await?,
    ))
}
