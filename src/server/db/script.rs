//! A script: several write statements that run as one step of a transaction. On SQLite they go
//! to the connection's thread as one multi-statement query (one hand-off instead of one per
//! statement: under load the hand-offs, not SQLite, were most of the time a writer held the
//! write lock); on PostgreSQL they run one after the other on the same transaction.
//!
//! Statements are written with their own `$1…$n`; the script renumbers them when it joins them.
//! Nothing in Rust runs between the statements, so a statement that must only run when another
//! one changes a row says so in SQL: put it *before* the change, on the change's own condition
//! (`… WHERE EXISTS (SELECT 1 FROM otps WHERE sid = $1 AND status IN (…))`), which is exactly
//! "the change will happen" as long as the statements in between do not touch what it tests.
//!
//! (sqlx 0.8 runs several statements of one SQLite query in order; it calls that behaviour
//! deprecated for a later version. The tests of this module fail if it ever changes.)
use sqlx::{Arguments, Executor};

/// One bound value. 32- and 64-bit integers stay apart: PostgreSQL caches a statement with
/// the types it was first bound with, and code elsewhere binds the same SQL with `i32`.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(Option<i64>),
    Int4(Option<i32>),
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<i32> for Arg {
    fn from(v: i32) -> Self {
        Arg::Int4(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i32>> for Arg {
    fn from(v: Option<i32>) -> Self {
        Arg::Int4(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

/// `args![a, b, c]`: the values of one statement, in `$1, $2, $3` order.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        vec![$($crate::server::db::script::Arg::from($v)),*]
    };
}

#[derive(Debug, Default, Clone)]
pub struct Script {
    statements: Vec<(String, Vec<Arg>)>,
    guard: Option<Guard>,
}

/// A condition a script commits on, checked in the script's own transaction (so it sees every
/// script committed before it, also those of the same group commit): a query answering one
/// row of counts, each of which must be below its maximum. PostgreSQL first takes a
/// transaction-scoped advisory lock on `lock`, so scripts guarded on the same key are checked
/// one after the other, also across server instances.
#[derive(Debug, Clone)]
pub struct Guard {
    pub sql: String,
    pub args: Vec<Arg>,
    pub below: Vec<i64>,
    pub lock: String,
}

impl Guard {
    fn holds(&self, counts: &[i64]) -> bool {
        counts.len() == self.below.len() && counts.iter().zip(&self.below).all(|(c, max)| c < max)
    }

    /// The counts of the guard's answer row, checked against their maximums.
    fn holds_row<R: sqlx::Row>(&self, row: &R) -> sqlx::Result<bool>
    where
        usize: sqlx::ColumnIndex<R>,
        i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        let counts = (0..self.below.len())
            .map(|i| row.try_get::<i64, _>(i))
            .collect::<sqlx::Result<Vec<i64>>>()?;
        Ok(self.holds(&counts))
    }

    async fn holds_sqlite(&self, conn: &mut sqlx::SqliteConnection) -> sqlx::Result<bool> {
        let args: sqlx::sqlite::SqliteArguments = arguments(&self.args)?;
        let row = (&mut *conn)
            .fetch_one(sqlx::query_with(&self.sql, args))
            .await?;
        self.holds_row(&row)
    }

    async fn holds_postgres(&self, conn: &mut sqlx::PgConnection) -> sqlx::Result<bool> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(&self.lock)
            .execute(&mut *conn)
            .await?;
        let args: sqlx::postgres::PgArguments = arguments(&self.args)?;
        let row = (&mut *conn)
            .fetch_one(sqlx::query_with(&self.sql, args))
            .await?;
        self.holds_row(&row)
    }
}

/// Did a guarded script run nothing because its guard did not hold? (It answers no counts.)
pub fn refused(changed: &[u64]) -> bool {
    changed.is_empty()
}

impl Script {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a statement with its own `$1…$n` and their values.
    pub fn push(&mut self, sql: impl Into<String>, args: Vec<Arg>) -> &mut Self {
        self.statements.push((sql.into(), args));
        self
    }

    /// Appends another script's statements.
    pub fn extend(&mut self, other: Script) -> &mut Self {
        self.statements.extend(other.statements);
        if self.guard.is_none() {
            self.guard = other.guard;
        }
        self
    }

    /// Each statement's text (with its own `$1…`).
    pub fn statements(&self) -> impl Iterator<Item = &str> {
        self.statements.iter().map(|(sql, _)| sql.as_str())
    }

    /// How many values its statements bind.
    pub fn values(&self) -> usize {
        self.statements.iter().map(|(_, args)| args.len()).sum()
    }

    pub fn len(&self) -> usize {
        self.statements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Runs only while `guard` holds (see [`Guard`]); otherwise nothing runs and the script
    /// answers no counts ([`refused`]).
    pub fn guarded(mut self, guard: Guard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// The statements joined into one text, parameters renumbered into one list (SQLite).
    fn joined(&self) -> (String, Vec<&Arg>) {
        let mut sql = String::new();
        let mut args = Vec::new();
        for (text, own) in &self.statements {
            sql.push_str(&renumber(text, args.len()));
            sql.push_str(";\n");
            args.extend(own.iter());
        }
        (sql, args)
    }

    /// Runs every statement on this SQLite connection (normally inside a write transaction);
    /// returns the rows each one changed, in order. Stops at the first error.
    pub async fn run_sqlite(&self, conn: &mut sqlx::SqliteConnection) -> sqlx::Result<Vec<u64>> {
        use futures::TryStreamExt;
        if self.statements.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(g) = &self.guard {
            if !g.holds_sqlite(conn).await? {
                return Ok(Vec::new());
            }
        }
        let (sql, values) = self.joined();
        let args: sqlx::sqlite::SqliteArguments = arguments(values)?;
        let mut stream = (&mut *conn).fetch_many(sqlx::query_with(&sql, args));
        let mut changed = Vec::with_capacity(self.statements.len());
        while let Some(item) = stream.try_next().await? {
            if let sqlx::Either::Left(done) = item {
                changed.push(done.rows_affected());
            }
        }
        if changed.len() != self.statements.len() {
            return Err(sqlx::Error::Protocol(format!(
                "script ran {} of {} statements",
                changed.len(),
                self.statements.len()
            )));
        }
        Ok(changed)
    }

    /// Runs every statement on this PostgreSQL connection, one after the other.
    pub async fn run_postgres(&self, conn: &mut sqlx::PgConnection) -> sqlx::Result<Vec<u64>> {
        if let Some(g) = &self.guard {
            if !g.holds_postgres(conn).await? {
                return Ok(Vec::new());
            }
        }
        let mut changed = Vec::with_capacity(self.statements.len());
        for (sql, own) in &self.statements {
            let args: sqlx::postgres::PgArguments = arguments(own)?;
            changed.push(
                (&mut *conn)
                    .execute(sqlx::query_with(sql, args))
                    .await?
                    .rows_affected(),
            );
        }
        Ok(changed)
    }
}

/// The values as one backend's bind arguments.
fn arguments<'q, A>(values: impl IntoIterator<Item = &'q Arg>) -> sqlx::Result<A>
where
    A: Arguments<'q> + Default,
    Option<i64>: sqlx::Encode<'q, A::Database> + sqlx::Type<A::Database>,
    Option<i32>: sqlx::Encode<'q, A::Database> + sqlx::Type<A::Database>,
    Option<String>: sqlx::Encode<'q, A::Database> + sqlx::Type<A::Database>,
{
    let mut args = A::default();
    for v in values {
        match v {
            Arg::Int(i) => args.add(*i),
            Arg::Int4(i) => args.add(*i),
            Arg::Text(t) => args.add(t.clone()),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(args)
}

/// Runs a script on whichever connection type the `on_db!` arm has (`&mut *tx`).
pub trait RunScript {
    fn run<'a>(
        &'a mut self,
        script: &'a Script,
    ) -> futures::future::BoxFuture<'a, sqlx::Result<Vec<u64>>>;
}

impl RunScript for sqlx::SqliteConnection {
    fn run<'a>(
        &'a mut self,
        script: &'a Script,
    ) -> futures::future::BoxFuture<'a, sqlx::Result<Vec<u64>>> {
        Box::pin(script.run_sqlite(self))
    }
}

impl RunScript for sqlx::PgConnection {
    fn run<'a>(
        &'a mut self,
        script: &'a Script,
    ) -> futures::future::BoxFuture<'a, sqlx::Result<Vec<u64>>> {
        Box::pin(script.run_postgres(self))
    }
}

/// `$3` → `$(3 + offset)` outside quoted text.
pub(crate) fn renumber(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                let mut n = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    chars.next();
                }
                out.push('$');
                out.push_str(&(n + offset).to_string());
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renumbers_parameters_outside_quotes() {
        assert_eq!(
            renumber(
                "UPDATE t SET a = $1, b = '$2' WHERE c = $12 AND d = \"$1\"",
                3
            ),
            "UPDATE t SET a = $4, b = '$2' WHERE c = $15 AND d = \"$1\""
        );
        assert_eq!(renumber("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn joins_statements_and_their_values() {
        let mut s = Script::new();
        s.push(
            "INSERT INTO t (a, b) VALUES ($1, $2)",
            crate::args![1i64, "x"],
        );
        s.push(
            "UPDATE t SET b = $2 WHERE a = $1",
            crate::args![1i64, None::<String>],
        );
        let (sql, args) = s.joined();
        assert_eq!(
            sql,
            "INSERT INTO t (a, b) VALUES ($1, $2);\nUPDATE t SET b = $4 WHERE a = $3;\n"
        );
        assert_eq!(args.len(), 4);
        assert_eq!(*args[3], Arg::Text(None));
    }
}
