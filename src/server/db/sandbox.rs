//! The sandbox outbox: messages the sandbox provider "delivered", readable by tests and
//! integrators. A message is written with its delivery attempt, so it exists exactly when the
//! attempt says delivered; (requestID, step) is unique, so a retried delivery never repeats it.
use crate::args;
use crate::domain::delivery::OutboxMessage;
use crate::domain::{AccountSid, Channel, OtpSid};
use crate::server::clock::Millis;
use crate::server::db::script::{Arg, Script};
use crate::server::db::Db;
use anyhow::Context;

/// How long outbox messages are kept (a week).
pub const KEEP_MS: Millis = 7 * 24 * 60 * 60 * 1000;

/// Deletes outbox messages older than `before`; answers how many.
pub async fn prune(db: &Db, before: Millis) -> anyhow::Result<u64> {
    let mut s = Script::new();
    s.push(
        "DELETE FROM sandbox_messages WHERE date_created < $1",
        args![before],
    );
    Ok(crate::server::db::commit_script(db, s)
        .await?
        .first()
        .copied()
        .unwrap_or(0))
}

pub(crate) fn record(s: &mut Script, m: &OutboxMessage) {
    s.push(
        "INSERT INTO sandbox_messages (account_sid, otp_sid, step, channel, to_number, email_to, from_sender, subject, text, date_created, code) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (otp_sid, step) DO NOTHING",
        args![
            m.account_sid.as_str(),
            m.request_id.as_str(),
            m.step as i32,
            m.channel.as_str(),
            m.to.as_deref(),
            m.email_to.as_deref(),
            m.from.as_deref(),
            m.subject.as_deref(),
            m.text.as_str(),
            m.date_created,
            m.code_shown.as_deref()
        ],
    );
}

/// Which outbox messages to list.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub request_id: Option<String>,
    pub to: Option<String>,
    pub email_to: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    account_sid: String,
    otp_sid: String,
    step: i32,
    channel: String,
    to_number: Option<String>,
    email_to: Option<String>,
    from_sender: Option<String>,
    subject: Option<String>,
    text: String,
    date_created: Millis,
}

/// One page of the account's outbox, newest first, and how many match (counted up to
/// [`COUNT_CAP`](super::COUNT_CAP); the flag says the total is a floor).
pub async fn list(
    db: &Db,
    account: &AccountSid,
    filter: &OutboxFilter,
    limit: i64,
    offset: i64,
) -> anyhow::Result<(Vec<OutboxMessage>, i64, bool)> {
    let mut clauses = vec!["account_sid = $1".to_owned()];
    let mut args = vec![Arg::from(account.as_str())];
    for (column, value) in [
        ("otp_sid", &filter.request_id),
        ("to_number", &filter.to),
        ("email_to", &filter.email_to),
    ] {
        if let Some(v) = value {
            args.push(Arg::from(v.as_str()));
            clauses.push(format!("{column} = ${}", args.len()));
        }
    }
    let where_sql = clauses.join(" AND ");
    let n = args.len();
    let list_sql = format!(
        "SELECT account_sid, otp_sid, step, channel, to_number, email_to, from_sender, subject, text, date_created \
         FROM sandbox_messages WHERE {where_sql} ORDER BY id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count_sql = super::capped_count_sql(&format!(
        "sandbox_messages WHERE {where_sql} ORDER BY id DESC"
    ));
    let (rows, total, capped) =
        super::page_of::<Row>(db, &list_sql, &count_sql, &args, limit, offset).await?;
    let messages = rows
        .into_iter()
        .map(|r| {
            Ok(OutboxMessage {
                account_sid: AccountSid::parse(&r.account_sid).context("stored account")?,
                request_id: OtpSid::parse(&r.otp_sid).context("stored requestID")?,
                step: r.step.max(0) as usize,
                channel: Channel::parse(&r.channel).context("stored channel")?,
                to: r.to_number,
                email_to: r.email_to,
                from: r.from_sender,
                subject: r.subject,
                text: r.text,
                code_shown: None,
                date_created: r.date_created,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((messages, total, capped))
}
