//! Status callbacks: a signed JSON POST for every status change, retried with back-off through
//! the same durable queue (6 tries over about 15 minutes); every try is in the SDR timeline.
use super::delivery::complete;
use crate::on_db;
use crate::server::clock::rfc3339;
use crate::server::db::otps::{JobRow, OtpRow};
use crate::server::services::otp::events::{self, insert_event};
use crate::server::state::AppState;
use serde_json::json;
use std::time::Duration;

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

fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("smart2fa/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client")
    })
}

pub async fn post(state: &AppState, job: &JobRow, row: &OtpRow) -> anyhow::Result<()> {
    let Some(url) = row.status_callback.clone() else {
        return complete(state, job.id, Some("no callback URL")).await;
    };
    let changed_at = job.created_at.unwrap_or(row.date_updated);
    let status = job.payload.clone().unwrap_or_else(|| row.status.clone());
    let attempts_left = if status == "max_attempts" {
        0
    } else {
        (row.max_attempts - row.verify_attempts).max(0)
    };
    let body = json!({
        "requestID": row.sid,
        "accountSid": row.account_sid,
        "service": row.service,
        "status": status,
        "channel": row.channel,
        "to": row.to_number,
        "emailTo": row.email_to,
        "countryCode": row.country_code,
        "attemptsLeft": attempts_left,
        "timestamp": rfc3339(changed_at),
    })
    .to_string();
    let now = state.clock().now_ms();
    let secret =
        crate::server::services::accounts::callback_secret(state.db(), &row.account_sid).await?;
    let sig = signature(&secret, now / 1000, &body);
    let result = client()
        .post(&url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, sig)
        .body(body)
        .send()
        .await;
    let (answer, ok) = match &result {
        Ok(res) => (json!(res.status().as_u16()), res.status().is_success()),
        Err(e) if e.is_timeout() => (json!("timeout"), false),
        Err(_) => (json!("connection failed"), false),
    };
    let done = ok || job.tries as usize > RETRY_SCHEDULE.len();
    let next_run = (!done).then(|| {
        now + RETRY_SCHEDULE[(job.tries as usize - 1).min(RETRY_SCHEDULE.len() - 1)] * 1000
    });
    let detail = json!({"status": status, "url": url, "answer": answer, "try": job.tries, "willRetry": next_run.is_some()});
    on_db!(state.db(), pool => async {
        let mut tx = crate::server::db::BeginWrite::begin_write(pool).await?;
        insert_event!(&row.sid, now, events::CALLBACK, detail).execute(&mut *tx).await?;
        match next_run {
            None => {
                sqlx::query("UPDATE jobs SET done_at = $1, last_error = $2 WHERE id = $3")
                    .bind(now).bind((!ok).then(|| answer.to_string())).bind(job.id).execute(&mut *tx).await?;
            }
            Some(at) => {
                sqlx::query("UPDATE jobs SET lease_owner = NULL, lease_until = NULL, run_at = $1, last_error = $2 WHERE id = $3")
                    .bind(at).bind(answer.to_string()).bind(job.id).execute(&mut *tx).await?;
            }
        }
        tx.commit().await
    }.await)?;
    if !ok {
        tracing::info!(request_id = %row.sid, answer = %answer, try_no = job.tries, "status callback not accepted");
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
