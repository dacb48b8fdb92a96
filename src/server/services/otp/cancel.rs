//! `POST /2fa/cancel`: ends an active OTP; a final one answers `409` with its state (an
//! overdue one the sweeper has not reached yet is expired first, so it answers `expired`).
use super::changes::Otps;
use super::events;
use super::input::Fields;
use super::{final_state_error, sdr, verify};
use crate::args;
use crate::domain::OtpStatus;
use crate::server::db::otps::{OtpRow, ACTIVE};
use crate::server::db::script::Script;
use crate::server::services::ServiceError;
use crate::server::services::{AccountScope, ServiceResult};
use crate::server::state::AppState;
use serde_json::{json, Map, Value};

pub async fn cancel(
    state: &AppState,
    caller: &AccountScope,
    raw: &Map<String, Value>,
    who: &str,
) -> ServiceResult<OtpRow> {
    let f = Fields(raw);
    let scope = f.scope(state.db(), caller).await?;
    let request_id = f.required_text("requestID", 1, 64)?;
    let reason = f.text("reason", 1, 200)?;
    let row = sdr::load_row(state.db(), &scope, &request_id).await?;
    let now = state.clock().now_ms();
    let reason_text = reason.clone().unwrap_or_else(|| "requested".into());
    // Only if it is still active and unexpired when the script runs (the condition of the final
    // change).
    let canceling = Otps::one(&row.sid).and(
        &format!("status IN {ACTIVE} AND expires_at > $1"),
        args![now],
    );
    let mut s = Script::new();
    canceling.event(
        &mut s,
        now,
        events::CANCELED,
        &json!({"reason": reason_text, "by": who}),
    );
    if row.status_callback.is_some() {
        canceling.callback(&mut s, now, "canceled");
    }
    canceling.update(
        &mut s,
        "status = 'canceled', cancel_reason = $1, canceled_at = $2, date_updated = $2",
        args![reason_text.as_str(), now],
    );
    let changed = crate::server::db::commit_script(state.db(), s)
        .await?
        .last()
        == Some(&1);
    let mut current = sdr::reload(state.db(), &row.sid).await?;
    if !changed {
        let mut status = OtpStatus::parse(&current.status).unwrap_or(OtpStatus::Canceled);
        if !status.is_final() {
            // Still active, so it was overdue: it expires now, as a verify would find it.
            verify::expire(state, &row.sid, now).await?;
            current = sdr::reload(state.db(), &row.sid).await?;
            status = OtpStatus::parse(&current.status).unwrap_or(OtpStatus::Expired);
        }
        return Err(already_final(status));
    }
    state.wake_workers();
    Ok(current)
}

/// The contract's answer for canceling a final OTP: `409` with its status and the code of that
/// state (7031–7035). A blocked OTP was never active: it answers as verify does (404, 7003).
fn already_final(status: OtpStatus) -> ServiceError {
    let err = final_state_error(status);
    if status == OtpStatus::Blocked {
        err
    } else {
        err.with_http_status(409)
    }
}
