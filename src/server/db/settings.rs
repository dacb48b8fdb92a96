//! Account settings (`account_settings`): one row per account that set any; a NULL column is
//! not set (the parent's applies, else the built-in default).
use crate::args;
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::db::script::Script;
use crate::server::db::Db;

/// What the given accounts set for "press a key before the code", by account.
pub async fn voice_press_key(
    db: &Db,
    accounts: &[&str],
) -> anyhow::Result<Vec<(String, Option<i64>)>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let list = (1..=accounts.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT account_sid, CAST(voice_press_key AS BIGINT) FROM account_settings WHERE account_sid IN ({list})"
    );
    Ok(on_db!(db, pool => {
        let mut q = sqlx::query_as::<_, (String, Option<i64>)>(&sql);
        for a in accounts {
            q = q.bind(*a);
        }
        q.fetch_all(pool).await
    })?)
}

/// Sets (or, with `None`, unsets) "press a key before the code" for `account`.
pub async fn set_voice_press_key(
    db: &Db,
    account: &str,
    value: Option<bool>,
    now: Millis,
) -> anyhow::Result<()> {
    let mut s = Script::new();
    s.push(
        "INSERT INTO account_settings (account_sid, voice_press_key, date_updated) VALUES ($1, $2, $3) \
         ON CONFLICT (account_sid) DO UPDATE SET voice_press_key = excluded.voice_press_key, \
         date_updated = excluded.date_updated",
        args![account, value.map(i32::from), now],
    );
    crate::server::db::commit_script(db, s).await?;
    Ok(())
}
