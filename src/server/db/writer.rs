//! How this process writes. On SQLite: through one connection per database file, and scripts
//! from concurrent requests commit together (group commit). On PostgreSQL: the pool, one
//! transaction per script.
//!
//! SQLite allows one writer at a time, and a connection drops its whole page cache whenever
//! another connection has committed: writes spread over the read pool each started cold,
//! re-reading every B-tree page they touched. The writer's cache stays warm. Each command to a
//! connection is a hand-off to its thread and back; a transaction per request (begin, script,
//! commit, each waiting for the last) kept the one writer mostly waiting. The committer takes
//! every script waiting at that moment and runs them in one transaction (begin, each script,
//! commit): one commit for all, and each script's statements are the same text every time, so
//! the connection has them prepared already. (Joining the scripts of a batch into one text
//! saved hand-offs but made SQLite parse every statement again: slower.)
use super::script::{RunScript, Script};
use super::Db;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Scripts one transaction takes at most (and bound values, under SQLite's limit per statement).
const MAX_BATCH: usize = 64;
/// Scripts that may wait for the writer: past this, a write is refused at once
/// ([`sqlx::Error::PoolTimedOut`], which answers 503 with `Retry-After`) instead of queueing
/// without bound while the database cannot keep up.
pub const MAX_QUEUED: usize = 4096;
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
    /// Scripts in the queue now, and how many may be.
    queued: Arc<AtomicUsize>,
    limit: AtomicUsize,
}

impl Writer {
    fn submit(&self, unit: Unit) {
        if self.queued.load(Ordering::Relaxed) >= self.limit.load(Ordering::Relaxed) {
            let _ = unit.reply.send(Err(sqlx::Error::PoolTimedOut));
            return;
        }
        self.queued.fetch_add(1, Ordering::Relaxed);
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let unit = match queue.as_ref() {
            Some(q) => match q.send(unit) {
                Ok(()) => return,
                Err(mpsc::error::SendError(unit)) => unit,
            },
            None => unit,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        // The old queue's scripts went with its task: only this one waits now.
        self.queued.store(1, Ordering::Relaxed);
        tokio::spawn(committer(self.pool.clone(), rx, self.queued.clone()));
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
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(120))
                    .idle_timeout(Some(Duration::from_secs(60)))
                    .max_lifetime(None)
                    // Every script shape stays prepared (the default keeps 100 statements).
                    .connect_lazy_with((*options).clone().statement_cache_capacity(1000)),
                queue: Mutex::new(None),
                queued: Arc::default(),
                limit: AtomicUsize::new(MAX_QUEUED),
            })
        })
        .clone()
}

/// How many scripts may wait for this file's writer (tests lower it).
pub fn limit_queue(pool: &SqlitePool, max: usize) {
    writer_of(pool).limit.store(max, Ordering::Relaxed);
}

/// How many scripts wait for this file's writer now.
pub fn queued(pool: &SqlitePool) -> usize {
    writer_of(pool).queued.load(Ordering::Relaxed)
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
/// alone. It keeps the connection for the next round while scripts are waiting (a few rounds
/// at most, then the other writers of this process get their turn).
async fn committer(
    pool: SqlitePool,
    queue: mpsc::UnboundedReceiver<Unit>,
    queued: Arc<AtomicUsize>,
) {
    let mut queue = Counted { queue, queued };
    // Two: longer turns kept the delivery workers' job claims waiting (slower deliveries).
    const ROUNDS: usize = 2;
    let mut pending: Option<Unit> = None;
    loop {
        let first = match pending.take() {
            Some(unit) => unit,
            None => match queue.recv().await {
                Some(unit) => unit,
                None => return,
            },
        };
        let mut conn = match pool.acquire().await {
            Ok(conn) => Guarded { conn, armed: false },
            Err(e) => {
                let _ = first.reply.send(Err(e));
                continue;
            }
        };
        let mut next = Some(first);
        for _ in 0..ROUNDS {
            let Some(first) = next.take() else { break };
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
            crate::server::metrics::writer_batch(batch.len());
            let scripts: Vec<&Script> = batch.iter().map(|u| &u.script).collect();
            match transaction(&mut conn, &scripts).await {
                Ok(changed) => {
                    for (unit, changed) in batch.into_iter().zip(changed) {
                        let _ = unit.reply.send(Ok(changed));
                    }
                }
                Err(e) if batch.len() == 1 || conn.armed => {
                    // Alone, or the connection is unusable: the error is the answer.
                    let message = e.to_string();
                    let mut first_error = Some(e);
                    for unit in batch {
                        let e = first_error
                            .take()
                            .unwrap_or_else(|| sqlx::Error::Protocol(message.clone()));
                        let _ = unit.reply.send(Err(e));
                    }
                }
                Err(_) => {
                    for unit in batch {
                        let result = transaction(&mut conn, &[&unit.script]).await;
                        let _ = unit.reply.send(result.map(|mut c| c.remove(0)));
                    }
                }
            }
            if conn.armed {
                // A rollback failed: this connection is closed; the next round takes another.
                break;
            }
            next = queue.try_recv().ok();
        }
        pending = next;
    }
}

/// One transaction on the writer connection: begin, each script (as the same statements every
/// time, which the connection has prepared already), commit. On an error it rolls back; if
/// even that fails the connection is marked to be closed (which rolls back).
async fn transaction(conn: &mut Guarded, scripts: &[&Script]) -> sqlx::Result<Vec<Vec<u64>>> {
    use sqlx::Executor;
    conn.armed = true;
    let mut changed = Vec::with_capacity(scripts.len());
    let result: sqlx::Result<()> = async {
        conn.conn.execute("BEGIN IMMEDIATE").await?;
        for script in scripts {
            changed.push(script.run_sqlite(&mut conn.conn).await?);
        }
        conn.conn.execute("COMMIT").await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            conn.armed = false;
            Ok(changed)
        }
        Err(e) => {
            if conn.conn.execute("ROLLBACK").await.is_ok() {
                conn.armed = false;
            }
            Err(e)
        }
    }
}

/// The writer connection while a transaction of ours may be open on it: if the committer is
/// dropped mid-way (its runtime ends) or a rollback failed, the connection is closed, never
/// returned to the pool with a transaction open.
struct Guarded {
    conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    armed: bool,
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if self.armed {
            self.conn.close_on_drop();
        }
    }
}

/// The committer's end of the queue, keeping the count of waiting scripts.
struct Counted {
    queue: mpsc::UnboundedReceiver<Unit>,
    queued: Arc<AtomicUsize>,
}

impl Counted {
    fn took(&self, unit: Option<Unit>) -> Option<Unit> {
        if unit.is_some() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
        unit
    }

    async fn recv(&mut self) -> Option<Unit> {
        let unit = self.queue.recv().await;
        self.took(unit)
    }

    fn try_recv(&mut self) -> Result<Unit, mpsc::error::TryRecvError> {
        let unit = self.queue.try_recv();
        if unit.is_ok() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
        unit
    }
}
