//! Moves overdue active OTPs to `expired`, in batches.
use crate::on_db;
use crate::server::db::otps::ACTIVE;
use crate::server::services::otp::events::{self, enqueue_callback, insert_event};
use crate::server::state::AppState;
use serde_json::Value;

/// Expires up to 500 overdue OTPs; returns how many.
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock().now_ms();
    let pick = format!("SELECT sid FROM otps WHERE status IN {ACTIVE} AND expires_at <= $1 ORDER BY expires_at LIMIT 500");
    let update = format!("UPDATE otps SET status = 'expired', date_updated = $1 WHERE sid = $2 AND status IN {ACTIVE} AND expires_at <= $1");
    let n: usize = on_db!(state.db(), pool => async {
        let sids: Vec<String> = sqlx::query_scalar(&pick).bind(now).fetch_all(pool).await?;
        if sids.is_empty() {
            return Ok::<usize, sqlx::Error>(0);
        }
        let mut tx = crate::server::db::BeginWrite::begin_write(pool).await?;
        let mut n = 0;
        for sid in &sids {
            if sqlx::query(&update).bind(now).bind(sid).execute(&mut *tx).await?.rows_affected() == 1 {
                insert_event!(sid, now, events::EXPIRED, Value::Null).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM otp_codes WHERE otp_sid = $1").bind(sid).execute(&mut *tx).await?;
                enqueue_callback!(sid, now).execute(&mut *tx).await?;
                n += 1;
            }
        }
        tx.commit().await?;
        Ok(n)
    }.await)?;
    Ok(n)
}
