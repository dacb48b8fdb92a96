//! `/2fa/limits`: named limits.
use super::error::ApiError;
use super::input::ApiInput;
use crate::server::auth::ApiCaller;
use crate::server::services::limits;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

pub async fn create(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiInput(input): ApiInput,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let row = limits::create(state.db(), state.clock(), &scope, &input).await?;
    Ok((StatusCode::CREATED, Json(row.to_json())))
}

pub async fn list(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(limits::list(state.db(), &scope, &input).await?))
}

pub async fn get_one(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    Path(sid): Path<String>,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        limits::get(state.db(), &scope, &input, &sid)
            .await?
            .to_json(),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    Path(sid): Path<String>,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        limits::update(state.db(), state.clock(), &scope, &input, &sid)
            .await?
            .to_json(),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    Path(sid): Path<String>,
    ApiInput(input): ApiInput,
) -> Result<StatusCode, ApiError> {
    limits::delete(state.db(), &scope, &input, &sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
