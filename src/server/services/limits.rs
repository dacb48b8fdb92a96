//! Named limits (the `limits` field of a send). The limit store arrives with the Limits issue;
//! until then no limit exists, so every name is unknown (400/7021). This is the seam the send
//! path calls before anything is written.
use crate::domain::ErrorCode;
use crate::server::db::Db;
use crate::server::services::{ServiceError, ServiceResult};

pub async fn ensure_known(
    _db: &Db,
    _account: &str,
    limits: &[(String, String)],
) -> ServiceResult<()> {
    if let Some((name, _)) = limits.first() {
        return Err(ServiceError::Rule {
            code: ErrorCode::UnknownLimit,
            message: format!("Unknown limit {name:?}: create it first with POST /2fa/limits."),
            field: Some("limits"),
        });
    }
    Ok(())
}
