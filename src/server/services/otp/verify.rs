//! Verify a code: of one OTP by its requestID, or over every active OTP of a service and
//! destination. Wrong codes are counted atomically in the database, so N parallel wrong codes
//! can never get more than `maxAttempts` checks.
use super::expire::expire;
use super::{OtpError, OtpResult, OtpService};
use crate::domain::code::normalize_input;
use crate::domain::destination::Destination;
use crate::domain::timeline::OtpEvent;
use crate::domain::{Otp, OtpSid, OtpStatus};
use crate::server::crypto;
use crate::server::db::otps::changes::{Move, OtpChanges, Selection};
use crate::server::db::otps::{self as store};
use crate::server::services::AccountScope;

/// Which OTP(s) a code is for.
#[derive(Debug, Clone)]
pub enum VerifyTarget {
    /// One OTP, by its requestID as the caller gave it.
    Request(String),
    /// Every active OTP of this service and destination.
    Destination {
        service: String,
        destination: Destination,
    },
}

#[derive(Debug, Clone)]
pub struct VerifyCommand {
    pub target: VerifyTarget,
    /// What the user typed.
    pub code: String,
}

/// Checks the code; answers the verified OTP. Runs to the end even when the caller goes away
/// (a client that times out while the database is busy): a wrong code compared is a wrong code
/// counted.
pub async fn verify(svc: &OtpService, scope: &AccountScope, cmd: VerifyCommand) -> OtpResult<Otp> {
    let (svc, scope) = (svc.clone(), scope.clone());
    let verified = tokio::spawn(async move { verify_now(&svc, &scope, cmd).await })
        .await
        .map_err(|e| OtpError::Internal(anyhow::anyhow!("verify stopped: {e}")))?;
    crate::server::metrics::otp_verification(match &verified {
        Ok(_) => "verified",
        Err(OtpError::WrongCode { .. }) => "wrong_code",
        Err(OtpError::Final(OtpStatus::Verified)) => "already_verified",
        Err(OtpError::Final(status)) => status.as_str(),
        Err(OtpError::NotFound) => "not_found",
        Err(OtpError::NoActiveOtp) => "no_active_otp",
        Err(OtpError::Invalid { .. }) => "invalid",
        Err(OtpError::Internal(_)) => "internal",
        Err(_) => "other",
    });
    verified
}

async fn verify_now(svc: &OtpService, scope: &AccountScope, cmd: VerifyCommand) -> OtpResult<Otp> {
    let code = normalize_input(&cmd.code);
    match cmd.target {
        VerifyTarget::Request(request_id) => {
            let otp = load(svc, scope, &request_id).await?;
            verify_one(svc, otp, &code).await
        }
        VerifyTarget::Destination {
            service,
            destination,
        } => verify_by_destination(svc, scope, &service, &destination, &code).await,
    }
}

/// The OTP `request_id` of the scope's account; anything else (another account, a malformed
/// id) is the same "not found".
pub async fn load(svc: &OtpService, scope: &AccountScope, request_id: &str) -> OtpResult<Otp> {
    let sid = OtpSid::parse(request_id.trim()).map_err(|_| OtpError::NotFound)?;
    store::find(svc.db(), scope.sid(), &sid)
        .await?
        .ok_or(OtpError::NotFound)
}

async fn verify_one(svc: &OtpService, otp: Otp, code: &str) -> OtpResult<Otp> {
    if otp.status.is_final() {
        return Err(OtpError::Final(otp.status));
    }
    let now = svc.now();
    if now >= otp.expires_at {
        expire(svc, &otp, now).await?;
        return Err(OtpError::Final(OtpStatus::Expired));
    }
    if crypto::code_matches(svc.code_key(), otp.sid.as_str(), code, &otp.code_hash.0) {
        return mark_verified(svc, otp).await;
    }
    match count_wrong(svc, &otp, now).await? {
        Counted::Wrong { attempts_left } => Err(OtpError::WrongCode {
            request_id: otp.sid,
            attempts_left,
        }),
        Counted::Locked => Err(OtpError::Final(OtpStatus::MaxAttempts)),
        Counted::NotActive(status) => Err(OtpError::Final(status)),
    }
}

/// A wrong code, as counted.
enum Counted {
    Wrong {
        attempts_left: i64,
    },
    /// It used the last attempt: the OTP is locked.
    Locked,
    /// Not counted: the OTP had left the active states meanwhile (now in this one).
    NotActive(OtpStatus),
}

/// Counts one wrong code atomically; the one that uses the last attempt locks the OTP.
async fn count_wrong(svc: &OtpService, otp: &Otp, now: i64) -> OtpResult<Counted> {
    match store::count_wrong_code(svc.db(), &otp.sid, now).await? {
        Some((_, true)) => Ok(Counted::Locked),
        Some((used, false)) => Ok(Counted::Wrong {
            attempts_left: (otp.max_attempts - used).max(0),
        }),
        None => {
            let current = store::get(svc.db(), &otp.sid)
                .await?
                .ok_or(OtpError::NotFound)?;
            // Active but refused: it is past its expiry.
            if current.status.is_active() {
                expire(svc, &current, now).await?;
                return Ok(Counted::NotActive(OtpStatus::Expired));
            }
            Ok(Counted::NotActive(current.status))
        }
    }
}

/// Marks the OTP verified (if still active and unexpired) and supersedes the other active OTPs
/// of the same service and destination.
async fn mark_verified(svc: &OtpService, mut otp: Otp) -> OtpResult<Otp> {
    let now = svc.now();
    // Everything below happens only if the OTP is still active and unexpired when the changes
    // run, so a lost race changes nothing.
    let mut changes = OtpChanges::new();
    // The other active OTPs of this service and destination are superseded — exactly when
    // this one is verified.
    changes
        .apply(
            Selection::same_destination(&otp).besides_verifiable(&otp.sid, now),
            Move::Supersede,
            now,
        )
        .event(OtpEvent::Superseded {
            by: otp.sid.clone(),
        })
        .push();
    let verified = changes
        .apply(Selection::one(&otp.sid).unexpired(now), Move::Verify, now)
        .event(OtpEvent::Verified)
        .callback(otp.has_callback())
        .push();
    let committed = changes.commit(svc.db()).await?;
    if committed.moved(verified) != 1 {
        // Lost a race (expired, canceled or locked meanwhile): report what it is now.
        let current = store::get(svc.db(), &otp.sid)
            .await?
            .ok_or(OtpError::NotFound)?;
        if current.status.is_active() {
            expire(svc, &current, now).await?;
            return Err(OtpError::Final(OtpStatus::Expired));
        }
        return Err(OtpError::Final(current.status));
    }
    otp.status = OtpStatus::Verified;
    otp.verified_at = Some(now);
    otp.date_updated = now;
    Ok(otp)
}

/// Verification by service + destination: a match on any active OTP verifies it; a wrong code
/// costs one attempt on each of them.
async fn verify_by_destination(
    svc: &OtpService,
    scope: &AccountScope,
    service: &str,
    destination: &Destination,
    code: &str,
) -> OtpResult<Otp> {
    let now = svc.now();
    let candidates =
        store::active_for_destination(svc.db(), scope.sid(), service, destination).await?;
    let (live, overdue): (Vec<Otp>, Vec<Otp>) =
        candidates.into_iter().partition(|o| o.expires_at > now);
    for o in &overdue {
        expire(svc, o, now).await?;
    }
    if live.is_empty() {
        if !overdue.is_empty() {
            return Err(OtpError::Final(OtpStatus::Expired));
        }
        return Err(OtpError::NoActiveOtp);
    }
    // Compare against every candidate (no early exit), then act.
    let matched = live.iter().fold(None, |found, o| {
        let ok = crypto::code_matches(svc.code_key(), o.sid.as_str(), code, &o.code_hash.0);
        found.or(ok.then(|| o.clone()))
    });
    if let Some(otp) = matched {
        return mark_verified(svc, otp).await;
    }
    let mut best: Option<(i64, OtpSid)> = None;
    let mut all_locked = true;
    for o in &live {
        match count_wrong(svc, o, now).await? {
            Counted::Wrong { attempts_left } => {
                all_locked = false;
                if best.as_ref().is_none_or(|(l, _)| attempts_left > *l) {
                    best = Some((attempts_left, o.sid.clone()));
                }
            }
            Counted::Locked | Counted::NotActive(_) => {}
        }
    }
    match best {
        Some((attempts_left, request_id)) => Err(OtpError::WrongCode {
            request_id,
            attempts_left,
        }),
        None if all_locked => Err(OtpError::Final(OtpStatus::MaxAttempts)),
        None => Err(OtpError::NoActiveOtp),
    }
}
