//! The OTP store: `otps` rows and their timelines, delivery attempts and sealed codes. Rows stay
//! in here; the use cases get [`Otp`]s. Every status change is a [`Transition`] applied by
//! [`changes::OtpChanges`]; every read the use cases need is a named function below.
pub mod attempts;
pub mod changes;
pub mod search;
pub mod send;

use crate::domain::code::CodeType;
use crate::domain::otp::{CodeHash, Millis, Voice};
use crate::domain::{AccountSid, Channel, Otp, OtpSid, OtpStatus, Transition, Workflow};
use crate::on_db;
use crate::server::db::Db;
use anyhow::Context;

pub use changes::{OtpChanges, Selection};

/// `status IN ('pending', 'sent', …)`: the states a transition starts from, as SQL. The text
/// is exactly the condition of the partial indexes over active OTPs (migration 0007).
pub(crate) fn status_in(states: &[OtpStatus]) -> String {
    let list = states
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    format!("status IN ({list})")
}

/// Still verifiable: the states a verify starts from.
pub(crate) fn active() -> String {
    status_in(Transition::Verify.from())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct OtpRow {
    sid: String,
    account_sid: String,
    service: String,
    reference: Option<String>,
    channel: String,
    workflow: String,
    workflow_index: i32,
    workflow_timeout: i32,
    to_number: Option<String>,
    from_sender: Option<String>,
    email_to: Option<String>,
    email_from: Option<String>,
    subject: Option<String>,
    body: Option<String>,
    country_code: Option<String>,
    language: String,
    voice: String,
    repeat_count: i32,
    code_hash: String,
    code_length: i32,
    code_type: String,
    expires_at: Millis,
    max_attempts: i32,
    verify_attempts: i32,
    status: String,
    cancel_reason: Option<String>,
    status_callback: Option<String>,
    limits: Option<String>,
    price: i64,
    price_unit: String,
    date_created: Millis,
    date_updated: Millis,
    sent_at: Option<Millis>,
    delivered_at: Option<Millis>,
    verified_at: Option<Millis>,
    canceled_at: Option<Millis>,
}

pub(crate) const COLUMNS: &str = "sid, account_sid, service, reference, channel, workflow, workflow_index, workflow_timeout, \
    to_number, from_sender, email_to, email_from, subject, body, country_code, language, voice, repeat_count, \
    code_hash, code_length, code_type, expires_at, max_attempts, verify_attempts, status, cancel_reason, \
    status_callback, limits, price, price_unit, date_created, date_updated, sent_at, delivered_at, verified_at, canceled_at";

impl TryFrom<OtpRow> for Otp {
    type Error = anyhow::Error;

    fn try_from(r: OtpRow) -> anyhow::Result<Otp> {
        let bad = |what: &str| format!("OTP {}: stored {what}", r.sid);
        let limits = match r.limits.as_deref() {
            None => Vec::new(),
            Some(text) => serde_json::from_str::<std::collections::BTreeMap<String, String>>(text)
                .with_context(|| bad("limits"))?
                .into_iter()
                .collect(),
        };
        Ok(Otp {
            sid: OtpSid::parse(&r.sid).with_context(|| bad("sid"))?,
            account_sid: AccountSid::parse(&r.account_sid).with_context(|| bad("account"))?,
            channel: Channel::parse(&r.channel).with_context(|| bad("channel"))?,
            workflow: Workflow::from_text(&r.workflow).with_context(|| bad("workflow"))?,
            status: OtpStatus::parse(&r.status).with_context(|| bad("status"))?,
            voice: Voice::parse(&r.voice).unwrap_or_default(),
            code_type: CodeType::parse(&r.code_type).unwrap_or_default(),
            step: r.workflow_index.max(0) as usize,
            workflow_timeout_secs: i64::from(r.workflow_timeout),
            repeat: i64::from(r.repeat_count),
            code_length: i64::from(r.code_length),
            max_attempts: i64::from(r.max_attempts),
            verify_attempts: i64::from(r.verify_attempts),
            code_hash: CodeHash(r.code_hash),
            service: r.service,
            reference: r.reference,
            to: r.to_number,
            from: r.from_sender,
            email_to: r.email_to,
            email_from: r.email_from,
            subject: r.subject,
            body: r.body,
            country_code: r.country_code,
            language: r.language,
            expires_at: r.expires_at,
            cancel_reason: r.cancel_reason,
            status_callback: r.status_callback,
            limits,
            price_micros: r.price,
            price_unit: r.price_unit,
            date_created: r.date_created,
            date_updated: r.date_updated,
            sent_at: r.sent_at,
            delivered_at: r.delivered_at,
            verified_at: r.verified_at,
            canceled_at: r.canceled_at,
        })
    }
}

pub(crate) fn to_otps(rows: Vec<OtpRow>) -> anyhow::Result<Vec<Otp>> {
    rows.into_iter().map(Otp::try_from).collect()
}

/// The OTP `sid` of `account`, if it is one of that account's.
pub async fn find(db: &Db, account: &AccountSid, sid: &OtpSid) -> anyhow::Result<Option<Otp>> {
    let sql = format!("SELECT {COLUMNS} FROM otps WHERE sid = $1 AND account_sid = $2");
    let row = on_db!(db, pool => sqlx::query_as::<_, OtpRow>(&sql).bind(sid.as_str()).bind(account.as_str()).fetch_optional(pool).await)?;
    row.map(Otp::try_from).transpose()
}

/// The OTP `sid`, whichever account it belongs to.
pub async fn get(db: &Db, sid: &OtpSid) -> anyhow::Result<Option<Otp>> {
    let sql = format!("SELECT {COLUMNS} FROM otps WHERE sid = $1");
    let row = on_db!(db, pool => sqlx::query_as::<_, OtpRow>(&sql).bind(sid.as_str()).fetch_optional(pool).await)?;
    row.map(Otp::try_from).transpose()
}

/// The OTP and its sealed code (gone once the OTP is final), in one read: what a delivery needs.
pub async fn get_with_sealed_code(
    db: &Db,
    sid: &OtpSid,
) -> anyhow::Result<Option<(Otp, Option<String>)>> {
    #[derive(sqlx::FromRow)]
    struct Loaded {
        #[sqlx(flatten)]
        row: OtpRow,
        sealed: Option<String>,
    }
    let sql = format!(
        "SELECT {COLUMNS}, (SELECT sealed FROM otp_codes WHERE otp_sid = $1) AS sealed FROM otps WHERE sid = $1"
    );
    let loaded = on_db!(db, pool => sqlx::query_as::<_, Loaded>(&sql).bind(sid.as_str()).fetch_optional(pool).await)?;
    loaded
        .map(|l| Ok((Otp::try_from(l.row)?, l.sealed)))
        .transpose()
}

/// The active OTPs of one account, service and destination, newest first (at most 20).
pub async fn active_for_destination(
    db: &Db,
    account: &AccountSid,
    service: &str,
    destination: &crate::domain::destination::Destination,
) -> anyhow::Result<Vec<Otp>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM otps WHERE account_sid = $1 AND service = $2 AND {} = $3 AND {} \
         ORDER BY date_created DESC LIMIT 20",
        destination_column(destination),
        active()
    );
    let rows = on_db!(db, pool => sqlx::query_as::<_, OtpRow>(&sql)
        .bind(account.as_str()).bind(service).bind(destination.as_str()).fetch_all(pool).await)?;
    to_otps(rows)
}

/// When the newest sends to a destination were accepted (not blocked), newest first: at most
/// `max` of them, since `since`. Destination protection counts these.
pub async fn recent_sends(
    db: &Db,
    account: &AccountSid,
    destination: &crate::domain::destination::Destination,
    since: Millis,
    max: i64,
) -> anyhow::Result<Vec<Millis>> {
    let sql = format!(
        "SELECT date_created FROM otps WHERE account_sid = $1 AND {} = $2 AND date_created > $3 \
         AND status <> '{}' ORDER BY date_created DESC LIMIT $4",
        destination_column(destination),
        OtpStatus::Blocked.as_str()
    );
    Ok(on_db!(db, pool => sqlx::query_scalar(&sql)
        .bind(account.as_str()).bind(destination.as_str()).bind(since).bind(max)
        .fetch_all(pool).await)?)
}

/// The active OTPs past their expiry, oldest expiry first (at most `max`).
pub async fn overdue(db: &Db, now: Millis, max: i64) -> anyhow::Result<Vec<OtpSid>> {
    let sql = format!(
        "SELECT sid FROM otps WHERE {} AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
        active()
    );
    let sids: Vec<String> =
        on_db!(db, pool => sqlx::query_scalar(&sql).bind(now).bind(max).fetch_all(pool).await)?;
    sids.iter()
        .map(|s| OtpSid::parse(s).context("stored OTP sid"))
        .collect()
}

pub(crate) fn destination_column(d: &crate::domain::destination::Destination) -> &'static str {
    if d.is_phone() {
        "to_number"
    } else {
        "email_to"
    }
}

/// One delivery attempt of an OTP, as its record shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub channel: String,
    pub provider: String,
    pub provider_sid: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub date_created: Millis,
}

/// One timeline event as stored: its type and its details (a JSON object).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub at: Millis,
    pub kind: String,
    pub detail: serde_json::Value,
}

/// An OTP's delivery attempts and timeline, oldest first.
pub async fn history(
    db: &Db,
    sid: &OtpSid,
) -> anyhow::Result<(Vec<AttemptRecord>, Vec<EventRecord>)> {
    type Attempt = (String, String, Option<String>, String, Option<String>, i64);
    let (attempts, events): (Vec<Attempt>, Vec<(i64, String, String)>) = on_db!(db, pool => {
        let a = sqlx::query_as(
            "SELECT channel, provider, provider_sid, status, error, date_created FROM delivery_attempts WHERE otp_sid = $1 ORDER BY id")
            .bind(sid.as_str()).fetch_all(pool).await?;
        let e = sqlx::query_as("SELECT at, type, detail FROM otp_events WHERE otp_sid = $1 ORDER BY id")
            .bind(sid.as_str()).fetch_all(pool).await?;
        (a, e)
    });
    Ok((
        attempts
            .into_iter()
            .map(
                |(channel, provider, provider_sid, status, error, date_created)| AttemptRecord {
                    channel,
                    provider,
                    provider_sid,
                    status,
                    error,
                    date_created,
                },
            )
            .collect(),
        events
            .into_iter()
            .map(|(at, kind, detail)| EventRecord {
                at,
                kind,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
    ))
}

/// Counts one wrong code of an active, unexpired OTP in one guarded change: the one that uses
/// the last attempt locks it ([`Transition::Lock`]); its timeline events and (when locked) its
/// status callback commit with it. Returns the attempts used and whether it locked, or `None`
/// when the OTP was no longer active and unexpired (nothing counted).
pub async fn count_wrong_code(
    db: &Db,
    sid: &OtpSid,
    now: Millis,
) -> anyhow::Result<Option<(i64, bool)>> {
    use crate::domain::timeline::OtpEvent;
    let locked = Transition::Lock
        .to()
        .map(OtpStatus::as_str)
        .unwrap_or("max_attempts");
    let sql = format!(
        "UPDATE otps SET verify_attempts = verify_attempts + 1, \
         status = CASE WHEN verify_attempts + 1 >= max_attempts THEN '{locked}' ELSE status END, \
         date_updated = $1 \
         WHERE sid = $2 AND {} AND verify_attempts < max_attempts AND expires_at > $1 \
         RETURNING verify_attempts, status, max_attempts",
        status_in(Transition::WrongCode.from())
    );
    let row: Option<(i32, String, i32)> = on_db!(db, pool => async {
        let mut tx = crate::server::db::BeginWrite::begin_write(pool).await?;
        let row: Option<(i32, String, i32)> = sqlx::query_as(&sql).bind(now).bind(sid.as_str()).fetch_optional(&mut *tx).await?;
        if let Some((n, status, max)) = &row {
            let mut events = vec![OtpEvent::VerifyFailed { attempts_left: i64::from((max - n).max(0)) }];
            if status == locked {
                events.push(OtpEvent::Locked { attempts: i64::from(*n) });
            }
            let mut s = crate::server::db::script::Script::new();
            for e in &events {
                changes::push_event(&mut s, sid.as_str(), now, e);
            }
            if status == locked {
                changes::push_callback(&mut s, sid.as_str(), now);
            }
            crate::server::db::script::RunScript::run(&mut *tx, &s).await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(row)
    }.await)?;
    Ok(row.map(|(n, status, _)| (i64::from(n), status == locked)))
}
