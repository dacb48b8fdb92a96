//! The audit log (`audit_entries`): inserts, reads newest first (by position), and pruning by
//! age. Nothing here updates an entry (the table refuses an UPDATE), and nothing deletes one
//! except [`prune_before`].
use crate::args;
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::db::script::{Arg, Script};
use crate::server::db::{bind_args, Db};

/// One stored entry, as the table holds it (before/after are redacted JSON text).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    /// Insertion order (assigned by the database; ignored on insert).
    pub seq: i64,
    pub sid: String,
    pub account_sid: Option<String>,
    pub at: Millis,
    pub actor_type: String,
    pub actor_sid: Option<String>,
    pub actor_email: Option<String>,
    pub address: String,
    pub action: String,
    pub target: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

const COLUMNS: &str =
    "seq, sid, account_sid, at, actor_type, actor_sid, actor_email, address, action, \
                       target, before_json, after_json";

/// Adds the insert of `row` to a script (so it commits with the change it records).
pub fn push_insert(script: &mut Script, row: &AuditRow) {
    script.push(
        format!(
            "INSERT INTO audit_entries ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &COLUMNS["seq, ".len()..]
        ),
        args![
            row.sid.as_str(),
            row.account_sid.as_deref(),
            row.at,
            row.actor_type.as_str(),
            row.actor_sid.as_deref(),
            row.actor_email.as_deref(),
            row.address.as_str(),
            row.action.as_str(),
            row.target.as_str(),
            row.before_json.as_deref(),
            row.after_json.as_deref(),
        ],
    );
}

/// Stores one entry in its own transaction.
pub async fn insert(db: &Db, row: &AuditRow) -> anyhow::Result<()> {
    let mut s = Script::new();
    push_insert(&mut s, row);
    crate::server::db::commit_script(db, s).await?;
    Ok(())
}

/// Which entries of an account to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// A user sid, a credential sid or a user's email (exact, emails without case).
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// At or after.
    pub from: Option<Millis>,
    /// Before.
    pub before: Option<Millis>,
}

/// A position in the newest-first order: `(at, seq)` of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursor {
    pub at: Millis,
    pub seq: i64,
}

struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    fn of(account: &str, f: &AuditFilter) -> Self {
        let mut w = Where {
            clauses: vec!["account_sid = $1".into()],
            args: vec![Arg::from(account)],
        };
        if let Some(a) = &f.actor {
            w.args.push(Arg::from(a.as_str()));
            w.args.push(Arg::from(a.to_lowercase()));
            let n = w.args.len();
            w.clauses.push(format!(
                "(actor_sid = ${} OR LOWER(actor_email) = ${n})",
                n - 1
            ));
        }
        if let Some(a) = &f.action {
            w.push("action =", Arg::from(a.as_str()));
        }
        if let Some(t) = &f.target {
            w.push("target =", Arg::from(t.as_str()));
        }
        if let Some(t) = f.from {
            w.push("at >=", Arg::from(t));
        }
        if let Some(t) = f.before {
            w.push("at <", Arg::from(t));
        }
        w
    }

    fn push(&mut self, lhs: &str, arg: Arg) {
        self.args.push(arg);
        self.clauses.push(format!("{lhs} ${}", self.args.len()));
    }

    fn sql(&self) -> String {
        self.clauses.join(" AND ")
    }
}

/// The position of one of the account's entries (`None`: no such entry there).
pub async fn cursor_of(db: &Db, account: &str, sid: &str) -> anyhow::Result<Option<AuditCursor>> {
    let found: Option<(i64, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT at, CAST(seq AS BIGINT) FROM audit_entries WHERE sid = $1 AND account_sid = $2")
        .bind(sid).bind(account).fetch_optional(pool).await)?;
    Ok(found.map(|(at, seq)| AuditCursor { at, seq }))
}

/// Up to `limit` entries newest first: from the start, or older than `after` (`newer`: newer
/// than it, still answered newest first). Also says whether more exist beyond them.
pub async fn keyset(
    db: &Db,
    account: &str,
    filter: &AuditFilter,
    after: Option<&AuditCursor>,
    newer: bool,
    limit: i64,
) -> anyhow::Result<(Vec<AuditRow>, bool)> {
    let mut w = Where::of(account, filter);
    if let Some(c) = after {
        w.args.push(Arg::from(c.at));
        w.args.push(Arg::from(c.seq));
        let op = if newer { ">" } else { "<" };
        let n = w.args.len();
        w.clauses.push(format!("(at, seq) {op} (${}, ${n})", n - 1));
    }
    let order = if newer { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_entries WHERE {} ORDER BY at {order}, seq {order} LIMIT ${}",
        w.sql(),
        w.args.len() + 1
    );
    let mut rows: Vec<AuditRow> = on_db!(db, pool => bind_args!(sqlx::query_as::<_, AuditRow>(&sql), &w.args)
        .bind(limit + 1).fetch_all(pool).await)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if newer {
        rows.reverse();
    }
    Ok((rows, more))
}

/// One page by offset, newest first, and how many match in all (counted up to
/// [`COUNT_CAP`](crate::server::db::COUNT_CAP); the flag says the total is a floor).
pub async fn page(
    db: &Db,
    account: &str,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> anyhow::Result<(Vec<AuditRow>, i64, bool)> {
    let w = Where::of(account, filter);
    let n = w.args.len();
    let list_sql = format!(
        "SELECT {COLUMNS} FROM audit_entries WHERE {} ORDER BY at DESC, seq DESC LIMIT ${} OFFSET ${}",
        w.sql(),
        n + 1,
        n + 2
    );
    let count_sql = crate::server::db::capped_count_sql(&format!(
        "audit_entries WHERE {} ORDER BY at DESC, seq DESC",
        w.sql()
    ));
    Ok(
        crate::server::db::page_of::<AuditRow>(db, &list_sql, &count_sql, &w.args, limit, offset)
            .await?,
    )
}

/// How many entries match, counted up to [`COUNT_CAP`](crate::server::db::COUNT_CAP), and
/// whether more did.
pub async fn count_capped(
    db: &Db,
    account: &str,
    filter: &AuditFilter,
) -> anyhow::Result<(i64, bool)> {
    let w = Where::of(account, filter);
    let sql = crate::server::db::capped_count_sql(&format!(
        "audit_entries WHERE {} ORDER BY at DESC, seq DESC",
        w.sql()
    ));
    let counted: i64 = on_db!(db, pool => bind_args!(sqlx::query_scalar::<_, i64>(&sql), &w.args).fetch_one(pool).await)?;
    Ok(crate::server::db::capped_total(counted))
}

/// How many entries match.
pub async fn count(db: &Db, account: &str, filter: &AuditFilter) -> anyhow::Result<i64> {
    let w = Where::of(account, filter);
    let sql = format!("SELECT COUNT(*) FROM audit_entries WHERE {}", w.sql());
    Ok(
        on_db!(db, pool => bind_args!(sqlx::query_scalar::<_, i64>(&sql), &w.args).fetch_one(pool).await)?,
    )
}

/// Retention: deletes entries older than `cutoff`, at most `batch` of them (oldest first);
/// returns how many went. The only way an entry is ever removed.
pub async fn prune_before(db: &Db, cutoff: Millis, batch: i64) -> anyhow::Result<u64> {
    let mut s = Script::new();
    s.push(
        "DELETE FROM audit_entries WHERE sid IN \
         (SELECT sid FROM audit_entries WHERE at < $1 ORDER BY at LIMIT $2)",
        args![cutoff, batch],
    );
    let changed = crate::server::db::commit_script(db, s).await?;
    Ok(changed.iter().sum())
}
