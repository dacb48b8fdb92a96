//! Finding OTPs: filters over the indexed columns, newest first, by offset (the API's `Page`)
//! or by position (a keyset walk: page 20 000 costs what page 1 costs).
use super::{to_otps, OtpRow, COLUMNS};
use crate::domain::{AccountSid, Channel, Otp, OtpSid, OtpStatus};
use crate::on_db;
use crate::server::clock::Millis;
use crate::server::db::script::Arg;
use crate::server::db::{bind_args, Db};

/// Which OTPs of an account to find. Destinations are matched as stored (normalized).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtpFilter {
    pub to: Option<String>,
    pub email_to: Option<String>,
    pub request_id: Option<String>,
    pub service: Option<String>,
    pub channel: Option<Channel>,
    pub status: Option<OtpStatus>,
    pub country_code: Option<String>,
    pub reference: Option<String>,
    /// Created at or after.
    pub created_from: Option<Millis>,
    /// Created before.
    pub created_before: Option<Millis>,
}

/// The filter as SQL over `args` (the account first).
struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    fn of(account: &AccountSid, f: &OtpFilter) -> Self {
        let mut w = Where {
            clauses: vec!["account_sid = $1".to_owned()],
            args: vec![Arg::from(account.as_str())],
        };
        let texts = [
            ("to_number", &f.to),
            ("email_to", &f.email_to),
            ("sid", &f.request_id),
            ("service", &f.service),
        ];
        for (column, value) in texts {
            if let Some(v) = value {
                w.push(&format!("{column} ="), Arg::from(v.as_str()));
            }
        }
        if let Some(c) = f.channel {
            w.push("channel =", Arg::from(c.as_str()));
        }
        if let Some(s) = f.status {
            w.push("status =", Arg::from(s.as_str()));
        }
        for (column, value) in [
            ("country_code", &f.country_code),
            ("reference", &f.reference),
        ] {
            if let Some(v) = value {
                w.push(&format!("{column} ="), Arg::from(v.as_str()));
            }
        }
        if let Some(t) = f.created_from {
            w.push("date_created >=", Arg::from(t));
        }
        if let Some(t) = f.created_before {
            w.push("date_created <", Arg::from(t));
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

/// One page by offset, newest first, and how many match in all (counted up to
/// [`COUNT_CAP`](crate::server::db::COUNT_CAP); the flag says the total is a floor).
pub async fn page(
    db: &Db,
    account: &AccountSid,
    filter: &OtpFilter,
    limit: i64,
    offset: i64,
) -> anyhow::Result<(Vec<Otp>, i64, bool)> {
    let w = Where::of(account, filter);
    let n = w.args.len();
    let list_sql = format!(
        "SELECT {COLUMNS} FROM otps WHERE {} ORDER BY date_created DESC, sid DESC LIMIT ${} OFFSET ${}",
        w.sql(),
        n + 1,
        n + 2
    );
    // Ordered like the list, so the planner walks the same index (and stops at the cap).
    let count_sql = crate::server::db::capped_count_sql(&format!(
        "otps WHERE {} ORDER BY date_created DESC, sid DESC",
        w.sql()
    ));
    let (rows, total, capped) =
        crate::server::db::page_of::<OtpRow>(db, &list_sql, &count_sql, &w.args, limit, offset)
            .await?;
    Ok((to_otps(rows)?, total, capped))
}

/// How many OTPs match, counted up to [`COUNT_CAP`](crate::server::db::COUNT_CAP), and whether
/// more did.
pub async fn count(
    db: &Db,
    account: &AccountSid,
    filter: &OtpFilter,
) -> anyhow::Result<(i64, bool)> {
    let counted = count_capped(db, account, filter, crate::server::db::COUNT_CAP + 1).await?;
    Ok(crate::server::db::capped_total(counted))
}

/// How many OTPs match, counting at most `cap` (so the answer stays quick on huge histories).
pub async fn count_capped(
    db: &Db,
    account: &AccountSid,
    filter: &OtpFilter,
    cap: i64,
) -> anyhow::Result<i64> {
    let w = Where::of(account, filter);
    let sql = format!(
        // Ordered like the list, so the planner walks the same index (and stops at the cap).
        "SELECT COUNT(*) FROM (SELECT 1 FROM otps WHERE {} ORDER BY date_created DESC, sid DESC LIMIT ${}) AS capped",
        w.sql(),
        w.args.len() + 1
    );
    Ok(
        on_db!(db, pool => bind_args!(sqlx::query_scalar::<_, i64>(&sql), &w.args)
        .bind(cap).fetch_one(pool).await)?,
    )
}

/// A position in the newest-first order: `(date_created, sid)` of an OTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub date_created: Millis,
    pub sid: OtpSid,
}

impl Cursor {
    pub fn of(otp: &Otp) -> Self {
        Cursor {
            date_created: otp.date_created,
            sid: otp.sid.clone(),
        }
    }

    /// `<millis>.<sid>`, as it travels in console URLs.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.date_created, self.sid)
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let (ms, sid) = raw.trim().split_once('.')?;
        Some(Cursor {
            date_created: ms.parse().ok()?,
            sid: OtpSid::parse(sid).ok()?,
        })
    }
}

/// The position of one of the account's OTPs.
pub async fn cursor_of(
    db: &Db,
    account: &AccountSid,
    sid: &OtpSid,
) -> anyhow::Result<Option<Cursor>> {
    let date_created: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT date_created FROM otps WHERE sid = $1 AND account_sid = $2")
        .bind(sid.as_str()).bind(account.as_str()).fetch_optional(pool).await)?;
    Ok(date_created.map(|date_created| Cursor {
        date_created,
        sid: sid.clone(),
    }))
}

/// Which page of a keyset walk: the first, the OTPs older than a cursor, or newer than it.
#[derive(Debug, Clone)]
pub enum Seek {
    First,
    Older(Cursor),
    Newer(Cursor),
}

/// One page, newest first, found by position. Returns the OTPs and whether more exist beyond
/// them in the direction walked.
pub async fn keyset(
    db: &Db,
    account: &AccountSid,
    filter: &OtpFilter,
    seek: &Seek,
    limit: i64,
) -> anyhow::Result<(Vec<Otp>, bool)> {
    let mut w = Where::of(account, filter);
    let newer = matches!(seek, Seek::Newer(_));
    if let Seek::Older(c) | Seek::Newer(c) = seek {
        w.args.push(Arg::from(c.date_created));
        w.args.push(Arg::from(c.sid.as_str()));
        let op = if newer { ">" } else { "<" };
        w.clauses.push(format!(
            "(date_created, sid) {op} (${}, ${})",
            w.args.len() - 1,
            w.args.len()
        ));
    }
    let order = if newer { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {COLUMNS} FROM otps WHERE {} ORDER BY date_created {order}, sid {order} LIMIT ${}",
        w.sql(),
        w.args.len() + 1
    );
    let mut rows: Vec<OtpRow> = on_db!(db, pool => bind_args!(sqlx::query_as::<_, OtpRow>(&sql), &w.args)
        .bind(limit + 1).fetch_all(pool).await)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if newer {
        rows.reverse();
    }
    Ok((to_otps(rows)?, more))
}
