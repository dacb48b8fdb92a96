//! `POST /2fa/send`: validate, protect the destination, supersede older OTPs, store the OTP with
//! its code's HMAC, its sealed code and its first delivery job in one transaction, then answer.
use super::changes::Otps;
use super::events;
use super::params::SendParams;
use super::protection;
use crate::args;
use crate::domain::code;
use crate::domain::{ErrorCode, OtpSid};
use crate::on_db;
use crate::server::clock::rfc3339;
use crate::server::crypto;
use crate::server::db::script::{RunScript, Script};
use crate::server::db::{self, otps::ACTIVE};
use crate::server::services::{limits, AccountScope, ServiceError, ServiceResult};
use crate::server::state::AppState;
use serde_json::{json, Map, Value};

/// What `send` answers: HTTP status and body (also what an idempotent replay returns).
#[derive(Debug, Clone)]
pub struct SendOutcome {
    pub status: u16,
    pub body: Value,
    pub replayed: bool,
}

pub async fn send(
    state: &AppState,
    caller: &AccountScope,
    raw: &Map<String, Value>,
    idempotency_key: Option<&str>,
) -> ServiceResult<SendOutcome> {
    let params = SendParams::parse(raw)?;
    let scope = caller
        .act_as(state.db(), params.account_sid.as_ref())
        .await?;
    // A parent may still read a suspended or closed sub-account's history, but not send for it
    // (its own credentials are refused altogether).
    if scope.account().status != crate::domain::AccountStatus::Active {
        return Err(ServiceError::forbidden(format!(
            "Account {} is {}: it cannot send codes until it is active again.",
            scope.sid(),
            scope.account().status.as_str()
        )));
    }
    let account = scope.sid().as_str().to_owned();
    let db = state.db();
    let now = state.clock().now_ms();

    let request_hash = crypto::hash_token(&Value::Object(raw.clone()).to_string());
    if let Some(key) = idempotency_key {
        if key.is_empty() || key.len() > 128 {
            return Err(ServiceError::invalid(
                "Idempotency-Key",
                "The Idempotency-Key header must be 1–128 characters.",
            ));
        }
        if let Some(found) = replay(state, &account, key, &request_hash).await? {
            return Ok(found);
        }
    }

    let charges = limits::resolve(db, &account, &params.limits).await?;
    let pg = matches!(db, crate::server::db::Db::Postgres(_));
    let dest = params.destination();
    protection::check(db, &account, &dest, now).await?;

    let sid = OtpSid::generate();
    let the_code = match &params.code {
        Some(c) => c.clone(),
        None => {
            let mut bytes = crypto::random_bytes::<64>().into_iter().cycle();
            let mut fresh = || -> u8 {
                // 64 random bytes are far more than any code needs; refill if ever exhausted.
                bytes
                    .next()
                    .unwrap_or_else(|| crypto::random_bytes::<1>()[0])
            };
            code::generate(params.code_length, params.code_type, &mut fresh)
        }
    };
    let key = &state.inner.secrets.code_hash_key;
    let code_hash = crypto::code_hmac(key, sid.as_str(), &the_code);
    let sealed = crypto::seal(key, sid.as_str(), &the_code);
    drop(the_code);

    let expires_at = now + params.expiry_secs * 1000;
    let first = params.workflow[0];
    let workflow_text = params
        .workflow
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let limits_json = if params.limits.is_empty() {
        None
    } else {
        Some(
            Value::Object(
                params
                    .limits
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            )
            .to_string(),
        )
    };
    let mut body = json!({
        "code": 200,
        "message": "OK",
        "requestID": sid.as_str(),
        "status": "pending",
        "channel": first.as_str(),
        "expiresAt": rfc3339(expires_at),
        "attemptsLeft": params.max_attempts,
    });
    if let Some(to) = &params.to {
        body["to"] = Value::String(to.as_str().to_owned());
    }
    if let Some(e) = &params.email_to {
        body["emailTo"] = Value::String(e.as_str().to_owned());
    }
    let created_detail = json!({
        "channel": first.as_str(),
        "workflow": workflow_text,
        "expiresAt": rfc3339(expires_at),
        "maxAttempts": params.max_attempts,
        "reference": params.reference,
    });

    // The OTP row, written in both the accepted and the blocked path.
    let insert_otp = args![
        sid.as_str(),
        account.as_str(),
        params.service.as_str(),
        params.reference.as_deref(),
        first.as_str(),
        workflow_text.as_str(),
        params.workflow_timeout as i32,
        params.to.as_ref().map(|t| t.as_str()),
        params.from.as_deref(),
        params.email_to.as_ref().map(|e| e.as_str()),
        params.email_from.as_ref().map(|e| e.as_str()),
        params.subject.as_deref(),
        params.body.as_deref(),
        params.to.as_ref().and_then(|t| t.country()),
        params.language.as_str(),
        params.voice.as_str(),
        params.repeat as i32,
        code_hash.as_str(),
        params.code_length as i32,
        params.code_type.as_str(),
        expires_at,
        params.max_attempts as i32,
        params.status_callback.as_deref(),
        limits_json.as_deref(),
        now
    ];
    // What an accepted send writes, as one script: limit hits, the older OTPs it supersedes
    // (unless kept active), the OTP, its sealed code, its events and its first delivery job.
    let mut accepted = Script::new();
    for c in &charges {
        let longest = c.buckets.iter().map(|b| b.interval).max().unwrap_or(0) * 1000;
        accepted.push(
            limits::INSERT_HIT,
            args![c.limit_sid.as_str(), c.key.as_str(), now, sid.as_str()],
        );
        accepted.push(
            limits::PRUNE_HITS,
            args![c.limit_sid.as_str(), c.key.as_str(), now - longest],
        );
    }
    if !params.keep_old_otp_active {
        let older = Otps::of_destination(&account, &params.service, dest.column(), dest.value())
            .and(&format!("status IN {ACTIVE}"), args![]);
        older.event(
            &mut accepted,
            now,
            events::SUPERSEDED,
            &json!({"reason": "superseded", "by": sid.as_str()}),
        );
        older.callback(&mut accepted, now, "canceled");
        older.update(
            &mut accepted,
            "status = 'canceled', cancel_reason = 'superseded', canceled_at = $1, date_updated = $1",
            args![now],
        );
    }
    accepted.push(db::otps::INSERT, insert_otp.clone());
    accepted.push(
        "INSERT INTO otp_codes (otp_sid, sealed) VALUES ($1, $2)",
        args![sid.as_str(), sealed.as_str()],
    );
    let new_otp = Otps::one(sid.as_str());
    new_otp.event(&mut accepted, now, events::CREATED, &created_detail);
    for c in &charges {
        new_otp.event(
            &mut accepted,
            now,
            events::LIMIT_CHECK,
            &json!({"limit": c.name, "key": c.key, "result": "ok"}),
        );
    }
    accepted.push(
        db::otps::INSERT_JOB,
        args!["deliver", sid.as_str(), 0i32, now],
    );

    // Most sends have no idempotency key and no named limit: nothing to read or decide inside
    // the transaction, so the script commits with whatever else is being written (group commit).
    let result: Result<TxOutcome, sqlx::Error> = if idempotency_key.is_none() && charges.is_empty()
    {
        db::commit_script(db, accepted)
            .await
            .map(|_| TxOutcome::Accepted)
    } else {
        on_db!(db, pool => async {
        let mut tx = crate::server::db::BeginWrite::begin_write(pool).await?;
        if let Some(key) = idempotency_key {
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (account_sid, idem_key, request_hash, status, response, date_created) \
                 VALUES ($1, $2, $3, 200, $4, $5) ON CONFLICT (account_sid, idem_key) DO NOTHING",
            )
            .bind(&account).bind(key).bind(&request_hash).bind(body.to_string()).bind(now)
            .execute(&mut *tx).await?.rows_affected();
            if inserted == 0 {
                tx.rollback().await?;
                return Ok(TxOutcome::Replay);
            }
        }
        // Named limits: every bucket of every limit must have room. Serialized per (limit, key).
        let mut block: Option<(String, String, i64)> = None;
        let mut full: Vec<&str> = Vec::new();
        for c in &charges {
            if pg {
                sqlx::query(limits::PG_LOCK_KEY).bind(format!("{}|{}", c.limit_sid, c.key)).execute(&mut *tx).await?;
            }
            for b in &c.buckets {
                let nth: Option<i64> = sqlx::query_scalar(limits::NTH_NEWEST_HIT)
                    .bind(&c.limit_sid).bind(&c.key).bind(b.max_otp - 1)
                    .fetch_optional(&mut *tx).await?;
                if let Some(wait) = crate::domain::limit::wait_ms(b, nth, now) {
                    full.push(c.name.as_str());
                    if block.as_ref().is_none_or(|(_, _, w)| wait > *w) {
                        block = Some((c.name.clone(), b.name.clone(), wait));
                    }
                }
            }
        }
        if let Some((limit_name, bucket, wait)) = block {
            let retry_after = (wait + 999) / 1000;
            let blocked_by = charges.iter().find(|c| c.name == limit_name).map(|c| c.limit_sid.clone());
            let answer = blocked_answer(&limit_name, &bucket, retry_after, sid.as_str());
            let mut blocked = Script::new();
            blocked.push(db::otps::INSERT, insert_otp);
            new_otp.update(&mut blocked, "status = 'blocked', blocked_by = $1", args![blocked_by]);
            new_otp.event(&mut blocked, now, events::CREATED, &created_detail);
            for c in &charges {
                let result = if full.contains(&c.name.as_str()) { "full" } else { "ok" };
                new_otp.event(&mut blocked, now, events::LIMIT_CHECK, &json!({"limit": c.name, "key": c.key, "result": result}));
            }
            new_otp.event(&mut blocked, now, events::BLOCKED, &json!({"limit": limit_name, "bucket": bucket, "retryAfter": retry_after}));
            if let Some(key) = idempotency_key {
                blocked.push(
                    "UPDATE idempotency_keys SET status = 429, response = $1 WHERE account_sid = $2 AND idem_key = $3",
                    args![answer.to_string(), account.as_str(), key],
                );
            }
            tx.run(&blocked).await?;
            tx.commit().await?;
            return Ok(TxOutcome::Blocked(answer));
        }
        tx.run(&accepted).await?;
        tx.commit().await?;
        Ok(TxOutcome::Accepted)
    }.await)
    };

    let outcome = result?;
    if let TxOutcome::Blocked(answer) = outcome {
        tracing::info!(request_id = %sid, account = %account, "otp blocked by a limit");
        return Err(ServiceError::with(
            ErrorCode::LimitExceeded,
            answer["message"].as_str().unwrap_or_default(),
            json!({"limit": answer["limit"], "bucket": answer["bucket"], "retryAfter": answer["retryAfter"], "requestID": answer["requestID"]}),
        ));
    }
    if matches!(outcome, TxOutcome::Replay) {
        // Another request with this key won the race: answer what it answered.
        let key = idempotency_key.unwrap_or_default();
        return replay(state, &account, key, &request_hash)
            .await?
            .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("idempotency record vanished")));
    }
    state.wake_workers();
    tracing::info!(request_id = %sid, account = %account, channel = first.as_str(), "otp accepted");
    Ok(SendOutcome {
        status: 200,
        body,
        replayed: false,
    })
}

/// The stored answer for an idempotency key used within 24 h, if any.
async fn replay(
    state: &AppState,
    account: &str,
    key: &str,
    request_hash: &str,
) -> ServiceResult<Option<SendOutcome>> {
    let cutoff = state.clock().now_ms() - 24 * 60 * 60 * 1000;
    let row: Option<(String, i32, String, i64)> = on_db!(state.db(), pool => sqlx::query_as(
        "SELECT request_hash, status, response, date_created FROM idempotency_keys WHERE account_sid = $1 AND idem_key = $2")
        .bind(account).bind(key).fetch_optional(pool).await)?;
    let Some((hash, status, response, created)) = row else {
        return Ok(None);
    };
    if created <= cutoff {
        // Expired key: forget it and treat the request as new.
        on_db!(state.db(), pool => sqlx::query("DELETE FROM idempotency_keys WHERE account_sid = $1 AND idem_key = $2 AND date_created <= $3")
            .bind(account).bind(key).bind(cutoff).execute(pool).await.map(|_| ()))?;
        return Ok(None);
    }
    if hash != request_hash {
        return Err(ServiceError::Rule {
            code: ErrorCode::InvalidParameter,
            message: "This Idempotency-Key was already used with a different request in the last 24 hours.".into(),
            field: Some("Idempotency-Key"),
        });
    }
    let body: Value =
        serde_json::from_str(&response).map_err(|e| anyhow::anyhow!("stored response: {e}"))?;
    Ok(Some(SendOutcome {
        status: status as u16,
        body,
        replayed: true,
    }))
}

enum TxOutcome {
    Accepted,
    /// Another request with the same Idempotency-Key committed first.
    Replay,
    /// Refused by a named limit; recorded as `blocked`. Holds the 429 answer.
    Blocked(Value),
}

fn blocked_answer(limit: &str, bucket: &str, retry_after: i64, request_id: &str) -> Value {
    json!({
        "code": 429,
        "errorCode": ErrorCode::LimitExceeded.code(),
        "message": format!("Limit {limit:?} exceeded (bucket {bucket:?}): the next send is accepted in {retry_after} s."),
        "moreInfo": format!("/2fa/errors#{}", ErrorCode::LimitExceeded.code()),
        "limit": limit,
        "bucket": bucket,
        "retryAfter": retry_after,
        "requestID": request_id,
    })
}
