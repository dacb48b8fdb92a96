//! Message templates as stored (`message_templates`): an account's own texts per channel and
//! language. The services add the parent's and the built-in ones.
use crate::args;
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::db::script::Script;
use crate::server::db::Db;

/// One stored template.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredTemplate {
    pub account_sid: String,
    pub channel: String,
    pub language: String,
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
    pub date_updated: Millis,
}

const COLUMNS: &str = "account_sid, channel, language, subject, text, html, date_updated";

/// `$from, $from+1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every template of `account` and of its parent (if any), in one query.
pub async fn of_account_and_parent(db: &Db, account: &str) -> anyhow::Result<Vec<StoredTemplate>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM message_templates WHERE account_sid = $1 \
         OR account_sid = (SELECT parent_sid FROM accounts WHERE sid = $1) \
         ORDER BY channel, language"
    );
    Ok(on_db!(db, pool => sqlx::query_as::<_, StoredTemplate>(&sql)
        .bind(account)
        .fetch_all(pool)
        .await)?)
}

/// The templates of `account` and of its parent for `channel` in one of `languages`: one
/// query on the primary key (what a delivery costs).
pub async fn candidates(
    db: &Db,
    account: &str,
    channel: &str,
    languages: &[String],
) -> anyhow::Result<Vec<StoredTemplate>> {
    if languages.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM message_templates WHERE channel = $2 AND language IN ({}) \
         AND (account_sid = $1 OR account_sid = (SELECT parent_sid FROM accounts WHERE sid = $1))",
        placeholders(3, languages.len())
    );
    Ok(on_db!(db, pool => {
        let mut q = sqlx::query_as::<_, StoredTemplate>(&sql).bind(account).bind(channel);
        for l in languages {
            q = q.bind(l.as_str());
        }
        q.fetch_all(pool).await
    })?)
}

/// Writes (inserts or replaces) the account's template for its channel and language.
pub async fn upsert(db: &Db, t: &StoredTemplate) -> anyhow::Result<()> {
    let mut s = Script::new();
    s.push(
        "INSERT INTO message_templates (account_sid, channel, language, subject, text, html, date_updated) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (account_sid, channel, language) DO UPDATE SET subject = excluded.subject, \
         text = excluded.text, html = excluded.html, date_updated = excluded.date_updated",
        args![
            t.account_sid.as_str(),
            t.channel.as_str(),
            t.language.as_str(),
            t.subject.clone(),
            t.text.as_str(),
            t.html.clone(),
            t.date_updated
        ],
    );
    crate::server::db::commit_script(db, s).await?;
    Ok(())
}

/// Removes the account's own template; whether there was one.
pub async fn delete(db: &Db, account: &str, channel: &str, language: &str) -> anyhow::Result<bool> {
    let mut s = Script::new();
    s.push(
        "DELETE FROM message_templates WHERE account_sid = $1 AND channel = $2 AND language = $3",
        args![account, channel, language],
    );
    let changed = crate::server::db::commit_script(db, s).await?;
    Ok(changed.first().copied().unwrap_or(0) > 0)
}
