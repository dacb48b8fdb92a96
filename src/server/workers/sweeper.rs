//! Moves overdue active OTPs to `expired`, in batches.
use crate::on_db;
use crate::server::db::otps::ACTIVE;
use crate::server::db::script::Script;
use crate::server::services::otp::verify::expire_script;
use crate::server::state::AppState;

/// Expires up to 500 overdue OTPs (one transaction); returns how many.
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock().now_ms();
    let pick = format!("SELECT sid FROM otps WHERE status IN {ACTIVE} AND expires_at <= $1 ORDER BY expires_at LIMIT 500");
    let sids: Vec<String> =
        on_db!(state.db(), pool => sqlx::query_scalar(&pick).bind(now).fetch_all(pool).await)?;
    if sids.is_empty() {
        return Ok(0);
    }
    let mut s = Script::new();
    let mut last = Vec::with_capacity(sids.len());
    for sid in &sids {
        expire_script(&mut s, sid, now);
        // The status change is each OTP's last statement.
        last.push(s.len() - 1);
    }
    let changed = crate::server::db::commit_script(state.db(), s).await?;
    Ok(last.into_iter().filter(|&i| changed[i] == 1).count())
}
