//! Delivery attempts through real providers: recorded as `sending` before the provider is
//! called (so a receipt that arrives first still finds it), then completed with the provider's
//! answer, and moved forward by delivery receipts.
use super::changes::OtpChanges;
use crate::args;
use crate::domain::{Channel, OtpSid};
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::db::script::Script;
use crate::server::db::Db;
use anyhow::Context;

/// An attempt being made (or made) through a configured provider.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub otp_sid: OtpSid,
    pub step: usize,
    pub channel: Channel,
    /// The provider's name as the SDR shows it.
    pub provider: String,
    /// Our provider sid (`PR…`), when it is a configured one.
    pub provider_ref: Option<String>,
    pub provider_kind: String,
    /// The provider's own id of the message or call, once it answered.
    pub provider_sid: Option<String>,
    /// `sending`, `sent`, `delivered`, `failed`, `undelivered` or `interrupted` (its worker
    /// stopped during the call).
    pub status: String,
    /// The hash of the token in the URLs given to the provider.
    pub delivery_key: String,
}

/// Records the attempt as `sending`, in a commit of its own, before the provider is called.
/// An attempt of the same OTP, step and provider still `sending` belongs to a worker that
/// stopped during its call (the job's lease ran out; only one worker holds it): it is closed as
/// `interrupted`. The call is repeated under the same idempotency key.
pub async fn begin(db: &Db, a: &Attempt, now: Millis) -> anyhow::Result<()> {
    let mut s = Script::new();
    s.push(
        "UPDATE delivery_attempts SET status = 'interrupted', date_updated = $1, \
         error = 'the worker stopped during the call; repeated with the same idempotency key' \
         WHERE otp_sid = $2 AND step = $3 AND provider_ref = $4 AND status = 'sending'",
        args![
            now,
            a.otp_sid.as_str(),
            a.step as i32,
            a.provider_ref.as_deref()
        ],
    );
    s.push(
        "INSERT INTO delivery_attempts (otp_sid, channel, provider, provider_sid, status, error, date_created, \
         provider_ref, provider_kind, step, delivery_key, date_updated) \
         VALUES ($1, $2, $3, NULL, 'sending', NULL, $4, $5, $6, $7, $8, $4)",
        args![
            a.otp_sid.as_str(),
            a.channel.as_str(),
            a.provider.as_str(),
            now,
            a.provider_ref.as_deref(),
            a.provider_kind.as_str(),
            a.step as i32,
            a.delivery_key.as_str()
        ],
    );
    crate::server::db::commit_script(db, s).await?;
    Ok(())
}

impl OtpChanges {
    /// The provider's answer for an attempt still `sending`: its id and `status` (or the
    /// error). A receipt that got there first is not overwritten.
    pub fn complete_attempt(
        &mut self,
        delivery_key: &str,
        status: &str,
        provider_sid: Option<&str>,
        error: Option<&str>,
        now: Millis,
    ) {
        let mut s = Script::new();
        s.push(
            "UPDATE delivery_attempts SET status = $1, provider_sid = COALESCE(provider_sid, $2), error = $3, date_updated = $4 \
             WHERE delivery_key = $5 AND status = 'sending'",
            args![status, provider_sid, error, now, delivery_key],
        );
        // The provider's id also when a receipt set the status first.
        s.push(
            "UPDATE delivery_attempts SET provider_sid = COALESCE(provider_sid, $1) WHERE delivery_key = $2",
            args![provider_sid, delivery_key],
        );
        self.extend(s);
    }

    /// A receipt's status for an attempt, only if it is still `from` (so concurrent receipts
    /// cannot move it backwards); `provider_sid` fills in the provider's id if it was missing.
    pub fn receipt_status(
        &mut self,
        delivery_key: &str,
        from: &str,
        to: &str,
        provider_sid: Option<&str>,
        error: Option<&str>,
        now: Millis,
    ) -> usize {
        let mut s = Script::new();
        s.push(
            "UPDATE delivery_attempts SET status = $1, provider_sid = COALESCE(provider_sid, $2), \
             error = COALESCE($3, error), date_updated = $4 WHERE delivery_key = $5 AND status = $6",
            args![to, provider_sid, error, now, delivery_key, from],
        );
        self.extend(s);
        self.script.len() - 1
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    otp_sid: String,
    step: Option<i32>,
    channel: String,
    provider: String,
    provider_ref: Option<String>,
    provider_kind: Option<String>,
    provider_sid: Option<String>,
    status: String,
    delivery_key: Option<String>,
}

const COLUMNS: &str =
    "otp_sid, step, channel, provider, provider_ref, provider_kind, provider_sid, status, delivery_key";

fn attempt(r: Row) -> anyhow::Result<Attempt> {
    Ok(Attempt {
        otp_sid: OtpSid::parse(&r.otp_sid).context("stored attempt OTP")?,
        step: r.step.unwrap_or(0).max(0) as usize,
        channel: Channel::parse(&r.channel).context("stored attempt channel")?,
        provider: r.provider,
        provider_ref: r.provider_ref,
        provider_kind: r.provider_kind.unwrap_or_default(),
        provider_sid: r.provider_sid,
        status: r.status,
        delivery_key: r.delivery_key.unwrap_or_default(),
    })
}

/// The attempt whose URLs carried the token with this hash.
pub async fn by_key(db: &Db, delivery_key: &str) -> anyhow::Result<Option<Attempt>> {
    let sql = format!("SELECT {COLUMNS} FROM delivery_attempts WHERE delivery_key = $1");
    let row = on_db!(db, pool => sqlx::query_as::<_, Row>(&sql).bind(delivery_key).fetch_optional(pool).await)?;
    row.map(attempt).transpose()
}

/// The attempt a provider knows by its own id.
pub async fn by_provider_sid(
    db: &Db,
    provider_ref: &str,
    provider_sid: &str,
) -> anyhow::Result<Option<Attempt>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM delivery_attempts WHERE provider_ref = $1 AND provider_sid = $2 ORDER BY id DESC LIMIT 1"
    );
    let row = on_db!(db, pool => sqlx::query_as::<_, Row>(&sql).bind(provider_ref).bind(provider_sid).fetch_optional(pool).await)?;
    row.map(attempt).transpose()
}
