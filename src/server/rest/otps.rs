//! `/2fa/send`, `/2fa/verify`, `/2fa/cancel`, `/2fa/search`, `/2fa/sandbox/messages`.
use super::error::ApiError;
use super::input::ApiInput;
use crate::server::auth::ApiCaller;
use crate::server::services::otp::{cancel, sdr, send, verify};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

pub async fn send(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    headers: HeaderMap,
    ApiInput(input): ApiInput,
) -> Result<Response, ApiError> {
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{0}").trim().to_owned());
    let out = send::send(&state, &scope, &input, key.as_deref()).await?;
    let status = StatusCode::from_u16(out.status).unwrap_or(StatusCode::OK);
    let retry_after = out.body.get("retryAfter").and_then(Value::as_u64);
    let mut res = (status, Json(out.body)).into_response();
    if out.replayed {
        res.headers_mut().insert(
            "idempotent-replayed",
            http::HeaderValue::from_static("true"),
        );
        if let Some(secs) = retry_after {
            if let Ok(v) = http::HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
        }
    }
    Ok(res)
}

pub async fn verify(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    let v = verify::verify(&state, &scope, &input).await?;
    let mut body =
        json!({"code": 200, "message": "OK", "status": "verified", "requestID": v.row.sid});
    if let Some(to) = &v.row.to_number {
        body["to"] = Value::String(to.clone());
    }
    if let Some(e) = &v.row.email_to {
        body["emailTo"] = Value::String(e.clone());
    }
    Ok(Json(body))
}

pub async fn cancel(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    let row = cancel::cancel(&state, &scope, &input, "api").await?;
    Ok(Json(
        json!({"code": 200, "message": "OK", "requestID": row.sid, "status": row.status}),
    ))
}

pub async fn search(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(sdr::search(state.db(), &scope, &input).await?))
}

pub async fn sdr_one(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    Path(sid): Path<String>,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(sdr::detail(state.db(), &scope, &input, &sid).await?))
}

pub async fn sandbox_messages(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        sdr::sandbox_messages_waiting(state.db(), &state.inner.delivered, &scope, &input).await?,
    ))
}
