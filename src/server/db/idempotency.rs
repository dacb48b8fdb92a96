//! `Idempotency-Key`s of sends: the key, a hash of the request it came with and the answer
//! given, kept 24 hours. The answer is stored as JSON in the shape the API answered it, so
//! records written by earlier versions replay the same way.
use crate::args;
use crate::domain::otp::SendReceipt;
use crate::domain::{AccountSid, Channel, OtpSid};
use crate::on_db;
use crate::server::clock::{parse_rfc3339, rfc3339, Millis};
use crate::server::db::script::Script;
use crate::server::db::Db;
use anyhow::Context;
use serde::{Deserialize, Serialize};

/// A key as stored.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub request_hash: String,
    pub receipt: SendReceipt,
    pub date_created: Millis,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Stored {
    #[serde(rename = "requestID")]
    request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attempts_left: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<i64>,
    /// The prefix the fraud guard blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
}

/// The HTTP-like status column: 200 accepted, 429 blocked.
fn encode(r: &SendReceipt) -> (i32, String) {
    let stored = match r {
        SendReceipt::Accepted {
            request_id,
            channel,
            to,
            email_to,
            expires_at,
            attempts_left,
        } => Stored {
            request_id: request_id.to_string(),
            channel: Some(channel.as_str().into()),
            to: to.clone(),
            email_to: email_to.clone(),
            expires_at: Some(rfc3339(*expires_at)),
            attempts_left: Some(*attempts_left),
            ..Stored::default()
        },
        SendReceipt::Blocked {
            request_id,
            limit,
            bucket,
            retry_after,
        } => Stored {
            request_id: request_id.to_string(),
            limit: Some(limit.clone()),
            bucket: Some(bucket.clone()),
            retry_after: Some(*retry_after),
            ..Stored::default()
        },
        SendReceipt::FraudBlocked {
            request_id,
            prefix,
            retry_after,
        } => Stored {
            request_id: request_id.to_string(),
            prefix: Some(prefix.clone()),
            retry_after: Some(*retry_after),
            ..Stored::default()
        },
    };
    let status = if matches!(r, SendReceipt::Accepted { .. }) {
        200
    } else {
        429
    };
    (
        status,
        serde_json::to_string(&stored).expect("plain fields serialize"),
    )
}

fn decode(status: i32, text: &str) -> anyhow::Result<SendReceipt> {
    let s: Stored = serde_json::from_str(text).context("stored idempotent answer")?;
    let request_id = OtpSid::parse(&s.request_id).context("stored requestID")?;
    Ok(if let (429, Some(prefix)) = (status, &s.prefix) {
        SendReceipt::FraudBlocked {
            request_id,
            prefix: prefix.clone(),
            retry_after: s.retry_after.unwrap_or_default(),
        }
    } else if status == 429 {
        SendReceipt::Blocked {
            request_id,
            limit: s.limit.unwrap_or_default(),
            bucket: s.bucket.unwrap_or_default(),
            retry_after: s.retry_after.unwrap_or_default(),
        }
    } else {
        SendReceipt::Accepted {
            request_id,
            channel: s
                .channel
                .as_deref()
                .and_then(Channel::parse)
                .context("stored channel")?,
            to: s.to,
            email_to: s.email_to,
            expires_at: s
                .expires_at
                .as_deref()
                .and_then(parse_rfc3339)
                .context("stored expiresAt")?,
            attempts_left: s.attempts_left.unwrap_or_default(),
        }
    })
}

pub async fn find(db: &Db, account: &AccountSid, key: &str) -> anyhow::Result<Option<StoredKey>> {
    let row: Option<(String, i32, String, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT request_hash, status, response, date_created FROM idempotency_keys WHERE account_sid = $1 AND idem_key = $2")
        .bind(account.as_str()).bind(key).fetch_optional(pool).await)?;
    row.map(|(request_hash, status, response, date_created)| {
        Ok(StoredKey {
            request_hash,
            receipt: decode(status, &response)?,
            date_created,
        })
    })
    .transpose()
}

/// Forgets the key if it was stored at or before `cutoff`.
pub async fn forget_if_older(
    db: &Db,
    account: &AccountSid,
    key: &str,
    cutoff: Millis,
) -> anyhow::Result<()> {
    on_db!(db, pool => sqlx::query("DELETE FROM idempotency_keys WHERE account_sid = $1 AND idem_key = $2 AND date_created <= $3")
        .bind(account.as_str()).bind(key).bind(cutoff).execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// The INSERT that claims a key (no row changed: another request holds it).
pub(crate) fn claim(
    account: &AccountSid,
    key: &str,
    request_hash: &str,
    receipt: &SendReceipt,
    at: Millis,
) -> Script {
    let (status, text) = encode(receipt);
    let mut s = Script::new();
    s.push(
        "INSERT INTO idempotency_keys (account_sid, idem_key, request_hash, status, response, date_created) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_sid, idem_key) DO NOTHING",
        args![account.as_str(), key, request_hash, status, text, at],
    );
    s
}

/// Replaces the answer kept for a key claimed in the same transaction.
pub(crate) fn answer(account: &AccountSid, key: &str, receipt: &SendReceipt) -> Script {
    let (status, text) = encode(receipt);
    let mut s = Script::new();
    s.push(
        "UPDATE idempotency_keys SET status = $1, response = $2 WHERE account_sid = $3 AND idem_key = $4",
        args![status, text, account.as_str(), key],
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_and_old_records_still_read() {
        let sid = OtpSid::parse(&format!("OTP{}", "b".repeat(32))).unwrap();
        let accepted = SendReceipt::Accepted {
            request_id: sid.clone(),
            channel: Channel::Sms,
            to: Some("+14155550100".into()),
            email_to: None,
            expires_at: 1_700_000_000_000,
            attempts_left: 5,
        };
        let (status, text) = encode(&accepted);
        assert_eq!(decode(status, &text).unwrap(), accepted);
        // What versions before the typed core stored: the whole answer body.
        let old = format!(
            r#"{{"code":200,"message":"OK","requestID":"{sid}","status":"pending","channel":"sms","expiresAt":"2023-11-14T22:13:20Z","attemptsLeft":5,"to":"+14155550100"}}"#
        );
        assert_eq!(decode(200, &old).unwrap(), accepted);
        let old_blocked = format!(
            r#"{{"code":429,"errorCode":7020,"message":"m","moreInfo":"/2fa/errors#7020","limit":"per_ip","bucket":"minute","retryAfter":12,"requestID":"{sid}"}}"#
        );
        assert_eq!(
            decode(429, &old_blocked).unwrap(),
            SendReceipt::Blocked {
                request_id: sid,
                limit: "per_ip".into(),
                bucket: "minute".into(),
                retry_after: 12
            }
        );
    }
}
