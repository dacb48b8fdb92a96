//! Account settings (`account_settings`): one row per account that set any; a NULL column is
//! not set (the parent's applies, else the built-in default).
use crate::args;
use crate::domain::code::CodeType;
use crate::domain::fraud::{FraudMode, SafeList};
use crate::domain::settings::{Countries, Defaults, DefaultsChange};
use crate::domain::{Channel, Workflow};
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::db::script::{Arg, Script};
use crate::server::db::Db;

/// What one account set itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    pub defaults: Defaults,
    pub voice_press_key: Option<bool>,
    pub countries_sms: Option<Countries>,
    pub countries_call: Option<Countries>,
    pub fraud_mode: Option<FraudMode>,
    pub fraud_safe_list: Option<SafeList>,
}

#[derive(sqlx::FromRow)]
struct Row {
    account_sid: String,
    voice_press_key: Option<i64>,
    code_length: Option<i64>,
    code_type: Option<String>,
    expiry_secs: Option<i64>,
    max_attempts: Option<i64>,
    per_10_minutes: Option<i64>,
    per_24_hours: Option<i64>,
    workflow: Option<String>,
    keep_old_otp_active: Option<i64>,
    language: Option<String>,
    status_callback: Option<String>,
    countries_sms: Option<String>,
    countries_call: Option<String>,
    fraud_mode: Option<String>,
    fraud_safe_list: Option<String>,
}

impl From<Row> for (String, Stored) {
    fn from(r: Row) -> Self {
        let stored = Stored {
            defaults: Defaults {
                code_length: r.code_length.map(|n| n as usize),
                code_type: r.code_type.as_deref().and_then(CodeType::parse),
                expiry_secs: r.expiry_secs,
                max_attempts: r.max_attempts,
                per_10_minutes: r.per_10_minutes,
                per_24_hours: r.per_24_hours,
                workflow: r.workflow.as_deref().and_then(Workflow::from_text),
                keep_old_otp_active: r.keep_old_otp_active.map(|v| v != 0),
                language: r.language,
                status_callback: r.status_callback,
            },
            voice_press_key: r.voice_press_key.map(|v| v != 0),
            countries_sms: r.countries_sms.as_deref().map(Countries::from_text),
            countries_call: r.countries_call.as_deref().map(Countries::from_text),
            fraud_mode: r.fraud_mode.as_deref().and_then(FraudMode::parse),
            fraud_safe_list: r.fraud_safe_list.as_deref().map(SafeList::from_text),
        };
        (r.account_sid, stored)
    }
}

/// What the given accounts set, by account (accounts that set nothing are missing).
pub async fn load(db: &Db, accounts: &[&str]) -> anyhow::Result<Vec<(String, Stored)>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let list = (1..=accounts.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT account_sid, CAST(voice_press_key AS BIGINT) AS voice_press_key, \
         CAST(code_length AS BIGINT) AS code_length, code_type, \
         CAST(expiry_secs AS BIGINT) AS expiry_secs, CAST(max_attempts AS BIGINT) AS max_attempts, \
         CAST(per_10_minutes AS BIGINT) AS per_10_minutes, CAST(per_24_hours AS BIGINT) AS per_24_hours, \
         workflow, CAST(keep_old_otp_active AS BIGINT) AS keep_old_otp_active, language, \
         status_callback, countries_sms, countries_call, fraud_mode, fraud_safe_list \
         FROM account_settings WHERE account_sid IN ({list})"
    );
    let rows: Vec<Row> = on_db!(db, pool => {
        let mut q = sqlx::query_as::<_, Row>(&sql);
        for a in accounts {
            q = q.bind(*a);
        }
        q.fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Sets the given columns of `account`'s row (creating it), leaving the others as they are:
/// one statement, so concurrent changes of different fields both hold.
async fn set(
    db: &Db,
    account: &str,
    columns: Vec<(&'static str, Arg)>,
    now: Millis,
) -> anyhow::Result<()> {
    if columns.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let values = (0..columns.len())
        .map(|i| format!("${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let updates = names
        .iter()
        .map(|n| format!("{n} = excluded.{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO account_settings (account_sid, date_updated, {}) VALUES ($1, $2, {values}) \
         ON CONFLICT (account_sid) DO UPDATE SET {updates}, date_updated = excluded.date_updated",
        names.join(", ")
    );
    let mut args = args![account, now];
    args.extend(columns.into_iter().map(|(_, v)| v));
    let mut s = Script::new();
    s.push(sql, args);
    crate::server::db::commit_script(db, s).await?;
    Ok(())
}

/// Sets (or, with `None`, unsets) "press a key before the code" for `account`.
pub async fn set_voice_press_key(
    db: &Db,
    account: &str,
    value: Option<bool>,
    now: Millis,
) -> anyhow::Result<()> {
    set(
        db,
        account,
        vec![("voice_press_key", value.map(i32::from).into())],
        now,
    )
    .await
}

/// Applies a change of `account`'s defaults (only the fields it names).
pub async fn change_defaults(
    db: &Db,
    account: &str,
    change: &DefaultsChange,
    now: Millis,
) -> anyhow::Result<()> {
    let mut cols: Vec<(&'static str, Arg)> = Vec::new();
    if let Some(v) = &change.code_length {
        cols.push(("code_length", Arg::Int4(v.map(|n| n as i32))));
    }
    if let Some(v) = &change.code_type {
        cols.push(("code_type", v.map(CodeType::as_str).into()));
    }
    if let Some(v) = &change.expiry_secs {
        cols.push(("expiry_secs", int_4(v)));
    }
    if let Some(v) = &change.max_attempts {
        cols.push(("max_attempts", int_4(v)));
    }
    if let Some(v) = &change.per_10_minutes {
        cols.push(("per_10_minutes", int_4(v)));
    }
    if let Some(v) = &change.per_24_hours {
        cols.push(("per_24_hours", int_4(v)));
    }
    if let Some(v) = &change.workflow {
        cols.push(("workflow", v.as_ref().map(Workflow::to_text).into()));
    }
    if let Some(v) = &change.keep_old_otp_active {
        cols.push(("keep_old_otp_active", v.map(i32::from).into()));
    }
    if let Some(v) = &change.language {
        cols.push(("language", v.clone().into()));
    }
    if let Some(v) = &change.status_callback {
        cols.push(("status_callback", v.clone().into()));
    }
    set(db, account, cols, now).await
}

/// INTEGER columns take 32-bit values on PostgreSQL.
fn int_4(v: &Option<i64>) -> Arg {
    Arg::Int4(v.map(|n| n as i32))
}

/// Sets (or, with `None`, unsets) the allowed countries of phone channels, together.
pub async fn set_countries(
    db: &Db,
    account: &str,
    changes: &[(Channel, Option<Countries>)],
    now: Millis,
) -> anyhow::Result<()> {
    let mut cols: Vec<(&'static str, Arg)> = Vec::new();
    for (channel, value) in changes {
        let column = match channel {
            Channel::Sms => "countries_sms",
            Channel::Call => "countries_call",
            Channel::Email => anyhow::bail!("email destinations have no country"),
        };
        cols.push((column, value.as_ref().map(Countries::to_text).into()));
    }
    set(db, account, cols, now).await
}

/// Sets (or, with `None`, unsets) the fraud guard's mode and safe-list; `Some` of either only.
pub async fn set_fraud_guard(
    db: &Db,
    account: &str,
    mode: Option<Option<FraudMode>>,
    safe_list: Option<Option<SafeList>>,
    now: Millis,
) -> anyhow::Result<()> {
    let mut cols: Vec<(&'static str, Arg)> = Vec::new();
    if let Some(m) = mode {
        cols.push(("fraud_mode", m.map(FraudMode::as_str).into()));
    }
    if let Some(l) = safe_list {
        cols.push(("fraud_safe_list", l.as_ref().map(SafeList::to_text).into()));
    }
    set(db, account, cols, now).await
}
