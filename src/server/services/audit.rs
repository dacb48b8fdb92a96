//! The audit log: every change made through the console or the API, with who, when, from
//! which address, and what (before → after). Append-only; entries go only by age
//! ([`prune`], run by the housekeeping worker after `audit_retention_days`).
//!
//! How a feature records a change (one call per change):
//!
//! ```ignore
//! use crate::server::services::audit::{self, AuditAction, Change};
//! // `origin`: `ctx::audit_origin(&user)` in a server function, `ApiOrigin(origin)` (an
//! // extractor) in a REST handler.
//! audit::record_after(
//!     state.db(),
//!     state.clock(),
//!     Some(scope.sid()),
//!     &origin,
//!     Change::new(AuditAction::TemplateUpdate, "sms/es")
//!         .before(&old_template)   // anything Serialize; secrets are redacted here
//!         .after(&new_template),
//! )
//! .await;
//! ```
//!
//! `record_after` runs right after the change committed and logs (never returns) a failure to
//! record; `record` returns it; `record_in` adds the entry to a [`Script`] so it commits in
//! the same transaction as the change. Before/after values go through
//! [`crate::domain::audit::redact`]: fields named like a password, token, secret, key or code
//! are stored as `[redacted]`. Never put a secret into `target`.
use super::paging::{Listed, PageRequest};
use super::{AccountScope, ServiceError, ServiceResult};
use crate::domain::audit::redact;
use crate::domain::ids::AuditSid;
use crate::domain::{AccountSid, ErrorCode};
use crate::server::clock::{Clock, Millis};
use crate::server::db::audit::{self as store, AuditRow};
use crate::server::db::script::Script;
use crate::server::db::Db;
use serde::Serialize;
use serde_json::Value;

pub use crate::domain::audit::{Actor, AuditAction};
pub use store::{AuditCursor, AuditFilter};

/// Who made a change and from which client address (as throttling derives it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub actor: Actor,
    pub address: String,
}

/// One change: what was done to which object, and the object before and after (either may be
/// absent: nothing before a creation, nothing after a deletion).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub action: AuditAction,
    /// The object changed: a sid (`LM…`, `US…`, `SK…`, `OTP…`, `AC…`, `PR…`) or a name such
    /// as `settings` or `sms/es`.
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    pub fn new(action: AuditAction, target: impl Into<String>) -> Self {
        Change {
            action,
            target: target.into(),
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, value: impl Serialize) -> Self {
        self.before = to_json(value);
        self
    }

    pub fn after(mut self, value: impl Serialize) -> Self {
        self.after = to_json(value);
        self
    }
}

fn to_json(value: impl Serialize) -> Option<Value> {
    match serde_json::to_value(value) {
        Ok(Value::Null) => None,
        Ok(v) => Some(redact(v)),
        Err(e) => {
            tracing::error!(error = %e, "an audit value did not serialize");
            None
        }
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub sid: AuditSid,
    /// Insertion order (paging position with `at`).
    pub seq: i64,
    pub account_sid: Option<String>,
    pub at: Millis,
    pub actor: Actor,
    pub address: String,
    /// A dotted [`AuditAction`] name (kept as text: an entry outlives the code that wrote it).
    pub action: String,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditEntry {
    /// How people read the action (its dotted name when unknown to this version).
    pub fn action_label(&self) -> String {
        AuditAction::parse(&self.action)
            .map(|a| a.label().to_owned())
            .unwrap_or_else(|| self.action.clone())
    }
}

fn row_of(account: Option<&AccountSid>, origin: &Origin, change: Change, now: Millis) -> AuditRow {
    // Redacted again here, whatever way the values were built.
    let text = |v: Option<Value>| v.map(|v| redact(v).to_string());
    AuditRow {
        seq: 0,
        sid: AuditSid::generate().to_string(),
        account_sid: account.map(|a| a.to_string()),
        at: now,
        actor_type: origin.actor.kind().to_owned(),
        actor_sid: origin.actor.sid().map(str::to_owned),
        actor_email: origin.actor.email().map(str::to_owned),
        address: origin.address.chars().take(64).collect(),
        action: change.action.as_str().to_owned(),
        target: change.target.chars().take(256).collect(),
        before_json: text(change.before),
        after_json: text(change.after),
    }
}

fn entry_of(row: AuditRow) -> anyhow::Result<AuditEntry> {
    let json = |t: Option<String>| -> anyhow::Result<Option<Value>> {
        Ok(t.map(|t| serde_json::from_str(&t)).transpose()?)
    };
    let actor = match row.actor_type.as_str() {
        "credential" => Actor::Credential {
            sid: row.actor_sid.unwrap_or_default(),
        },
        _ => Actor::User {
            sid: row.actor_sid,
            email: row.actor_email.unwrap_or_default(),
        },
    };
    Ok(AuditEntry {
        sid: AuditSid::parse(&row.sid).map_err(|e| anyhow::anyhow!("stored audit sid: {e}"))?,
        seq: row.seq,
        account_sid: row.account_sid,
        at: row.at,
        actor,
        address: row.address,
        action: row.action,
        target: row.target,
        before: json(row.before_json)?,
        after: json(row.after_json)?,
    })
}

/// Records one change made in `account` (`None`: no account is known, e.g. a failed sign-in
/// with an unknown email), in a transaction of its own.
pub async fn record(
    db: &Db,
    clock: &dyn Clock,
    account: Option<&AccountSid>,
    origin: &Origin,
    change: Change,
) -> anyhow::Result<AuditSid> {
    let row = row_of(account, origin, change, clock.now_ms());
    store::insert(db, &row).await?;
    AuditSid::parse(&row.sid).map_err(|e| anyhow::anyhow!("{e}"))
}

/// [`record`] right after the change committed: a failure to record is logged (with the
/// action) and does not undo or fail the change.
pub async fn record_after(
    db: &Db,
    clock: &dyn Clock,
    account: Option<&AccountSid>,
    origin: &Origin,
    change: Change,
) {
    let action = change.action;
    if let Err(e) = record(db, clock, account, origin, change).await {
        tracing::error!(error = ?e, %action, "recording an audit entry failed");
    }
}

/// Adds the entry to `script`, so it commits (or not) with the change in the same script.
pub fn record_in(
    script: &mut Script,
    now: Millis,
    account: Option<&AccountSid>,
    origin: &Origin,
    change: Change,
) {
    store::push_insert(script, &row_of(account, origin, change, now));
}

/// Which page of the log.
#[derive(Debug, Clone)]
pub enum AuditPage {
    /// By offset.
    Page(PageRequest),
    /// The `size` entries after this one (the last of the previous page), found by position.
    After { after: String, size: i64 },
}

fn bad_after() -> ServiceError {
    ServiceError::invalid(
        "AfterSid",
        "AfterSid must be the auditSid of an entry of this account (the last one of the previous page).",
    )
}

/// The account's entries, newest first, filtered; by offset or after a known entry.
pub async fn list(
    db: &Db,
    scope: &AccountScope,
    filter: &AuditFilter,
    page: AuditPage,
) -> ServiceResult<Listed<AuditEntry>> {
    let account = scope.sid().as_str();
    let (rows, total, capped) = match page {
        AuditPage::Page(p) => store::page(db, account, filter, p.size, p.offset()).await?,
        AuditPage::After { after, size } => {
            let sid = AuditSid::parse(after.trim()).map_err(|_| bad_after())?;
            let cursor = store::cursor_of(db, account, sid.as_str())
                .await?
                .ok_or_else(bad_after)?;
            let (rows, _) = store::keyset(db, account, filter, Some(&cursor), false, size).await?;
            let (total, capped) = store::count_capped(db, account, filter).await?;
            (rows, total, capped)
        }
    };
    let items = rows
        .into_iter()
        .map(entry_of)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Listed {
        items,
        total,
        capped,
    })
}

/// Which way a positional walk goes.
#[derive(Debug, Clone)]
pub enum Walk {
    First,
    Older(AuditCursor),
    Newer(AuditCursor),
}

/// One page of a positional walk (the console's pager), newest first, and whether more exist
/// beyond it in the direction walked.
pub async fn walk(
    db: &Db,
    scope: &AccountScope,
    filter: &AuditFilter,
    walk: &Walk,
    size: i64,
) -> ServiceResult<(Vec<AuditEntry>, bool)> {
    let (cursor, newer) = match walk {
        Walk::First => (None, false),
        Walk::Older(c) => (Some(c), false),
        Walk::Newer(c) => (Some(c), true),
    };
    let (rows, more) = store::keyset(db, scope.sid().as_str(), filter, cursor, newer, size).await?;
    let items = rows
        .into_iter()
        .map(entry_of)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((items, more))
}

/// The position of an entry in the newest-first order.
pub fn position_of(entry: &AuditEntry) -> AuditCursor {
    AuditCursor {
        at: entry.at,
        seq: entry.seq,
    }
}

/// Checks a dotted action name given as a filter.
pub fn parse_action(field: &'static str, raw: &str) -> ServiceResult<AuditAction> {
    AuditAction::parse(raw).ok_or_else(|| ServiceError::Rule {
        code: ErrorCode::InvalidParameter,
        message: format!(
            "{field} must be one of the audit actions, e.g. user.sign_in or limit.create."
        ),
        field: Some(field),
    })
}

/// Entries pruned per statement (a big backlog goes in several short transactions).
const PRUNE_BATCH: i64 = 5_000;

/// Retention: removes entries older than `retention_days` (0: keeps everything). Returns how
/// many went.
pub async fn prune(db: &Db, clock: &dyn Clock, retention_days: u32) -> anyhow::Result<u64> {
    if retention_days == 0 {
        return Ok(0);
    }
    let cutoff = clock.now_ms() - i64::from(retention_days) * 86_400_000;
    let mut total = 0;
    loop {
        let n = store::prune_before(db, cutoff, PRUNE_BATCH).await?;
        total += n;
        if n < PRUNE_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Records a failed console sign-in: the actor is the email tried, recorded in each account
/// that has a user with that email (the user's sid; at most
/// [`MAX_ACCOUNTS_PER_SIGN_IN`](super::users::MAX_ACCOUNTS_PER_SIGN_IN) accounts), or once
/// with no account when none has. The password is never recorded.
pub async fn record_sign_in_failure(db: &Db, clock: &dyn Clock, email: &str, address: &str) {
    let tried: String = email.trim().chars().take(254).collect();
    let users = match crate::domain::EmailAddress::parse(&tried) {
        Ok(e) => crate::server::db::users::find_by_email_key(
            db,
            &e.login_key(),
            super::users::MAX_ACCOUNTS_PER_SIGN_IN,
        )
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = ?e, "looking up a failed sign-in's user");
            Vec::new()
        }),
        Err(_) => Vec::new(),
    };
    let entries: Vec<(Option<AccountSid>, Option<String>, String)> = if users.is_empty() {
        vec![(None, None, tried)]
    } else {
        users
            .into_iter()
            .map(|u| (AccountSid::parse(&u.account_sid).ok(), Some(u.sid), u.email))
            .collect()
    };
    for (account, sid, email) in entries {
        let origin = Origin {
            actor: Actor::User { sid, email },
            address: address.to_owned(),
        };
        let target = origin.actor.sid().unwrap_or("console").to_owned();
        record_after(
            db,
            clock,
            account.as_ref(),
            &origin,
            Change::new(AuditAction::UserSignInFailed, target),
        )
        .await;
    }
}

/// The entries for a change of an account (a rename and/or a status change), from the account
/// before and after: one entry per kind of change, none when nothing changed.
pub fn account_changes(
    before: &super::scope::Account,
    after: &super::scope::Account,
) -> Vec<Change> {
    use crate::domain::AccountStatus;
    let mut changes = Vec::new();
    let target = after.sid.as_str();
    if before.friendly_name != after.friendly_name {
        changes.push(
            Change::new(AuditAction::SubaccountRename, target)
                .before(serde_json::json!({"friendlyName": before.friendly_name}))
                .after(serde_json::json!({"friendlyName": after.friendly_name})),
        );
    }
    if before.status != after.status {
        let action = match after.status {
            AccountStatus::Suspended => AuditAction::SubaccountSuspend,
            AccountStatus::Closed => AuditAction::SubaccountClose,
            AccountStatus::Active => AuditAction::SubaccountReactivate,
        };
        changes.push(
            Change::new(action, target)
                .before(serde_json::json!({"status": before.status.as_str()}))
                .after(serde_json::json!({"status": after.status.as_str()})),
        );
    }
    changes
}

/// [`record_after`] for several changes, in order.
pub async fn record_all_after(
    db: &Db,
    clock: &dyn Clock,
    account: Option<&AccountSid>,
    origin: &Origin,
    changes: Vec<Change>,
) {
    for change in changes {
        record_after(db, clock, account, origin, change).await;
    }
}

/// A limit as the audit log shows it.
pub fn limit_json(l: &crate::domain::limit::Limit) -> Value {
    serde_json::json!({"name": l.name, "description": l.description, "buckets": l.buckets})
}

/// A provider as the audit log shows it: its settings without any secret (secret settings and
/// every header value are `[redacted]`, not even masked).
pub fn provider_json(p: &crate::domain::provider::ProviderSetup) -> Value {
    use crate::domain::audit::REDACTED;
    use crate::domain::provider::Shown;
    let config: serde_json::Map<String, Value> = p
        .config
        .shown()
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Shown::Text(t) => Value::String(t),
                Shown::Number(n) => Value::from(n),
                Shown::Secret(_) => Value::String(REDACTED.into()),
                Shown::Headers(h) => Value::Object(
                    h.into_iter()
                        .map(|(n, _)| (n, Value::String(REDACTED.into())))
                        .collect(),
                ),
            };
            (k.to_owned(), v)
        })
        .collect();
    serde_json::json!({
        "name": p.name,
        "kind": p.kind().as_str(),
        "channels": p.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "countries": p.countries,
        "priority": p.priority,
        "enabled": p.enabled,
        "config": config,
    })
}

/// The order of an account's providers (for `provider.move`): their names, first tried first.
pub fn provider_order(all: &[crate::domain::provider::ProviderSetup]) -> Value {
    Value::from(all.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
}

/// The entry for a change of "press a key before the code" (`settings.update`): what applied
/// before and after, and where it came from.
pub fn voice_press_key_change(
    before: super::settings::VoicePressKey,
    after: super::settings::VoicePressKey,
) -> Change {
    let shown = |v: super::settings::VoicePressKey| serde_json::json!({"voicePressKey": v.on, "source": v.source.as_str()});
    Change::new(AuditAction::SettingsUpdate, "settings")
        .before(shown(before))
        .after(shown(after))
}

/// The entry for a change of the account's defaults or "press a key" (`settings.update`): what
/// the account set itself before and after (unset fields are inherited).
pub fn settings_change(
    defaults: &super::settings::Changed<crate::domain::settings::Defaults>,
    press: &super::settings::Changed<super::settings::VoicePressKey>,
) -> Change {
    let shown = |d: &crate::domain::settings::Defaults, p: super::settings::VoicePressKey| {
        let mut v = serde_json::to_value(d).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.retain(|_, x| !x.is_null());
            if p.source == crate::domain::settings::Source::Account {
                m.insert("voice_press_key".into(), p.on.into());
            }
        }
        v
    };
    Change::new(AuditAction::SettingsUpdate, "settings")
        .before(shown(&defaults.before, press.before))
        .after(shown(&defaults.after, press.after))
}

/// The entry for a change of the allowed countries (`countries.update`).
pub fn countries_change(
    allowed: &super::settings::Changed<crate::domain::settings::AllowedCountries>,
) -> Change {
    let shown = |a: &crate::domain::settings::AllowedCountries| {
        serde_json::json!({
            "sms": a.sms.value.to_text(), "smsFrom": a.sms.source.as_str(),
            "call": a.call.value.to_text(), "callFrom": a.call.source.as_str(),
        })
    };
    Change::new(AuditAction::CountriesUpdate, "countries")
        .before(shown(&allowed.before))
        .after(shown(&allowed.after))
}

/// The entry for a template saved (`template.update`, with its texts) or reset
/// (`template.delete`); the target is `channel/language`.
pub fn template_change(
    key: &super::templates::TemplateKey,
    saved: Option<&crate::domain::template::Template>,
) -> Change {
    let target = format!("{}/{}", key.channel.as_str(), key.language);
    match saved {
        Some(t) => Change::new(AuditAction::TemplateUpdate, target)
            .after(serde_json::json!({"subject": t.subject, "text": t.text, "html": t.html})),
        None => Change::new(AuditAction::TemplateDelete, target),
    }
}

/// The entry for an OTP a person (console user or API credential) canceled: the OTP's sid and
/// its new status with the reason (never its code or destination).
pub fn otp_cancel_change(otp: &crate::domain::Otp, reason: Option<&str>) -> Change {
    Change::new(AuditAction::OtpCancel, otp.sid.as_str()).after(
        serde_json::json!({"status": otp.status.as_str(), "reason": reason.unwrap_or("requested")}),
    )
}

/// How many of the account's entries match.
pub async fn count(db: &Db, scope: &AccountScope, filter: &AuditFilter) -> ServiceResult<i64> {
    Ok(store::count(db, scope.sid().as_str(), filter).await?)
}
