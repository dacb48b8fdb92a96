//! The database seam: one enum over the two concrete pools (SQLite embedded by default,
//! PostgreSQL for deployments with several instances). SQL text is shared where it really is
//! the same; `on_db!` runs one body against whichever pool is live.
pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod credentials;
pub mod fraud;
pub mod idempotency;
pub mod jobs;
pub mod limits;
pub mod otps;
pub mod providers;
pub mod sandbox;
pub mod script;
#[cfg(test)]
mod script_tests;
pub mod seed;
pub mod settings;
pub mod templates;
pub mod usage;
pub mod users;
pub mod writer;

pub use writer::{commit_script, write_pool};

/// Is this error the database being too busy to take the write now (the writer's queue is
/// full, no connection came in time, or SQLite's busy timeout ran out)? Such a request may be
/// retried in a moment: it answers 503 with `Retry-After`, not an internal error.
pub fn is_busy(err: &anyhow::Error) -> bool {
    err.chain().any(|c| match c.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::PoolTimedOut) => true,
        Some(sqlx::Error::Database(d)) => {
            matches!(d.code().as_deref(), Some("5") | Some("6") | Some("517"))
        }
        _ => false,
    })
}

use crate::server::config::{Settings, SqliteSynchronous};
use anyhow::Context;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the live pool (the body is compiled once per backend).
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::server::db::Db::Sqlite($pool) => $body,
            $crate::server::db::Db::Postgres($pool) => $body,
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The pool's connections and the SQLite writer's queue, as the metrics show them.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub open: u32,
    pub idle: usize,
    /// Scripts waiting for the SQLite writer (0 on PostgreSQL).
    pub writer_queued: usize,
}

impl Db {
    pub fn pool_state(&self) -> PoolState {
        match self {
            Db::Sqlite(pool) => PoolState {
                open: pool.size(),
                idle: pool.num_idle(),
                writer_queued: writer::queued(pool),
            },
            Db::Postgres(pool) => PoolState {
                open: pool.size(),
                idle: pool.num_idle(),
                writer_queued: 0,
            },
        }
    }

    pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
        Self::connect_url(
            &settings.database_url(),
            settings.db_max_connections,
            settings.sqlite_synchronous,
        )
        .await
    }

    pub async fn connect_url(
        url: &str,
        max_connections: u32,
        sync: SqliteSynchronous,
    ) -> anyhow::Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                // Check a connection only when it sat idle a while (the server may have
                // restarted or dropped it meanwhile): a ping before every query was a round
                // trip per query under load.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= Duration::from_secs(30) {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect(url)
                .await
                .context("connecting to PostgreSQL (check DATABASE_URL)")?;
            return Ok(Db::Postgres(pool));
        }
        if !url.starts_with("sqlite:") {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://");
        }
        let opts = SqliteConnectOptions::from_str(url)
            .context("parsing the SQLite URL")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match sync {
                SqliteSynchronous::Normal => sqlx::sqlite::SqliteSynchronous::Normal,
                SqliteSynchronous::Full => sqlx::sqlite::SqliteSynchronous::Full,
            })
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // A larger page cache. No memory-mapped I/O: a growing database is remapped again and
            // again (munmap, TLB shootdowns, page faults took a fifth of the CPU under load).
            // (Smaller caches, a soft heap limit and on-disk temporary storage were tried against
            // the memory large usage reports take: peak RSS did not move and make bench lost
            // about an eighth of its throughput, 615 → 535 lifecycles/s.)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        if let Some(dir) = opts
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            // No ping before handing out a connection: an embedded database cannot hang up,
            // and the ping was a round trip to the connection's thread before every query.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .with_context(|| format!("opening SQLite database {url}"))?;
        Ok(Db::Sqlite(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies this backend's migrations (and the session store's table); fails loudly.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(pool) => {
                sqlx::migrate!("migrations/sqlite")
                    .run(pool)
                    .await
                    .context("applying SQLite migrations")?;
                tower_sessions_sqlx_store::SqliteStore::new(pool.clone())
                    .migrate()
                    .await
                    .context("creating the SQLite session table")?;
            }
            Db::Postgres(pool) => {
                sqlx::migrate!("migrations/postgres")
                    .run(pool)
                    .await
                    .context("applying PostgreSQL migrations")?;
                tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
                    .migrate()
                    .await
                    .context("creating the PostgreSQL session table")?;
            }
        }
        Ok(())
    }

    /// Readiness: a trivial round trip to the database.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    pub async fn close(&self) {
        if let Db::Sqlite(pool) = self {
            if let Some(writer) = writer::forget(pool) {
                writer.close().await;
            }
        }
        on_db!(self, pool => pool.close().await)
    }
}

/// Binds every argument to a query, in order.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                $crate::server::db::script::Arg::Text(s) => q.bind(s.clone()),
                $crate::server::db::script::Arg::Int(i) => q.bind(*i),
                $crate::server::db::script::Arg::Int4(i) => q.bind(*i),
            };
        }
        q
    }};
}
pub(crate) use bind_args;

/// Lists count their matches up to this many: an exact `COUNT(*)` on every page of a huge
/// history reads every matching row each time.
pub const COUNT_CAP: i64 = 10_000;

/// `SELECT COUNT(*)` of the rows `from` (`table WHERE …`, best ordered like the list so the
/// planner walks the same index) that reads at most [`COUNT_CAP`] + 1 of them; read the answer
/// with [`capped_total`].
pub(crate) fn capped_count_sql(from: &str) -> String {
    format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {from} LIMIT {}) AS capped",
        COUNT_CAP + 1
    )
}

/// A count made by [`capped_count_sql`]: the total (at most [`COUNT_CAP`]) and whether more
/// rows matched.
pub(crate) fn capped_total(counted: i64) -> (i64, bool) {
    if counted > COUNT_CAP {
        (COUNT_CAP, true)
    } else {
        (counted, false)
    }
}

/// One page of a filtered list and the total: `list_sql` takes `args` then LIMIT and OFFSET,
/// `count_sql` (made by [`capped_count_sql`]) takes `args`. A short page (not past the end) is
/// the last one: the total then needs no second query. Answers the rows, the total and whether
/// the total is only a floor (more than [`COUNT_CAP`] matched).
pub(crate) async fn page_of<R>(
    db: &Db,
    list_sql: &str,
    count_sql: &str,
    args: &[script::Arg],
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<R>, i64, bool)>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    Ok(on_db!(db, pool => {
        let rows = bind_args!(sqlx::query_as::<_, R>(list_sql), args)
            .bind(limit).bind(offset).fetch_all(pool).await?;
        let seen = offset + rows.len() as i64;
        let last = (rows.len() as i64) < limit && (!rows.is_empty() || offset == 0);
        let (total, capped) = if last {
            (seen, false)
        } else {
            let counted = bind_args!(sqlx::query_scalar::<_, i64>(count_sql), args).fetch_one(pool).await?;
            let (total, capped) = capped_total(counted);
            (total.max(seen), capped)
        };
        (rows, total, capped)
    }))
}

/// Ad-hoc statements for tests, tools and benchmarks (never on a request path).
impl Db {
    /// Runs one statement; returns the rows it changed.
    pub async fn execute(&self, sql: &str, args: Vec<script::Arg>) -> sqlx::Result<u64> {
        on_db!(self, pool => bind_args!(sqlx::query(sql), &args).execute(pool).await.map(|r| r.rows_affected()))
    }

    /// The first column of the first row, as a number.
    pub async fn scalar_i64(&self, sql: &str, args: Vec<script::Arg>) -> sqlx::Result<i64> {
        on_db!(self, pool => bind_args!(sqlx::query_scalar::<_, i64>(sql), &args).fetch_one(pool).await)
    }

    /// The first column of every row, as text.
    pub async fn column_text(
        &self,
        sql: &str,
        args: Vec<script::Arg>,
    ) -> sqlx::Result<Vec<String>> {
        on_db!(self, pool => bind_args!(sqlx::query_scalar::<_, String>(sql), &args).fetch_all(pool).await)
    }

    /// Every row of a table as text (all columns cast to text, `|`-separated), for "never
    /// stored in clear" checks.
    pub async fn dump_table(&self, table: &str) -> sqlx::Result<String> {
        let columns: Vec<String> = match self {
            Db::Sqlite(_) => {
                self.column_text(&format!("SELECT name FROM pragma_table_info('{table}')"), Vec::new())
                    .await?
            }
            Db::Postgres(_) => {
                self.column_text(
                    "SELECT column_name::text FROM information_schema.columns WHERE table_name = $1",
                    vec![script::Arg::from(table)],
                )
                .await?
            }
        };
        let expr = columns
            .iter()
            .map(|c| format!("COALESCE(CAST({c} AS TEXT), '')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows = self
            .column_text(&format!("SELECT {expr} FROM {table}"), Vec::new())
            .await?;
        Ok(rows.join("\n"))
    }

    /// The first column of the first row, as text (`None`: no row, or NULL).
    pub async fn text(&self, sql: &str, args: Vec<script::Arg>) -> sqlx::Result<Option<String>> {
        on_db!(self, pool => bind_args!(sqlx::query_scalar::<_, Option<String>>(sql), &args).fetch_optional(pool).await)
            .map(Option::flatten)
    }
}

/// True when the error is a unique-constraint violation (same meaning on both backends).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Starts a transaction that will write. On SQLite it runs on the database's one writer
/// connection ([`write_pool`]) and takes the write lock up front (`BEGIN IMMEDIATE`): a deferred
/// transaction that reads and then writes can fail at once with "database is locked" when
/// another writer got in between, instead of waiting its turn. Writers of this process queue
/// for that connection in order instead of sleeping in SQLite's busy handler.
pub trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<WriteTx<Self::Database>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    async fn begin_write(&self) -> sqlx::Result<WriteTx<sqlx::Sqlite>> {
        Ok(WriteTx {
            tx: write_pool(self).begin_with("BEGIN IMMEDIATE").await?,
        })
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    async fn begin_write(&self) -> sqlx::Result<WriteTx<sqlx::Postgres>> {
        Ok(WriteTx {
            tx: self.begin().await?,
        })
    }
}

/// A write transaction. Use it like the transaction's connection (`&mut *tx`); `commit` or
/// `rollback` it, or drop it to roll back.
pub struct WriteTx<DB: sqlx::Database> {
    tx: sqlx::Transaction<'static, DB>,
}

impl<DB: sqlx::Database> WriteTx<DB> {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        self.tx.rollback().await
    }
}

impl<DB: sqlx::Database> std::ops::Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}
