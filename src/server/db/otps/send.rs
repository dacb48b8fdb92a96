//! Writing a send: the OTP (only an HMAC of its code), its sealed code, the older OTPs it
//! supersedes, its named limits' hits, its timeline and its first delivery job, in one
//! transaction — or, when a limit is full, the OTP as `blocked` with why. With an
//! `Idempotency-Key` the key is claimed in the same transaction.
use super::changes::{Move, OtpChanges, Selection};
use crate::args;
use crate::domain::code::CodeType;
use crate::domain::destination::Destination;
use crate::domain::limit::{self, Refusal};
use crate::domain::otp::{CodeHash, Millis, SendReceipt, Voice};
use crate::domain::protection::Protection;
use crate::domain::timeline::OtpEvent;
use crate::domain::{AccountSid, OtpSid, OtpStatus, Transition, Workflow};
use crate::on_db;
use crate::server::db::fraud::{self, Block};
use crate::server::db::jobs::JobKind;
use crate::server::db::limits::{self as limits_db, Charge};
use crate::server::db::script::{refused, Guard, RunScript, Script};
use crate::server::db::{idempotency, Db};

/// A new OTP, as the send decided it.
#[derive(Debug, Clone)]
pub struct NewOtp {
    pub sid: OtpSid,
    pub account_sid: AccountSid,
    pub service: String,
    pub reference: Option<String>,
    pub workflow: Workflow,
    pub workflow_timeout_secs: i64,
    pub to: Option<String>,
    pub from: Option<String>,
    pub email_to: Option<String>,
    pub email_from: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub country_code: Option<String>,
    pub language: String,
    pub voice: Voice,
    pub repeat: i64,
    pub code_hash: CodeHash,
    pub code_length: i64,
    pub code_type: CodeType,
    pub expires_at: Millis,
    pub max_attempts: i64,
    pub status_callback: Option<String>,
    pub limits: Vec<(String, String)>,
    pub date_created: Millis,
}

/// Everything one send writes.
pub struct SendWrite<'a> {
    pub otp: &'a NewOtp,
    pub sealed_code: &'a str,
    /// Supersede the active OTPs of this destination (unless older OTPs are kept active).
    pub supersede: Option<&'a Destination>,
    pub charges: &'a [Charge],
    /// The `Idempotency-Key` and the hash of the request it came with.
    pub idempotency: Option<(&'a str, &'a str)>,
    /// The answer an accepted send gives (kept with the idempotency key).
    pub accepted: &'a SendReceipt,
    /// What the fraud guard decided, when it has something to record.
    pub fraud: Option<&'a FraudWrite>,
    /// The destination's protection: the send commits only while the destination has fewer
    /// sends in each window than the rule allows, counted in the send's own transaction.
    pub protection: Option<(&'a Destination, Protection)>,
}

/// The fraud guard's part of a send: its timeline event, and when it refused the send, the
/// answer and the prefix's new blocks.
#[derive(Debug, Clone)]
pub struct FraudWrite {
    pub event: OtpEvent,
    pub refused: Option<(SendReceipt, Vec<Block>)>,
}

/// What was written.
#[derive(Debug)]
pub enum Written {
    Accepted,
    /// Refused by a named limit and recorded as `blocked`.
    Blocked(Refusal),
    /// Refused by the fraud guard and recorded as `blocked`.
    FraudBlocked,
    /// Refused by the destination's protection (another send got there first); nothing was
    /// written.
    TooManySends,
    /// Another request with the same `Idempotency-Key` committed first; nothing was written.
    Replay,
}

pub async fn write(db: &Db, w: &SendWrite<'_>) -> anyhow::Result<Written> {
    // Refused by the fraud guard: nothing is charged.
    let (script, written) = match fraud_blocked_script(w) {
        Some(script) => (script, Written::FraudBlocked),
        None => (accepted_script(w), Written::Accepted),
    };
    // Most sends have no idempotency key and no named limit: nothing to read or decide inside
    // the transaction, so the script commits with whatever else is being written (group commit).
    if w.idempotency.is_none() && w.charges.is_empty() {
        let changed = crate::server::db::commit_script(db, script).await?;
        if refused(&changed) {
            return Ok(Written::TooManySends);
        }
        return Ok(written);
    }
    let fraud_blocked = matches!(written, Written::FraudBlocked);
    let now = w.otp.date_created;
    let written: Result<Written, sqlx::Error> = on_db!(db, pool => async {
        let mut tx = crate::server::db::BeginWrite::begin_write(pool).await?;
        if let Some((key, hash)) = w.idempotency {
            let claimed = tx.run(&idempotency::claim(&w.otp.account_sid, key, hash, w.accepted, now)).await?;
            if claimed.first() == Some(&0) {
                tx.rollback().await?;
                return Ok(Written::Replay);
            }
        }
        if fraud_blocked {
            tx.run(&script).await?;
            tx.commit().await?;
            return Ok(Written::FraudBlocked);
        }
        // Every bucket of every limit must have room. Serialized per (limit, key).
        let mut checks = Vec::new();
        for c in w.charges {
            limits_db::lock_key(&mut *tx, c).await?;
            for b in &c.buckets {
                checks.push((c.name.as_str(), b, limits_db::nth_newest_hit(&mut *tx, c, b).await?));
            }
        }
        if let Some(refusal) = limit::decide(checks, now) {
            tx.run(&blocked_script(w, &refusal)).await?;
            tx.commit().await?;
            return Ok(Written::Blocked(refusal));
        }
        if refused(&tx.run(&script).await?) {
            tx.rollback().await?;
            return Ok(Written::TooManySends);
        }
        tx.commit().await?;
        Ok(Written::Accepted)
    }.await);
    Ok(written?)
}

fn insert(s: &mut Script, o: &NewOtp, status: OtpStatus, blocked_by: Option<&str>) {
    let limits_json = (!o.limits.is_empty()).then(|| {
        serde_json::to_string(
            &o.limits
                .iter()
                .cloned()
                .collect::<std::collections::BTreeMap<String, String>>(),
        )
        .expect("strings serialize")
    });
    s.push(
        "INSERT INTO otps (sid, account_sid, service, reference, channel, workflow, workflow_index, \
         workflow_timeout, to_number, from_sender, email_to, email_from, subject, body, country_code, language, voice, \
         repeat_count, code_hash, code_length, code_type, expires_at, max_attempts, verify_attempts, status, \
         status_callback, limits, blocked_by, date_created, date_updated) VALUES \
         ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, 0, $23, $24, $25, $26, $27, $27)",
        args![
            o.sid.as_str(),
            o.account_sid.as_str(),
            o.service.as_str(),
            o.reference.as_deref(),
            o.workflow.first().as_str(),
            o.workflow.to_text(),
            o.workflow_timeout_secs as i32,
            o.to.as_deref(),
            o.from.as_deref(),
            o.email_to.as_deref(),
            o.email_from.as_deref(),
            o.subject.as_deref(),
            o.body.as_deref(),
            o.country_code.as_deref(),
            o.language.as_str(),
            o.voice.as_str(),
            o.repeat as i32,
            o.code_hash.0.as_str(),
            o.code_length as i32,
            o.code_type.as_str(),
            o.expires_at,
            o.max_attempts as i32,
            status.as_str(),
            o.status_callback.as_deref(),
            limits_json,
            blocked_by,
            o.date_created
        ],
    );
}

fn created(o: &NewOtp) -> OtpEvent {
    OtpEvent::Created {
        channel: o.workflow.first(),
        workflow: o.workflow.to_text(),
        expires_at: o.expires_at,
        max_attempts: o.max_attempts,
        reference: o.reference.clone(),
    }
}

/// An accepted send: limit hits, the older OTPs it supersedes, the OTP, its sealed code, its
/// events and its first delivery job.
fn accepted_script(w: &SendWrite<'_>) -> Script {
    let o = w.otp;
    let now = o.date_created;
    let mut changes = OtpChanges::new();
    let mut s = Script::new();
    for c in w.charges {
        limits_db::charge(&mut s, c, &o.sid, now);
    }
    changes.extend(s);
    if let Some(dest) = w.supersede {
        changes
            .apply(
                Selection::destination(&o.account_sid, &o.service, dest),
                Move::Supersede,
                now,
            )
            .event(OtpEvent::Superseded { by: o.sid.clone() })
            .push();
    }
    let mut s = Script::new();
    insert(
        &mut s,
        o,
        Transition::Send.to().unwrap_or(OtpStatus::Pending),
        None,
    );
    s.push(
        "INSERT INTO otp_codes (otp_sid, sealed) VALUES ($1, $2)",
        args![o.sid.as_str(), w.sealed_code],
    );
    changes.extend(s);
    changes.event(&o.sid, now, &created(o));
    if let Some(f) = w.fraud {
        changes.event(&o.sid, now, &f.event);
    }
    for c in w.charges {
        changes.event(
            &o.sid,
            now,
            &OtpEvent::LimitCheck {
                limit: c.name.clone(),
                key: c.key.clone(),
                full: false,
            },
        );
    }
    let mut s = Script::new();
    crate::server::db::jobs::insert(&mut s, JobKind::Deliver, &o.sid, &o.account_sid, 0, now);
    changes.extend(s);
    match w.protection {
        Some((dest, rule)) => changes.script.guarded(protection_guard(o, dest, rule)),
        None => changes.script,
    }
}

/// The destination's sends in each window of its protection (blocked ones do not count), each
/// counted only up to the rule's maximum.
fn protection_guard(o: &NewOtp, dest: &Destination, rule: Protection) -> Guard {
    let column = super::destination_column(dest);
    let [(max_a, window_a), (max_b, window_b)] = rule.windows();
    let count = |n: usize| {
        format!(
            "(SELECT COUNT(*) FROM (SELECT 1 FROM otps WHERE account_sid = $1 AND {column} = $2 \
             AND date_created > ${} AND status <> '{}' LIMIT ${}) w{n})",
            2 * n + 1,
            OtpStatus::Blocked.as_str(),
            2 * n + 2,
        )
    };
    Guard {
        sql: format!("SELECT {}, {}", count(1), count(2)),
        args: args![
            o.account_sid.as_str(),
            dest.as_str(),
            o.date_created - window_a,
            max_a,
            o.date_created - window_b,
            max_b
        ],
        below: vec![max_a, max_b],
        lock: format!("protect|{}|{}", o.account_sid, dest.as_str()),
    }
}

/// A send refused by a limit: the OTP as `blocked` (by which limit), its events, and the
/// answer kept with its idempotency key.
fn blocked_script(w: &SendWrite<'_>, refusal: &Refusal) -> Script {
    let o = w.otp;
    let now = o.date_created;
    let blocked_by = w
        .charges
        .iter()
        .find(|c| c.name == refusal.limit)
        .map(|c| c.limit_sid.to_string());
    let mut s = Script::new();
    insert(
        &mut s,
        o,
        Transition::Block.to().unwrap_or(OtpStatus::Blocked),
        blocked_by.as_deref(),
    );
    let mut changes = OtpChanges::new();
    changes.extend(s);
    changes.event(&o.sid, now, &created(o));
    for c in w.charges {
        changes.event(
            &o.sid,
            now,
            &OtpEvent::LimitCheck {
                limit: c.name.clone(),
                key: c.key.clone(),
                full: refusal.full.contains(&c.name),
            },
        );
    }
    changes.event(
        &o.sid,
        now,
        &OtpEvent::Blocked {
            limit: refusal.limit.clone(),
            bucket: refusal.bucket.clone(),
            retry_after: refusal.retry_after(),
        },
    );
    if let Some((key, _)) = w.idempotency {
        let receipt = SendReceipt::Blocked {
            request_id: o.sid.clone(),
            limit: refusal.limit.clone(),
            bucket: refusal.bucket.clone(),
            retry_after: refusal.retry_after(),
        };
        changes.extend(idempotency::answer(&o.account_sid, key, &receipt));
    }
    changes.script
}

/// A send the fraud guard refused: the OTP as `blocked`, its events, the prefix's new blocks,
/// and the answer kept with its idempotency key. `None` unless the guard refused it.
fn fraud_blocked_script(w: &SendWrite<'_>) -> Option<Script> {
    let f = w.fraud?;
    let (receipt, blocks) = f.refused.as_ref()?;
    let o = w.otp;
    let now = o.date_created;
    let mut s = Script::new();
    insert(
        &mut s,
        o,
        Transition::Block.to().unwrap_or(OtpStatus::Blocked),
        None,
    );
    for b in blocks {
        fraud::block(&mut s, &o.account_sid, b);
    }
    let mut changes = OtpChanges::new();
    changes.extend(s);
    changes.event(&o.sid, now, &created(o));
    changes.event(&o.sid, now, &f.event);
    if let Some((key, _)) = w.idempotency {
        changes.extend(idempotency::answer(&o.account_sid, key, receipt));
    }
    Some(changes.script)
}
