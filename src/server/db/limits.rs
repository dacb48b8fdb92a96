//! Named limits and their hits. A send's check-and-charge runs inside the send's transaction
//! (see `otps::send`), serialized per (limit, key) by [`lock_key`]: SQLite holds the database's
//! write lock for the whole transaction already; PostgreSQL takes a transaction-scoped advisory
//! lock on the pair, which also holds across server instances sharing the database.
use crate::args;
use crate::domain::ids::LimitSid;
use crate::domain::limit::{Bucket, Limit};
use crate::domain::{AccountSid, OtpSid};
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::db::script::Script;
use crate::server::db::Db;
use anyhow::Context;

#[derive(Debug, Clone, sqlx::FromRow)]
struct LimitRow {
    sid: String,
    account_sid: String,
    name: String,
    description: String,
    buckets: String,
    date_created: Millis,
    date_updated: Millis,
}

impl TryFrom<LimitRow> for Limit {
    type Error = anyhow::Error;
    fn try_from(r: LimitRow) -> anyhow::Result<Limit> {
        Ok(Limit {
            sid: LimitSid::parse(&r.sid).context("stored limit sid")?,
            account_sid: AccountSid::parse(&r.account_sid).context("stored account sid")?,
            buckets: serde_json::from_str(&r.buckets).context("stored buckets")?,
            name: r.name,
            description: r.description,
            date_created: r.date_created,
            date_updated: r.date_updated,
        })
    }
}

const COLUMNS: &str = "sid, account_sid, name, description, buckets, date_created, date_updated";

/// Why a limit was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("a limit with this name exists in the account")]
    DuplicateName,
    #[error(transparent)]
    Db(#[from] anyhow::Error),
}

fn written(r: sqlx::Result<()>) -> Result<(), WriteError> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if super::is_unique_violation(&e) => Err(WriteError::DuplicateName),
        Err(e) => Err(WriteError::Db(e.into())),
    }
}

pub async fn insert(db: &Db, l: &Limit) -> Result<(), WriteError> {
    let buckets = serde_json::to_string(&l.buckets).context("buckets")?;
    written(on_db!(db, pool => sqlx::query(
        "INSERT INTO limits (sid, account_sid, name, description, buckets, date_created, date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(l.sid.as_str()).bind(l.account_sid.as_str()).bind(&l.name).bind(&l.description).bind(&buckets)
        .bind(l.date_created).bind(l.date_updated)
        .execute(pool).await.map(|_| ())))
}

/// Writes name, description, buckets and date_updated of an existing limit.
pub async fn update(db: &Db, l: &Limit) -> Result<(), WriteError> {
    let buckets = serde_json::to_string(&l.buckets).context("buckets")?;
    written(on_db!(db, pool => sqlx::query(
        "UPDATE limits SET name = $1, description = $2, buckets = $3, date_updated = $4 WHERE sid = $5")
        .bind(&l.name).bind(&l.description).bind(&buckets).bind(l.date_updated).bind(l.sid.as_str())
        .execute(pool).await.map(|_| ())))
}

/// The limit and its counted hits, in one transaction.
pub async fn delete(db: &Db, sid: &LimitSid) -> anyhow::Result<()> {
    on_db!(db, pool => async {
        let mut tx = crate::server::db::BeginWrite::begin_write(pool).await?;
        sqlx::query("DELETE FROM limit_hits WHERE limit_sid = $1").bind(sid.as_str()).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM limits WHERE sid = $1").bind(sid.as_str()).execute(&mut *tx).await?;
        tx.commit().await
    }.await)?;
    Ok(())
}

pub async fn find(db: &Db, account: &AccountSid, sid: &str) -> anyhow::Result<Option<Limit>> {
    let sql = format!("SELECT {COLUMNS} FROM limits WHERE sid = $1 AND account_sid = $2");
    let row = on_db!(db, pool => sqlx::query_as::<_, LimitRow>(&sql).bind(sid).bind(account.as_str()).fetch_optional(pool).await)?;
    row.map(Limit::try_from).transpose()
}

pub async fn find_by_name(
    db: &Db,
    account: &AccountSid,
    name: &str,
) -> anyhow::Result<Option<Limit>> {
    let sql = format!("SELECT {COLUMNS} FROM limits WHERE account_sid = $1 AND name = $2");
    let row = on_db!(db, pool => sqlx::query_as::<_, LimitRow>(&sql).bind(account.as_str()).bind(name).fetch_optional(pool).await)?;
    row.map(Limit::try_from).transpose()
}

/// How a list of limits is narrowed by name.
#[derive(Debug, Clone)]
pub enum NameFilter {
    Any,
    Exactly(String),
    Prefix(String),
}

/// One page of the account's limits by name, and how many match.
pub async fn list(
    db: &Db,
    account: &AccountSid,
    name: &NameFilter,
    limit: i64,
    offset: i64,
) -> anyhow::Result<(Vec<Limit>, i64)> {
    let (clause, pattern) = match name {
        NameFilter::Prefix(prefix) => {
            let escaped = prefix
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            (" AND name LIKE $2 ESCAPE '\\'", format!("{escaped}%"))
        }
        NameFilter::Exactly(n) => (" AND name = $2", n.clone()),
        NameFilter::Any => (" AND $2 = $2", String::new()),
    };
    let list_sql = format!("SELECT {COLUMNS} FROM limits WHERE account_sid = $1{clause} ORDER BY name LIMIT $3 OFFSET $4");
    let count_sql = format!("SELECT COUNT(*) FROM limits WHERE account_sid = $1{clause}");
    let (rows, total): (Vec<LimitRow>, i64) = on_db!(db, pool => {
        let rows = sqlx::query_as::<_, LimitRow>(&list_sql).bind(account.as_str()).bind(&pattern)
            .bind(limit).bind(offset).fetch_all(pool).await?;
        let total = sqlx::query_scalar::<_, i64>(&count_sql).bind(account.as_str()).bind(&pattern).fetch_one(pool).await?;
        (rows, total)
    });
    Ok((
        rows.into_iter()
            .map(Limit::try_from)
            .collect::<anyhow::Result<_>>()?,
        total,
    ))
}

/// Every limit of the account with how many sends it blocked since `since`, in one query (the
/// count reads the `blocked_by` index).
pub async fn with_blocked_counts(
    db: &Db,
    account: &AccountSid,
    since: Millis,
) -> anyhow::Result<Vec<(Limit, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        limit: LimitRow,
        blocked: i64,
    }
    // Parameters in text order (SQLite binds by first appearance).
    let sql = format!(
        "SELECT {COLUMNS}, (SELECT COUNT(*) FROM otps o WHERE o.blocked_by = limits.sid AND o.date_created >= $1) AS blocked \
         FROM limits WHERE account_sid = $2 ORDER BY name"
    );
    let rows = on_db!(db, pool => sqlx::query_as::<_, Row>(&sql).bind(since).bind(account.as_str()).fetch_all(pool).await)?;
    rows.into_iter()
        .map(|r| Ok((Limit::try_from(r.limit)?, r.blocked)))
        .collect()
}

/// A limit a send charges, with the key to charge.
#[derive(Debug, Clone)]
pub struct Charge {
    pub limit_sid: LimitSid,
    pub name: String,
    pub key: String,
    pub buckets: Vec<Bucket>,
}

/// Inside a write transaction: serializes every check-and-charge of one (limit, key) until
/// the transaction ends. SQLite: nothing to do (the transaction holds the write lock).
pub(crate) async fn lock_key<C: KeyLock + ?Sized>(conn: &mut C, c: &Charge) -> sqlx::Result<()> {
    conn.lock_key(&format!("{}|{}", c.limit_sid, c.key)).await
}

/// The time of the bucket's `max_otp`-th newest hit of (limit, key), if there are that many.
pub(crate) async fn nth_newest_hit<C: KeyLock + ?Sized>(
    conn: &mut C,
    c: &Charge,
    b: &Bucket,
) -> sqlx::Result<Option<i64>> {
    conn.nth_newest(c.limit_sid.as_str(), &c.key, b.max_otp - 1)
        .await
}

/// The hit of an accepted send, and the hits too old to matter any more.
pub(crate) fn charge(s: &mut Script, c: &Charge, otp: &OtpSid, now: Millis) {
    let longest = c.buckets.iter().map(|b| b.interval).max().unwrap_or(0) * 1000;
    s.push(
        "INSERT INTO limit_hits (limit_sid, hit_key, at, otp_sid) VALUES ($1, $2, $3, $4)",
        args![c.limit_sid.as_str(), c.key.as_str(), now, otp.as_str()],
    );
    s.push(
        "DELETE FROM limit_hits WHERE limit_sid = $1 AND hit_key = $2 AND at <= $3",
        args![c.limit_sid.as_str(), c.key.as_str(), now - longest],
    );
}

/// The per-backend part of a limit check, on a transaction's connection.
pub(crate) trait KeyLock {
    fn lock_key<'a>(&'a mut self, key: &'a str)
        -> futures::future::BoxFuture<'a, sqlx::Result<()>>;
    fn nth_newest<'a>(
        &'a mut self,
        limit: &'a str,
        key: &'a str,
        offset: i64,
    ) -> futures::future::BoxFuture<'a, sqlx::Result<Option<i64>>>;
}

const NTH_NEWEST_HIT: &str = "SELECT at FROM limit_hits WHERE limit_sid = $1 AND hit_key = $2 ORDER BY at DESC LIMIT 1 OFFSET $3";

impl KeyLock for sqlx::SqliteConnection {
    fn lock_key<'a>(
        &'a mut self,
        _key: &'a str,
    ) -> futures::future::BoxFuture<'a, sqlx::Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn nth_newest<'a>(
        &'a mut self,
        limit: &'a str,
        key: &'a str,
        offset: i64,
    ) -> futures::future::BoxFuture<'a, sqlx::Result<Option<i64>>> {
        Box::pin(async move {
            sqlx::query_scalar(NTH_NEWEST_HIT)
                .bind(limit)
                .bind(key)
                .bind(offset)
                .fetch_optional(self)
                .await
        })
    }
}

impl KeyLock for sqlx::PgConnection {
    fn lock_key<'a>(
        &'a mut self,
        key: &'a str,
    ) -> futures::future::BoxFuture<'a, sqlx::Result<()>> {
        Box::pin(async move {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(key)
                .execute(self)
                .await
                .map(|_| ())
        })
    }
    fn nth_newest<'a>(
        &'a mut self,
        limit: &'a str,
        key: &'a str,
        offset: i64,
    ) -> futures::future::BoxFuture<'a, sqlx::Result<Option<i64>>> {
        Box::pin(async move {
            sqlx::query_scalar(NTH_NEWEST_HIT)
                .bind(limit)
                .bind(key)
                .bind(offset)
                .fetch_optional(self)
                .await
        })
    }
}
