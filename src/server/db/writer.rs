//! How this process writes. On SQLite: through one connection per database file, and scripts
//! from concurrent requests commit together (group commit). On PostgreSQL: the pool, one
//! transaction per script.
//!
//! SQLite allows one writer at a time, and a connection drops its whole page cache whenever
//! another connection has committed: writes spread over the read pool each started cold,
//! re-reading every B-tree page they touched. The writer's cache stays warm. And each command
//! to a connection is a hand-off to its thread and back, which on these machines costs more
//! than the statements: a transaction per request (begin, script, commit) was three hand-offs
//! per write; the committer takes every script that is waiting and runs them as one
//! transaction, three hand-offs for all of them.
use super::script::{RunScript, Script};
use super::Db;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Scripts one transaction takes at most (and bound values, under SQLite's limit per statement).
const MAX_BATCH: usize = 64;
const MAX_VALUES: usize = 30_000;

/// Commits `script` as one transaction (with others waiting at the same moment, on SQLite);
/// returns the rows each statement changed. An error means nothing of this script was written.
pub async fn commit_script(db: &Db, script: Script) -> sqlx::Result<Vec<u64>> {
    match db {
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let changed = tx.run(&script).await?;
            tx.commit().await?;
            Ok(changed)
        }
        Db::Sqlite(pool) => {
            let (reply, answer) = oneshot::channel();
            writer_of(pool).submit(Unit { script, reply });
            answer.await.unwrap_or_else(|_| {
                Err(sqlx::Error::Protocol(
                    "the SQLite committer stopped before answering".into(),
                ))
            })
        }
    }
}

/// The connection this process writes to a SQLite file through (a pool of one: writers wait
/// for it in order). It closes after a minute without writes and opens again on the next one.
pub fn write_pool(pool: &SqlitePool) -> SqlitePool {
    writer_of(pool).pool.clone()
}

struct Unit {
    script: Script,
    reply: oneshot::Sender<sqlx::Result<Vec<u64>>>,
}

struct Writer {
    pool: SqlitePool,
    /// The committer task's queue; replaced when the task is gone (its runtime ended).
    queue: Mutex<Option<mpsc::UnboundedSender<Unit>>>,
}

impl Writer {
    fn submit(&self, unit: Unit) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let unit = match queue.as_ref() {
            Some(q) => match q.send(unit) {
                Ok(()) => return,
                Err(mpsc::error::SendError(unit)) => unit,
            },
            None => unit,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(committer(self.pool.clone(), rx));
        // A fresh queue always takes it (its receiver is alive in the task just spawned).
        let _ = tx.send(unit);
        *queue = Some(tx);
    }
}

type Writers = Mutex<HashMap<PathBuf, Arc<Writer>>>;

fn writers() -> &'static Writers {
    static WRITERS: LazyLock<Writers> = LazyLock::new(Default::default);
    &WRITERS
}

fn writer_of(pool: &SqlitePool) -> Arc<Writer> {
    let options = pool.connect_options();
    writers()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(options.get_filename().to_path_buf())
        .or_insert_with(|| {
            Arc::new(Writer {
                pool: SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(0)
                    .acquire_timeout(Duration::from_secs(120))
                    .idle_timeout(Some(Duration::from_secs(60)))
                    .max_lifetime(None)
                    .connect_lazy_with((*options).clone()),
                queue: Mutex::new(None),
            })
        })
        .clone()
}

/// Takes the file's writer out of use (the next write opens a new one); returns its pool.
pub(super) fn forget(pool: &SqlitePool) -> Option<SqlitePool> {
    writers()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(pool.connect_options().get_filename())
        .map(|w| w.pool.clone())
}

/// Runs until its queue closes: takes every script waiting, commits them as one transaction
/// and answers each; when that transaction fails, runs them one by one, so a bad script fails
/// alone.
async fn committer(pool: SqlitePool, mut queue: mpsc::UnboundedReceiver<Unit>) {
    while let Some(first) = queue.recv().await {
        let mut values = first.script.values();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && values < MAX_VALUES {
            match queue.try_recv() {
                Ok(unit) => {
                    values += unit.script.values();
                    batch.push(unit);
                }
                Err(_) => break,
            }
        }
        if batch.len() > 1 {
            let mut all = Script::new();
            for unit in &batch {
                all.extend(unit.script.clone());
            }
            if let Ok(mut changed) = transaction(&pool, &all).await {
                for unit in batch {
                    let rest = changed.split_off(unit.script.len());
                    let _ = unit.reply.send(Ok(std::mem::replace(&mut changed, rest)));
                }
                continue;
            }
        }
        for unit in batch {
            let result = transaction(&pool, &unit.script).await;
            let _ = unit.reply.send(result);
        }
    }
}

async fn transaction(pool: &SqlitePool, script: &Script) -> sqlx::Result<Vec<u64>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let changed = tx.run(script).await?;
    tx.commit().await?;
    Ok(changed)
}
