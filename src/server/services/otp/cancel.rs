//! `POST /2fa/cancel`: ends an active OTP; a final one answers its state.
use super::events::{self, enqueue_callback, insert_event};
use super::input::Fields;
use super::{final_state_error, sdr};
use crate::domain::OtpStatus;
use crate::on_db;
use crate::server::db::otps::{OtpRow, ACTIVE};
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
    let sql = format!(
        "UPDATE otps SET status = 'canceled', cancel_reason = $1, canceled_at = $2, date_updated = $2 \
         WHERE sid = $3 AND status IN {ACTIVE}"
    );
    let reason_text = reason.clone().unwrap_or_else(|| "requested".into());
    let changed: bool = on_db!(state.db(), pool => async {
        let mut tx = crate::server::db::BeginWrite::begin_write(pool).await?;
        let n = sqlx::query(&sql).bind(&reason_text).bind(now).bind(&row.sid).execute(&mut *tx).await?.rows_affected();
        if n == 1 {
            insert_event!(&row.sid, now, events::CANCELED, json!({"reason": reason_text, "by": who})).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM otp_codes WHERE otp_sid = $1").bind(&row.sid).execute(&mut *tx).await?;
            if row.status_callback.is_some() {
                enqueue_callback!(&row.sid, now).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok::<bool, sqlx::Error>(n == 1)
    }.await)?;
    let current = sdr::reload(state.db(), &row.sid).await?;
    if !changed {
        let status = OtpStatus::parse(&current.status).unwrap_or(OtpStatus::Canceled);
        return Err(final_state_error(status));
    }
    state.wake_workers();
    Ok(current)
}
