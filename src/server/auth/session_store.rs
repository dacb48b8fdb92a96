//! The console's session store: tower-sessions' sqlx stores, in the same database as the data.
//! On SQLite, sessions are read through the read pool and written through this process's one
//! writer connection, in turn with every other write (a write on a read connection would wait
//! for SQLite's write lock in its busy handler, and fail after its timeout under load).
use crate::server::db::{write_pool, Db};
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

#[derive(Debug, Clone)]
pub enum DbSessionStore {
    /// The database's read pool: sessions are read through it and written through its writer.
    Sqlite(sqlx::SqlitePool),
    Postgres(PostgresStore),
}

impl DbSessionStore {
    pub fn new(db: &Db) -> Self {
        match db {
            Db::Sqlite(pool) => Self::Sqlite(pool.clone()),
            Db::Postgres(pool) => Self::Postgres(PostgresStore::new(pool.clone())),
        }
    }

    /// Removes expired sessions every `period`, until the process ends.
    pub fn spawn_cleanup(&self, period: std::time::Duration) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let result = match &store {
                    Self::Sqlite(pool) => writes(pool).delete_expired().await,
                    Self::Postgres(s) => s.delete_expired().await,
                };
                if let Err(e) = result {
                    tracing::warn!(error = %e, "deleting expired sessions failed");
                }
            }
        });
    }
}

/// The store that writes through the writer connection (taken anew each time: the writer may
/// have been replaced since).
fn writes(pool: &sqlx::SqlitePool) -> SqliteStore {
    SqliteStore::new(write_pool(pool))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(pool) => writes(pool).create(record).await,
            Self::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(pool) => writes(pool).save(record).await,
            Self::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(pool) => SqliteStore::new(pool.clone()).load(id).await,
            Self::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(pool) => writes(pool).delete(id).await,
            Self::Postgres(s) => s.delete(id).await,
        }
    }
}
