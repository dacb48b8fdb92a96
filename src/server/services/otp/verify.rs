//! `POST /2fa/verify`: by requestID, or by service + destination over every active OTP.
//! Wrong codes are counted atomically in the database, so N parallel wrong codes can never
//! get more than `maxAttempts` checks.
use super::changes::Otps;
use super::events::{self, enqueue_callback, insert_event};
use super::input::Fields;
use super::{final_state_error, sdr};
use crate::args;
use crate::domain::code::normalize_input;
use crate::domain::phone::PhoneDestination;
use crate::domain::{EmailAddress, ErrorCode, OtpStatus};
use crate::on_db;
use crate::server::crypto;
use crate::server::db::otps::{OtpRow, ACTIVE, COLUMNS};
use crate::server::db::script::Script;
use crate::server::services::{AccountScope, ServiceError, ServiceResult};
use crate::server::state::AppState;
use serde_json::{json, Map, Value};

/// A successful verification.
pub struct Verified {
    pub row: OtpRow,
}

pub async fn verify(
    state: &AppState,
    caller: &AccountScope,
    raw: &Map<String, Value>,
) -> ServiceResult<Verified> {
    let f = Fields(raw);
    let scope = f.scope(state.db(), caller).await?;
    let code = f
        .string("code")?
        .map(|c| normalize_input(&c))
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ServiceError::invalid("code", "code is required."))?;
    if code.len() > 64 {
        return Err(ServiceError::invalid("code", "code is too long."));
    }
    if let Some(request_id) = f.string("requestID")? {
        let row = sdr::load_row(state.db(), &scope, &request_id).await?;
        return verify_one(state, row, &code).await;
    }
    let service = f.required_text("service", 1, 64).map_err(|_| {
        ServiceError::invalid(
            "requestID",
            "Send requestID, or service with to or emailTo.",
        )
    })?;
    let (column, value) = match (f.string("to")?, f.string("emailTo")?) {
        (Some(to), _) if !to.contains('@') => {
            let p = PhoneDestination::parse(&to).map_err(|e| {
                super::input::field_error(ErrorCode::InvalidDestination, "to", format!("to {e}."))
            })?;
            ("to_number", p.as_str().to_owned())
        }
        (Some(to), _) => ("email_to", parse_email("to", &to)?),
        (None, Some(e)) => ("email_to", parse_email("emailTo", &e)?),
        (None, None) => {
            return Err(ServiceError::invalid(
                "to",
                "to or emailTo is required with service.",
            ))
        }
    };
    verify_by_destination(state, &scope, &service, column, &value, &code).await
}

fn parse_email(field: &'static str, raw: &str) -> ServiceResult<String> {
    EmailAddress::parse(raw)
        .map(|e| e.as_str().to_owned())
        .map_err(|_| {
            super::input::field_error(
                ErrorCode::InvalidDestination,
                field,
                format!("{field} is not a valid email address."),
            )
        })
}

fn status_of(row: &OtpRow) -> ServiceResult<OtpStatus> {
    OtpStatus::parse(&row.status)
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("stored status {:?}", row.status)))
}

/// Checks one OTP.
async fn verify_one(state: &AppState, row: OtpRow, code: &str) -> ServiceResult<Verified> {
    let status = status_of(&row)?;
    if status.is_final() {
        return Err(final_state_error(status));
    }
    let now = state.clock().now_ms();
    if now >= row.expires_at {
        expire(state, &row.sid, now).await?;
        return Err(final_state_error(OtpStatus::Expired));
    }
    let key = &state.inner.secrets.code_hash_key;
    if crypto::code_matches(key, &row.sid, code, &row.code_hash) {
        return mark_verified(state, row).await;
    }
    let (attempts, new_status) = count_wrong(state, &row.sid, now).await?;
    wrong_code_error(&row, attempts, new_status)
}

fn wrong_code_error(
    row: &OtpRow,
    attempts: Option<i32>,
    status: Option<OtpStatus>,
) -> ServiceResult<Verified> {
    match (attempts, status) {
        (Some(_), Some(OtpStatus::MaxAttempts)) => Err(final_state_error(OtpStatus::MaxAttempts)),
        (Some(n), _) => {
            let left = (row.max_attempts - n).max(0);
            Err(ServiceError::with(
                ErrorCode::WrongCode,
                format!(
                    "Wrong code. {left} attempt{} left.",
                    if left == 1 { "" } else { "s" }
                ),
                json!({"attemptsLeft": left, "requestID": row.sid}),
            ))
        }
        // Not counted: the OTP left the active states meanwhile.
        (None, Some(s)) => Err(final_state_error(s)),
        (None, None) => Err(ServiceError::not_found("OTP")),
    }
}

/// Counts one wrong code atomically; the one that uses the last attempt locks the OTP.
/// Returns the attempts used and the new status, or `None` when the OTP was no longer active.
async fn count_wrong(
    state: &AppState,
    sid: &str,
    now: i64,
) -> ServiceResult<(Option<i32>, Option<OtpStatus>)> {
    let sql = format!(
        "UPDATE otps SET verify_attempts = verify_attempts + 1, \
         status = CASE WHEN verify_attempts + 1 >= max_attempts THEN 'max_attempts' ELSE status END, \
         date_updated = $1 \
         WHERE sid = $2 AND status IN {ACTIVE} AND verify_attempts < max_attempts AND expires_at > $1 \
         RETURNING verify_attempts, status, max_attempts"
    );
    let res: Result<Option<(i32, String, i32)>, sqlx::Error> = on_db!(state.db(), pool => async {
        let mut tx = crate::server::db::BeginWrite::begin_write(pool).await?;
        let row: Option<(i32, String, i32)> = sqlx::query_as(&sql).bind(now).bind(sid).fetch_optional(&mut *tx).await?;
        if let Some((n, status, max)) = &row {
            insert_event!(sid, now, events::VERIFY_FAILED, json!({"attemptsLeft": (max - n).max(0)})).execute(&mut *tx).await?;
            if status == "max_attempts" {
                insert_event!(sid, now, events::LOCKED, json!({"attempts": n})).execute(&mut *tx).await?;
                enqueue_callback!(sid, now).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(row)
    }.await);
    match res? {
        Some((n, status, _)) => Ok((Some(n), OtpStatus::parse(&status))),
        None => {
            let current: Option<String> = on_db!(state.db(), pool => sqlx::query_scalar("SELECT status FROM otps WHERE sid = $1")
                .bind(sid).fetch_optional(pool).await)?;
            let status = current.as_deref().and_then(OtpStatus::parse);
            // Active but refused: it is past its expiry.
            if status.is_some_and(OtpStatus::is_active) {
                expire(state, sid, now).await?;
                return Ok((None, Some(OtpStatus::Expired)));
            }
            Ok((None, status))
        }
    }
}

/// Moves an active, overdue OTP to `expired` (no-op when something else got there first).
pub async fn expire(state: &AppState, sid: &str, now: i64) -> ServiceResult<()> {
    let mut s = Script::new();
    expire_script(&mut s, sid, now);
    crate::server::db::commit_script(state.db(), s).await?;
    Ok(())
}

/// The expiry of one OTP, if it is still active and overdue when the script runs: its event,
/// callback, then the status (the last statement; the database then forgets the sealed code).
pub fn expire_script(s: &mut Script, sid: &str, now: i64) {
    let expiring = Otps::one(sid).and(
        &format!("status IN {ACTIVE} AND expires_at <= $1"),
        args![now],
    );
    expiring.event(s, now, events::EXPIRED, &Value::Null);
    expiring.callback(s, now, "expired");
    expiring.update(s, "status = 'expired', date_updated = $1", args![now]);
}

/// Marks the OTP verified (if still active and unexpired) and supersedes the other active OTPs
/// of the same service and destination.
async fn mark_verified(state: &AppState, row: OtpRow) -> ServiceResult<Verified> {
    let now = state.clock().now_ms();
    let (column, value) = match (&row.to_number, &row.email_to) {
        (Some(t), _) => ("to_number", t.clone()),
        (None, Some(e)) => ("email_to", e.clone()),
        (None, None) => {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "OTP {} has no destination",
                row.sid
            )))
        }
    };
    // Everything below happens only if the OTP is still active and unexpired when the script
    // runs (the condition of the final change), so a lost race changes nothing.
    let verifying = Otps::one(&row.sid).and(
        &format!("status IN {ACTIVE} AND expires_at > $1"),
        args![now],
    );
    let mut s = Script::new();
    verifying.event(&mut s, now, events::VERIFIED, &Value::Null);
    if row.status_callback.is_some() {
        verifying.callback(&mut s, now, "verified");
    }
    // The other active OTPs of this service and destination are superseded.
    let others = Otps::of_destination(&row.account_sid, &row.service, column, &value).and(
        &format!(
            "status IN {ACTIVE} AND sid <> $1 AND EXISTS \
             (SELECT 1 FROM otps v WHERE v.sid = $1 AND v.status IN {ACTIVE} AND v.expires_at > $2)"
        ),
        args![row.sid.as_str(), now],
    );
    others.event(
        &mut s,
        now,
        events::SUPERSEDED,
        &json!({"reason": "superseded", "by": row.sid}),
    );
    others.callback(&mut s, now, "canceled");
    others.update(
        &mut s,
        "status = 'canceled', cancel_reason = 'superseded', canceled_at = $1, date_updated = $1",
        args![now],
    );
    verifying.update(
        &mut s,
        "status = 'verified', verified_at = $1, date_updated = $1",
        args![now],
    );
    let changed = crate::server::db::commit_script(state.db(), s).await?;
    let ok = changed.last() == Some(&1);
    if !ok {
        // Lost a race (expired, canceled or locked meanwhile): report what it is now.
        let current = sdr::reload(state.db(), &row.sid).await?;
        let status = status_of(&current)?;
        if status.is_active() {
            expire(state, &row.sid, now).await?;
            return Err(final_state_error(OtpStatus::Expired));
        }
        return Err(final_state_error(status));
    }
    let mut row = row;
    row.status = "verified".into();
    row.verified_at = Some(now);
    row.date_updated = now;
    Ok(Verified { row })
}

/// Verification by service + destination: a match on any active OTP verifies it; a wrong code
/// costs one attempt on each of them.
async fn verify_by_destination(
    state: &AppState,
    scope: &AccountScope,
    service: &str,
    column: &str,
    value: &str,
    code: &str,
) -> ServiceResult<Verified> {
    let now = state.clock().now_ms();
    let sql = format!(
        "SELECT {COLUMNS} FROM otps WHERE account_sid = $1 AND service = $2 AND {column} = $3 AND status IN {ACTIVE} \
         ORDER BY date_created DESC LIMIT 20"
    );
    let rows: Vec<OtpRow> = on_db!(state.db(), pool => sqlx::query_as::<_, OtpRow>(&sql)
        .bind(scope.sid().as_str()).bind(service).bind(value).fetch_all(pool).await)?;
    let (live, overdue): (Vec<OtpRow>, Vec<OtpRow>) =
        rows.into_iter().partition(|r| r.expires_at > now);
    for r in &overdue {
        expire(state, &r.sid, now).await?;
    }
    if live.is_empty() {
        if !overdue.is_empty() {
            return Err(final_state_error(OtpStatus::Expired));
        }
        return Err(ServiceError::rule(
            ErrorCode::NotFound,
            "No active OTP for this service and destination.",
        ));
    }
    let key = &state.inner.secrets.code_hash_key;
    // Compare against every candidate (no early exit), then act.
    let matched = live.iter().fold(None, |found, r| {
        let ok = crypto::code_matches(key, &r.sid, code, &r.code_hash);
        found.or(ok.then(|| r.clone()))
    });
    if let Some(row) = matched {
        return mark_verified(state, row).await;
    }
    let mut best: Option<(i32, OtpRow)> = None;
    let mut all_locked = true;
    for r in &live {
        let (attempts, status) = count_wrong(state, &r.sid, now).await?;
        if let (Some(n), Some(s)) = (attempts, status) {
            if s != OtpStatus::MaxAttempts {
                all_locked = false;
                let left = r.max_attempts - n;
                if best.as_ref().is_none_or(|(l, _)| left > *l) {
                    best = Some((left, r.clone()));
                }
            }
        }
    }
    match best {
        Some((left, row)) => wrong_code_error(
            &row,
            Some(row.max_attempts - left),
            Some(OtpStatus::Pending),
        ),
        None if all_locked => Err(final_state_error(OtpStatus::MaxAttempts)),
        None => Err(ServiceError::rule(
            ErrorCode::NotFound,
            "No active OTP for this service and destination.",
        )),
    }
}
