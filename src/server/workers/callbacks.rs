//! Status callbacks: a signed JSON POST for every status change, retried with back-off through
//! the same durable queue (6 tries over about 15 minutes); every try is in the SDR timeline.
use crate::domain::timeline::{CallbackAnswer, OtpEvent};
use crate::domain::OtpStatus;
use crate::server::clock::rfc3339;
use crate::server::db::jobs::{self, Job};
use crate::server::db::otps::changes::OtpChanges;
use crate::server::db::script::Script;
use crate::server::state::AppState;
use serde::Serialize;

/// Callbacks of one account in flight at once, in this process: an account whose receiver is
/// slow waits for its own, never takes every callback worker.
pub const PER_ACCOUNT: usize = 4;
/// How long one callback may take (connecting included).
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Callbacks in flight per account.
#[derive(Default)]
pub struct Slots(std::sync::Mutex<std::collections::HashMap<String, usize>>);

/// One callback in flight; gives its slot back when dropped.
pub struct Slot<'a> {
    slots: &'a Slots,
    account: String,
}

impl Slots {
    pub fn take(&self, account: &str, max: usize) -> Option<Slot<'_>> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(account.to_owned()).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: self,
            account: account.to_owned(),
        })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut map = self.slots.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.account) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.account);
            }
        }
    }
}

/// Waits before try 2, 3, … (seconds): 30 s, 1 min, 2 min, 4 min, 8 min.
const RETRY_SCHEDULE: [i64; 5] = [30, 60, 120, 240, 480];
pub const SIGNATURE_HEADER: &str = "X-Smart2FA-Signature";

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    use hmac::{Mac, SimpleHmac};
    let mut mac = <SimpleHmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The body of a status callback, as the API documents it (keys in alphabetical order, as
/// earlier versions sent them).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallbackBody<'a> {
    account_sid: &'a str,
    attempts_left: i64,
    channel: &'a str,
    country_code: Option<&'a str>,
    email_to: Option<&'a str>,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    service: &'a str,
    status: &'a str,
    timestamp: String,
    to: Option<&'a str>,
}

pub async fn post(state: &AppState, job: &Job) -> anyhow::Result<()> {
    let now = state.clock().now_ms();
    let Some(otp) = crate::server::db::otps::get(state.db(), &job.otp_sid).await? else {
        return jobs::complete(state.db(), job.id, now, Some("OTP not found")).await;
    };
    let Some(url) = otp.status_callback.clone() else {
        return jobs::complete(state.db(), job.id, now, Some("no callback URL")).await;
    };
    let Some(_slot) = state
        .callback_slots()
        .take(otp.account_sid.as_str(), PER_ACCOUNT)
    else {
        return jobs::postpone(state.db(), job.id, now + 1000).await;
    };
    let changed_at = job.created_at.unwrap_or(otp.date_updated);
    let status = job.callback_status.unwrap_or(otp.status);
    let attempts_left = if status == OtpStatus::MaxAttempts {
        0
    } else {
        (otp.max_attempts - otp.verify_attempts).max(0)
    };
    let body = serde_json::to_string(&CallbackBody {
        request_id: otp.sid.as_str(),
        account_sid: otp.account_sid.as_str(),
        service: &otp.service,
        status: status.as_str(),
        channel: otp.channel.as_str(),
        to: otp.to.as_deref(),
        email_to: otp.email_to.as_deref(),
        country_code: otp.country_code.as_deref(),
        attempts_left,
        timestamp: rfc3339(changed_at),
    })?;
    let secret = crate::server::services::accounts::callback_secret(
        state.db(),
        state.otp().code_key(),
        otp.account_sid.as_str(),
    )
    .await?;
    let sig = signature(&secret, now / 1000, &body);
    // Checked again when connecting: the name may resolve elsewhere now (the client's resolver
    // also drops internal addresses).
    let (answer, ok) = if state.outbound().check_url(&url).await.is_err() {
        (CallbackAnswer::Refused, false)
    } else {
        let result = state
            .outbound()
            .client()
            .post(&url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, sig)
            .timeout(TIMEOUT)
            .body(body)
            .send()
            .await;
        match &result {
            Ok(res) => (
                CallbackAnswer::Status(res.status().as_u16()),
                res.status().is_success(),
            ),
            Err(e) if e.is_timeout() => (CallbackAnswer::Timeout, false),
            Err(_) => (CallbackAnswer::ConnectionFailed, false),
        }
    };
    crate::server::metrics::callback(match answer {
        CallbackAnswer::Status(_) if ok => "accepted",
        CallbackAnswer::Status(_) => "rejected",
        CallbackAnswer::Timeout => "timeout",
        CallbackAnswer::ConnectionFailed => "connection_failed",
        CallbackAnswer::Refused => "refused",
    });
    let done = ok || job.tries as usize > RETRY_SCHEDULE.len();
    let next_run = (!done).then(|| {
        now + RETRY_SCHEDULE[(job.tries as usize - 1).min(RETRY_SCHEDULE.len() - 1)] * 1000
    });
    let answer_text = match answer {
        CallbackAnswer::Status(code) => code.to_string(),
        CallbackAnswer::Timeout => "\"timeout\"".into(),
        CallbackAnswer::ConnectionFailed => "\"connection failed\"".into(),
        CallbackAnswer::Refused => "\"refused: internal address\"".into(),
    };
    let mut changes = OtpChanges::new();
    changes.event(
        &otp.sid,
        now,
        &OtpEvent::Callback {
            status: status.as_str().to_owned(),
            url,
            answer,
            try_no: job.tries,
            will_retry: next_run.is_some(),
        },
    );
    let mut s = Script::new();
    match next_run {
        None => jobs::done(&mut s, job.id, now, (!ok).then_some(answer_text.as_str())),
        Some(at) => jobs::retry_later(&mut s, job.id, at, &answer_text),
    }
    changes.extend(s);
    changes.commit(state.db()).await?;
    if !ok {
        tracing::info!(request_id = %otp.sid, answer = %answer_text, try_no = job.tries, "status callback not accepted");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_matches_the_documented_scheme() {
        // HMAC-SHA256("secret", "1700000000.{}") computed independently.
        let s = super::signature("secret", 1_700_000_000, "{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(s, super::signature("other", 1_700_000_000, "{}"));
    }
}
