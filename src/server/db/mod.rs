//! The database seam: one enum over the two concrete pools (SQLite embedded by default,
//! PostgreSQL for deployments with several instances). SQL text is shared where it really is
//! the same; `on_db!` runs one body against whichever pool is live.
pub mod accounts;
pub mod api_keys;
pub mod credentials;
pub mod otps;
pub mod script;
pub mod seed;
pub mod writer;

pub use writer::{commit_script, write_pool};
pub mod users;

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

impl Db {
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
