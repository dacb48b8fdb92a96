//! The session detail record of one OTP: every field, its delivery attempts and its timeline.
use super::verify::load;
use super::{OtpResult, OtpService};
use crate::domain::Otp;
use crate::server::db::otps::{self as store, AttemptRecord, EventRecord};
use crate::server::services::AccountScope;

#[derive(Debug, Clone)]
pub struct OtpDetail {
    pub otp: Otp,
    pub attempts: Vec<AttemptRecord>,
    pub events: Vec<EventRecord>,
}

pub async fn detail(
    svc: &OtpService,
    scope: &AccountScope,
    request_id: &str,
) -> OtpResult<OtpDetail> {
    let otp = load(svc, scope, request_id).await?;
    let (attempts, events) = store::history(svc.db(), &otp.sid).await?;
    Ok(OtpDetail {
        otp,
        attempts,
        events,
    })
}
