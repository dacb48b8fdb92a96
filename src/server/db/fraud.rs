//! The fraud guard's store: hourly counts of phone OTPs sent and verified per prefix and
//! country (`fraud_counts`, kept by triggers on `otps`), and the prefixes it blocked
//! (`fraud_blocks`).
use crate::args;
use crate::domain::fraud::HOUR_MS;
use crate::domain::{AccountSid, Channel};
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::db::script::Script;
use crate::server::db::Db;

/// The counter scope of a number prefix and of a country.
pub fn prefix_scope(prefix: &str) -> String {
    format!("p{prefix}")
}

pub fn country_scope(country: &str) -> String {
    format!("c{country}")
}

/// `(hour, sent, verified)` of each scope over the last week and the current hour, by scope
/// (one indexed query; PostgreSQL keeps each count in shards, added up here).
pub async fn hours(
    db: &Db,
    account: &AccountSid,
    scopes: &[String],
    now: Millis,
) -> anyhow::Result<Vec<(String, i64, i64, i64)>> {
    let from = now.div_euclid(HOUR_MS) - 24 * 7;
    let (a, b) = match scopes {
        [a] => (a.as_str(), a.as_str()),
        [a, b, ..] => (a.as_str(), b.as_str()),
        [] => return Ok(Vec::new()),
    };
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT scope, hour, CAST(SUM(sent) AS BIGINT), CAST(SUM(verified) AS BIGINT) FROM fraud_counts \
         WHERE account_sid = $1 AND scope IN ($2, $3) AND hour >= $4 GROUP BY scope, hour")
        .bind(account.as_str()).bind(a).bind(b).bind(from)
        .fetch_all(pool).await)?)
}

/// A block of a prefix for a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub prefix: String,
    pub channel: Channel,
    pub country_code: Option<String>,
    pub reason: String,
    pub since: Millis,
    pub until: Millis,
    pub lifted_at: Option<Millis>,
    pub lifted_by: Option<String>,
}

type Row = (
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);

fn block_of(r: Row) -> Option<Block> {
    Some(Block {
        prefix: r.0,
        channel: Channel::parse(&r.1)?,
        country_code: r.2,
        reason: r.3,
        since: r.4,
        until: r.5,
        lifted_at: r.6,
        lifted_by: r.7,
    })
}

const COLUMNS: &str =
    "prefix, channel, country_code, reason, since, until, lifted_at, lifted_by FROM fraud_blocks";

/// The blocks of a prefix (ended and lifted ones too), any channel.
pub async fn of_prefix(db: &Db, account: &AccountSid, prefix: &str) -> anyhow::Result<Vec<Block>> {
    let sql = format!("SELECT {COLUMNS} WHERE account_sid = $1 AND prefix = $2");
    let rows: Vec<Row> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(account.as_str()).bind(prefix).fetch_all(pool).await)?;
    Ok(rows.into_iter().filter_map(block_of).collect())
}

/// The blocks in force at `now`, newest first.
pub async fn current(db: &Db, account: &AccountSid, now: Millis) -> anyhow::Result<Vec<Block>> {
    let sql = format!(
        "SELECT {COLUMNS} WHERE account_sid = $1 AND until > $2 AND lifted_at IS NULL \
         ORDER BY since DESC, prefix, channel LIMIT 1000"
    );
    let rows: Vec<Row> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(account.as_str()).bind(now).fetch_all(pool).await)?;
    Ok(rows.into_iter().filter_map(block_of).collect())
}

/// Blocks a prefix for a channel (again), in the script of the send that tripped it.
pub fn block(s: &mut Script, account: &AccountSid, b: &Block) {
    s.push(
        "INSERT INTO fraud_blocks (account_sid, prefix, channel, country_code, reason, since, until) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (account_sid, prefix, channel) DO UPDATE SET country_code = excluded.country_code, \
         reason = excluded.reason, since = excluded.since, until = excluded.until, \
         lifted_at = NULL, lifted_by = NULL",
        args![
            account.as_str(),
            b.prefix.as_str(),
            b.channel.as_str(),
            b.country_code.as_deref(),
            b.reason.as_str(),
            b.since,
            b.until
        ],
    );
}

/// Lifts the blocks of a prefix in force at `now` (every channel), in `script`.
pub fn lift(s: &mut Script, account: &AccountSid, prefix: &str, by: &str, now: Millis) {
    s.push(
        "UPDATE fraud_blocks SET lifted_at = $3, lifted_by = $4 \
         WHERE account_sid = $1 AND prefix = $2 AND lifted_at IS NULL AND until > $3",
        args![account.as_str(), prefix, now, by],
    );
}
