//! `GET /2fa/errors`: the list of error codes.
use crate::domain::ErrorCode;
#[allow(unused_imports)]
use crate::server::rest::api_error::ErrorEnvelope;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInfo {
    pub error_code: u16,
    pub http_status: u16,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorsResponse {
    pub errors: Vec<ErrorInfo>,
}

#[utoipa::path(get, path = "/2fa/errors", tag = "Errors", security(()), responses((status = 200, body = ErrorsResponse)))]
pub async fn list() -> Json<ErrorsResponse> {
    Json(ErrorsResponse {
        errors: ErrorCode::ALL
            .iter()
            .map(|c| ErrorInfo {
                error_code: c.code(),
                http_status: c.http_status(),
                message: c.description().to_owned(),
            })
            .collect(),
    })
}
