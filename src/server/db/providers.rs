//! Providers as stored: the kind's settings as JSON and its secrets sealed (the services seal
//! and open them; the database never sees a secret in clear).
use crate::args;
use crate::domain::AccountSid;
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::db::script::{Arg, Script};
use crate::server::db::{commit_script, Db};

/// One provider row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredProvider {
    pub sid: String,
    pub account_sid: String,
    pub kind: String,
    pub name: String,
    /// Comma-separated channels.
    pub channels: String,
    /// Comma-separated ISO codes; empty: every country.
    pub countries: String,
    pub priority: i32,
    pub enabled: i32,
    /// The settings without secrets (JSON).
    pub config: String,
    /// The secrets, sealed.
    pub secrets: String,
    pub date_created: Millis,
    pub date_updated: Millis,
}

const COLUMNS: &str = "sid, account_sid, kind, name, channels, countries, priority, enabled, config, secrets, date_created, date_updated";

/// Why a provider was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("a provider with this name exists in the account")]
    DuplicateName,
    #[error(transparent)]
    Db(#[from] anyhow::Error),
}

fn written<T>(r: sqlx::Result<T>) -> Result<T, WriteError> {
    match r {
        Ok(n) => Ok(n),
        Err(e) if super::is_unique_violation(&e) => Err(WriteError::DuplicateName),
        Err(e) => Err(WriteError::Db(e.into())),
    }
}

/// The values a provider's settings are written from, in `COLUMNS` order (kind … secrets).
fn settings_args(p: &StoredProvider) -> Vec<Arg> {
    args![
        &p.kind,
        &p.name,
        &p.channels,
        &p.countries,
        p.priority,
        p.enabled,
        &p.config,
        &p.secrets
    ]
}

pub async fn insert(db: &Db, p: &StoredProvider) -> Result<(), WriteError> {
    let mut values = args![&p.sid, &p.account_sid];
    values.extend(settings_args(p));
    values.extend(args![p.date_created, p.date_updated]);
    let mut s = Script::new();
    s.push(
        format!(
            "INSERT INTO providers ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ),
        values,
    );
    written(commit_script(db, s).await)?;
    Ok(())
}

/// Writes everything but the sid, account and creation date.
pub async fn update(db: &Db, p: &StoredProvider) -> Result<(), WriteError> {
    let mut values = settings_args(p);
    values.extend(args![p.date_updated, &p.sid, &p.account_sid]);
    let mut s = Script::new();
    s.push(
        "UPDATE providers SET kind = $1, name = $2, channels = $3, countries = $4, priority = $5, enabled = $6, \
         config = $7, secrets = $8, date_updated = $9 WHERE sid = $10 AND account_sid = $11",
        values,
    );
    written(commit_script(db, s).await)?;
    Ok(())
}

pub async fn delete(db: &Db, account: &AccountSid, sid: &str) -> anyhow::Result<bool> {
    let mut s = Script::new();
    s.push(
        "DELETE FROM providers WHERE sid = $1 AND account_sid = $2",
        args![sid, account.as_str()],
    );
    Ok(commit_script(db, s).await? == [1])
}

/// The provider `sid` of `account`.
pub async fn find(
    db: &Db,
    account: &AccountSid,
    sid: &str,
) -> anyhow::Result<Option<StoredProvider>> {
    let sql = format!("SELECT {COLUMNS} FROM providers WHERE sid = $1 AND account_sid = $2");
    Ok(on_db!(db, pool => sqlx::query_as::<_, StoredProvider>(&sql)
        .bind(sid).bind(account.as_str()).fetch_optional(pool).await)?)
}

/// The provider `sid`, whichever account it belongs to (delivery receipts name it).
pub async fn get(db: &Db, sid: &str) -> anyhow::Result<Option<StoredProvider>> {
    let sql = format!("SELECT {COLUMNS} FROM providers WHERE sid = $1");
    Ok(on_db!(db, pool => sqlx::query_as::<_, StoredProvider>(&sql)
        .bind(sid).fetch_optional(pool).await)?)
}

/// Every provider of the given accounts, by account then priority and name.
pub async fn of_accounts(db: &Db, accounts: &[&str]) -> anyhow::Result<Vec<StoredProvider>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let list = (1..=accounts.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {COLUMNS} FROM providers WHERE account_sid IN ({list}) ORDER BY account_sid, priority, name"
    );
    Ok(on_db!(db, pool => {
        let mut q = sqlx::query_as::<_, StoredProvider>(&sql);
        for a in accounts {
            q = q.bind(*a);
        }
        q.fetch_all(pool).await
    })?)
}

/// How many providers the account has.
pub async fn count(db: &Db, account: &AccountSid) -> anyhow::Result<i64> {
    Ok(
        on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM providers WHERE account_sid = $1")
        .bind(account.as_str()).fetch_one(pool).await)?,
    )
}

/// Gives providers of `account` new priorities, all or none (a provider that is gone is
/// skipped).
pub async fn set_priorities(
    db: &Db,
    account: &AccountSid,
    priorities: &[(String, i32)],
    now: i64,
) -> anyhow::Result<()> {
    use super::BeginWrite;
    let sql =
        "UPDATE providers SET priority = $1, date_updated = $2 WHERE sid = $3 AND account_sid = $4";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        for (sid, priority) in priorities {
            sqlx::query(sql)
                .bind(*priority).bind(now).bind(sid).bind(account.as_str())
                .execute(&mut *tx).await?;
        }
        tx.commit().await
    })?;
    Ok(())
}
