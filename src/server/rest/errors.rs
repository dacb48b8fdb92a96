//! `GET /2fa/errors`: the list of error codes.
use crate::domain::ErrorCode;
use axum::Json;
use serde_json::{json, Value};

pub async fn list() -> Json<Value> {
    let errors: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|c| json!({"errorCode": c.code(), "httpStatus": c.http_status(), "message": c.description()}))
        .collect();
    Json(json!({ "errors": errors }))
}
