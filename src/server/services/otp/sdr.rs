//! Session detail records: one OTP with its delivery attempts and timeline, search with
//! filters and paging, and the sandbox outbox.
use super::input::Fields;
use crate::on_db;
use crate::server::clock::{rfc3339, Millis};
use crate::server::db::otps::{AttemptRow, EventRow, OtpRow, SandboxRow, COLUMNS};
use crate::server::db::script::Arg;
use crate::server::db::Db;
use crate::server::services::{AccountScope, ServiceError, ServiceResult};
use serde_json::{json, Map, Value};

/// The OTP `request_id` of the scope's account; anything else (another account, malformed id)
/// is the same 404.
pub async fn load_row(db: &Db, scope: &AccountScope, request_id: &str) -> ServiceResult<OtpRow> {
    let not_found = || ServiceError::not_found("OTP (requestID)");
    let sid = crate::domain::OtpSid::parse(request_id.trim()).map_err(|_| not_found())?;
    let sql = format!("SELECT {COLUMNS} FROM otps WHERE sid = $1 AND account_sid = $2");
    let row = on_db!(db, pool => sqlx::query_as::<_, OtpRow>(&sql).bind(sid.as_str()).bind(scope.sid().as_str()).fetch_optional(pool).await)?;
    row.ok_or_else(not_found)
}

pub async fn reload(db: &Db, sid: &str) -> ServiceResult<OtpRow> {
    let sql = format!("SELECT {COLUMNS} FROM otps WHERE sid = $1");
    let row =
        on_db!(db, pool => sqlx::query_as::<_, OtpRow>(&sql).bind(sid).fetch_optional(pool).await)?;
    row.ok_or_else(|| ServiceError::not_found("OTP"))
}

fn ts(ms: Option<Millis>) -> Value {
    ms.map(|m| Value::String(rfc3339(m))).unwrap_or(Value::Null)
}

/// The SDR fields of one row (without timeline and attempts).
pub fn summary(row: &OtpRow) -> Value {
    let attempts_left = if row.status == "max_attempts" {
        0
    } else {
        (row.max_attempts - row.verify_attempts).max(0)
    };
    let limits: Value = row
        .limits
        .as_deref()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(json!({}));
    json!({
        "requestID": row.sid,
        "accountSid": row.account_sid,
        "service": row.service,
        "reference": row.reference,
        "channel": row.channel,
        "workflow": row.workflow.split(',').collect::<Vec<_>>(),
        "to": row.to_number,
        "from": row.from_sender,
        "emailTo": row.email_to,
        "emailFrom": row.email_from,
        "countryCode": row.country_code,
        "language": row.language,
        "status": row.status,
        "cancelReason": row.cancel_reason,
        "codeLength": row.code_length,
        "codeType": row.code_type,
        "expiresAt": rfc3339(row.expires_at),
        "maxAttempts": row.max_attempts,
        "verifyAttempts": row.verify_attempts,
        "attemptsLeft": attempts_left,
        "limits": limits,
        "price": format!("{:.4}", row.price as f64 / 1_000_000.0),
        "priceUnit": row.price_unit,
        "dateCreated": rfc3339(row.date_created),
        "dateUpdated": rfc3339(row.date_updated),
        "sentAt": ts(row.sent_at),
        "deliveredAt": ts(row.delivered_at),
        "verifiedAt": ts(row.verified_at),
        "canceledAt": ts(row.canceled_at),
        "uri": format!("/2fa/search/{}", row.sid),
    })
}

/// The whole SDR: fields, delivery attempts and the event timeline.
/// `GET /2fa/search/{requestID}` (with optional `accountSid`).
pub async fn detail(
    db: &Db,
    caller: &AccountScope,
    raw: &Map<String, Value>,
    request_id: &str,
) -> ServiceResult<Value> {
    let scope = Fields(raw).scope(db, caller).await?;
    let row = load_row(db, &scope, request_id).await?;
    let (attempts, events): (Vec<AttemptRow>, Vec<EventRow>) = on_db!(db, pool => {
        let a = sqlx::query_as::<_, AttemptRow>(
            "SELECT channel, provider, provider_sid, status, error, date_created FROM delivery_attempts WHERE otp_sid = $1 ORDER BY id")
            .bind(&row.sid).fetch_all(pool).await?;
        let e = sqlx::query_as::<_, EventRow>("SELECT at, type, detail FROM otp_events WHERE otp_sid = $1 ORDER BY id")
            .bind(&row.sid).fetch_all(pool).await?;
        (a, e)
    });
    let mut sdr = summary(&row);
    sdr["deliveryAttempts"] = attempts
        .iter()
        .map(|a| json!({"channel": a.channel, "provider": a.provider, "providerSid": a.provider_sid, "status": a.status, "error": a.error, "dateCreated": rfc3339(a.date_created)}))
        .collect();
    sdr["events"] = events
        .iter()
        .map(|e| json!({"type": e.kind, "at": rfc3339(e.at), "detail": serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::Null)}))
        .collect();
    Ok(sdr)
}

/// Paging as the API describes it: `Page` (0-based) and `PageSize` (1–1000, default 50).
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: i64,
    pub page_size: i64,
}

impl Paging {
    pub fn parse(f: &Fields) -> ServiceResult<Self> {
        Ok(Paging {
            page: f.int("Page", 0, 1_000_000)?.unwrap_or(0),
            page_size: f.int("PageSize", 1, 1000)?.unwrap_or(50),
        })
    }

    /// The link to `page` of a list: the path, the filters' query string, the page and its size.
    pub fn uri(&self, path: &str, query: &[(String, String)], page: i64) -> String {
        let mut q = query.to_vec();
        q.push(("Page".into(), page.to_string()));
        q.push(("PageSize".into(), self.page_size.to_string()));
        format!("{path}?{}", crate::domain::url::query_string(&q))
    }

    /// The paging fields of a list answer; `uri` is the path with the filters' query string.
    pub fn envelope(
        &self,
        total: i64,
        returned: usize,
        path: &str,
        query: &[(String, String)],
    ) -> Map<String, Value> {
        let num_pages = if total == 0 {
            0
        } else {
            (total + self.page_size - 1) / self.page_size
        };
        let link = |page: i64| self.uri(path, query, page);
        let start = self.page * self.page_size;
        let mut m = Map::new();
        m.insert("page".into(), self.page.into());
        m.insert("pageSize".into(), self.page_size.into());
        m.insert("numPages".into(), num_pages.into());
        m.insert("total".into(), total.into());
        m.insert("start".into(), start.into());
        m.insert(
            "end".into(),
            (start + returned as i64 - 1).max(start).into(),
        );
        m.insert("uri".into(), link(self.page).into());
        m.insert("firstPageUri".into(), link(0).into());
        m.insert(
            "previousPageUri".into(),
            if self.page > 0 {
                link(self.page - 1).into()
            } else {
                Value::Null
            },
        );
        m.insert(
            "nextPageUri".into(),
            if self.page + 1 < num_pages {
                link(self.page + 1).into()
            } else {
                Value::Null
            },
        );
        m.insert(
            "lastPageUri".into(),
            if num_pages > 0 {
                link(num_pages - 1).into()
            } else {
                Value::Null
            },
        );
        m
    }
}

/// Binds every filter argument to a query, in order.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
                Arg::Int4(i) => q.bind(*i),
            };
        }
        q
    }};
}

/// One page of a filtered list and the total: `list_sql` takes `args` then LIMIT and OFFSET,
/// `count_sql` takes `args`.
async fn fetch_page<R>(
    db: &Db,
    list_sql: &str,
    count_sql: &str,
    args: &[Arg],
    paging: Paging,
) -> ServiceResult<(Vec<R>, i64)>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    Ok(on_db!(db, pool => {
        let offset = paging.page * paging.page_size;
        let rows = bind_args!(sqlx::query_as::<_, R>(list_sql), args)
            .bind(paging.page_size).bind(offset).fetch_all(pool).await?;
        // A short page (not past the end) is the last one: the total needs no second query.
        let last = (rows.len() as i64) < paging.page_size && (!rows.is_empty() || paging.page == 0);
        let total = if last {
            offset + rows.len() as i64
        } else {
            bind_args!(sqlx::query_scalar::<_, i64>(count_sql), args).fetch_one(pool).await?
        };
        (rows, total)
    }))
}

/// The filters of an OTP search as SQL: `clauses` over `args` (the account first), and the
/// normalized filters to echo in paging links.
pub struct OtpFilter {
    clauses: Vec<String>,
    args: Vec<Arg>,
    pub echo: Vec<(String, String)>,
}

impl OtpFilter {
    /// Filters `to, emailTo, requestID, service, channel, status, countryCode, reference,
    /// startTime, endTime` of the scope's account.
    pub fn parse(f: &Fields, scope: &AccountScope) -> ServiceResult<Self> {
        let mut me = OtpFilter {
            clauses: vec!["account_sid = $1".to_owned()],
            args: vec![Arg::from(scope.sid().to_string())],
            echo: Vec::new(),
        };
        // Destinations are matched as they are stored (normalized): one that could never have
        // been sent to is an error that says why, not an empty answer.
        if let Some(to) = f.text("to", 1, 64)? {
            let value = super::params::phone_to_find("to", &to)?;
            me.add("to", "to_number", "=", Arg::from(value));
        }
        if let Some(e) = f.text("emailTo", 1, 254)? {
            let value = super::params::parse_email("emailTo", &e)?;
            me.add("emailTo", "email_to", "=", Arg::from(value.as_str()));
        }
        if let Some(id) = f.text("requestID", 1, 64)? {
            me.add("requestID", "sid", "=", Arg::from(id.trim().to_owned()));
        }
        if let Some(s) = f.text("service", 1, 64)? {
            me.add("service", "service", "=", Arg::from(s));
        }
        if let Some(ch) = f.channel()? {
            me.add("channel", "channel", "=", Arg::from(ch.as_str()));
        }
        if let Some(st) = f.status()? {
            me.add("status", "status", "=", Arg::from(st.as_str()));
        }
        if let Some(c) = f.country_code()? {
            me.add("countryCode", "country_code", "=", Arg::from(c));
        }
        if let Some(r) = f.text("reference", 1, 128)? {
            me.add("reference", "reference", "=", Arg::from(r));
        }
        let start = f.string("startTime")?;
        let end = f.string("endTime")?;
        let start_ms = start
            .as_deref()
            .map(|s| parse_time("startTime", s, false))
            .transpose()?;
        let end_ms = end
            .as_deref()
            .map(|s| parse_time("endTime", s, true))
            .transpose()?;
        if let (Some(a), Some(b)) = (start_ms, end_ms) {
            if a > b {
                return Err(ServiceError::invalid(
                    "endTime",
                    "endTime must not be before startTime.",
                ));
            }
        }
        if let (Some(raw), Some(a)) = (start, start_ms) {
            me.echo.push(("startTime".into(), raw));
            me.push("date_created >=", Arg::from(a));
        }
        if let (Some(raw), Some(b)) = (end, end_ms) {
            me.echo.push(("endTime".into(), raw));
            me.push("date_created <", Arg::from(b));
        }
        Ok(me)
    }

    fn add(&mut self, field: &str, column: &str, op: &str, arg: Arg) {
        if let Arg::Text(Some(v)) = &arg {
            self.echo.push((field.to_owned(), v.clone()));
        }
        self.push(&format!("{column} {op}"), arg);
    }

    fn push(&mut self, lhs: &str, arg: Arg) {
        self.args.push(arg);
        self.clauses.push(format!("{lhs} ${}", self.args.len()));
    }

    fn where_sql(&self) -> String {
        self.clauses.join(" AND ")
    }
}

/// `GET|POST /2fa/search`: filters as [`OtpFilter`] plus `accountSid`; newest first, paged by
/// `Page`/`PageSize`.
pub async fn search(
    db: &Db,
    caller: &AccountScope,
    raw: &Map<String, Value>,
) -> ServiceResult<Value> {
    let f = Fields(raw);
    let scope = f.scope(db, caller).await?;
    let paging = Paging::parse(&f)?;
    let filter = OtpFilter::parse(&f, &scope)?;
    let after = match f.text("AfterSid", 1, 64)? {
        Some(sid) => Some(cursor_of(db, &scope, &sid).await?),
        None => None,
    };
    let where_sql = filter.where_sql();
    let count_sql = format!("SELECT COUNT(*) FROM otps WHERE {where_sql}");
    let (rows, total) = match after {
        // The page after a known row: found by position, so deep pages cost what the first does.
        Some(cursor) => {
            let (rows, _more) =
                search_keyset(db, &filter, &Seek::Older(cursor), paging.page_size).await?;
            // Counted, not derived from `Page` (which the client may have sent stale).
            let total = on_db!(db, pool => bind_args!(sqlx::query_scalar::<_, i64>(&count_sql), &filter.args)
                .fetch_one(pool).await)?;
            (rows, total)
        }
        None => {
            let n = filter.args.len();
            let list_sql = format!(
                "SELECT {COLUMNS} FROM otps WHERE {where_sql} ORDER BY date_created DESC, sid DESC LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            );
            fetch_page::<OtpRow>(db, &list_sql, &count_sql, &filter.args, paging).await?
        }
    };
    let mut echo = scope.acting_for(caller);
    echo.extend(filter.echo.iter().cloned());
    let mut out = paging.envelope(total, rows.len(), "/2fa/search", &echo);
    // The next page continues after this page's last row (`AfterSid`), not by offset.
    if let (Some(last), Some(Value::String(_))) = (rows.last(), out.get("nextPageUri")) {
        echo.push(("AfterSid".into(), last.sid.clone()));
        let next = paging.uri("/2fa/search", &echo, paging.page + 1);
        out.insert("nextPageUri".into(), next.into());
    }
    out.insert("otps".into(), rows.iter().map(summary).collect());
    Ok(Value::Object(out))
}

/// The position of `AfterSid` in the newest-first order: an OTP of the scope's account.
async fn cursor_of(db: &Db, scope: &AccountScope, raw: &str) -> ServiceResult<Cursor> {
    let bad = || {
        ServiceError::invalid(
            "AfterSid",
            "AfterSid must be the requestID of an OTP of this account (the last one of the previous page).",
        )
    };
    let sid = crate::domain::OtpSid::parse(raw.trim()).map_err(|_| bad())?;
    let date_created: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT date_created FROM otps WHERE sid = $1 AND account_sid = $2")
        .bind(sid.as_str()).bind(scope.sid().as_str()).fetch_optional(pool).await)?;
    Ok(Cursor {
        date_created: date_created.ok_or_else(bad)?,
        sid: sid.as_str().to_owned(),
    })
}

/// A position in the newest-first order: `(date_created, sid)` of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub date_created: Millis,
    pub sid: String,
}

impl Cursor {
    pub fn of(row: &OtpRow) -> Self {
        Cursor {
            date_created: row.date_created,
            sid: row.sid.clone(),
        }
    }

    /// `<millis>.<sid>`, as it travels in URLs.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.date_created, self.sid)
    }

    pub fn decode(field: &'static str, raw: &str) -> ServiceResult<Self> {
        let bad = || {
            ServiceError::invalid(
                field,
                format!("{field} is not a page position from this console."),
            )
        };
        let (ms, sid) = raw.trim().split_once('.').ok_or_else(bad)?;
        let sid = crate::domain::OtpSid::parse(sid).map_err(|_| bad())?;
        Ok(Cursor {
            date_created: ms.parse().map_err(|_| bad())?,
            sid: sid.as_str().to_owned(),
        })
    }
}

/// Which page of a keyset walk: the first, the rows older than a cursor, or newer than it.
#[derive(Debug, Clone)]
pub enum Seek {
    First,
    Older(Cursor),
    Newer(Cursor),
}

/// One page of the filtered OTPs, newest first, found by position rather than offset so that
/// page 10 000 costs what page 1 costs. Returns the rows and whether more exist beyond them in
/// the direction walked.
pub async fn search_keyset(
    db: &Db,
    filter: &OtpFilter,
    seek: &Seek,
    limit: i64,
) -> ServiceResult<(Vec<OtpRow>, bool)> {
    let mut sql_filter = filter.clauses.clone();
    let mut args = filter.args.clone();
    let newer = matches!(seek, Seek::Newer(_));
    if let Seek::Older(c) | Seek::Newer(c) = seek {
        args.push(Arg::from(c.date_created));
        args.push(Arg::from(c.sid.clone()));
        let op = if newer { ">" } else { "<" };
        sql_filter.push(format!(
            "(date_created, sid) {op} (${}, ${})",
            args.len() - 1,
            args.len()
        ));
    }
    let order = if newer { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {COLUMNS} FROM otps WHERE {} ORDER BY date_created {order}, sid {order} LIMIT ${}",
        sql_filter.join(" AND "),
        args.len() + 1
    );
    let mut rows: Vec<OtpRow> = on_db!(db, pool => bind_args!(sqlx::query_as::<_, OtpRow>(&sql), &args)
        .bind(limit + 1).fetch_all(pool).await)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if newer {
        rows.reverse();
    }
    Ok((rows, more))
}

/// How many OTPs match, counting at most `cap` (so the answer stays quick on huge histories).
pub async fn count_capped(db: &Db, filter: &OtpFilter, cap: i64) -> ServiceResult<i64> {
    let sql = format!(
        // Ordered like the list, so the planner walks the same index (and stops at the cap).
        "SELECT COUNT(*) FROM (SELECT 1 FROM otps WHERE {} ORDER BY date_created DESC, sid DESC LIMIT ${}) AS capped",
        filter.where_sql(),
        filter.args.len() + 1
    );
    Ok(
        on_db!(db, pool => bind_args!(sqlx::query_scalar::<_, i64>(&sql), &filter.args)
        .bind(cap).fetch_one(pool).await)?,
    )
}

/// RFC 3339, or `YYYY-MM-DD` (the start of that UTC day; for an end, the start of the next).
pub fn parse_time(field: &'static str, raw: &str, is_end: bool) -> ServiceResult<Millis> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    let bad = || {
        ServiceError::invalid(
            field,
            format!("{field} must be RFC 3339 (2026-11-26T10:15:00Z) or a date (2026-11-26)."),
        )
    };
    if let Ok(t) = time::OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as Millis);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(raw, &fmt).map_err(|_| bad())?;
    let d = if is_end {
        d.next_day().ok_or_else(bad)?
    } else {
        d
    };
    Ok(d.midnight().assume_utc().unix_timestamp() * 1000)
}

/// `GET /2fa/sandbox/messages`: the test outbox, newest first.
/// [`sandbox_messages`], and with `wait` (seconds, up to 30) an empty answer is held until a
/// matching message arrives or the time is up (a long poll: tests and integrators read the code
/// as soon as it is delivered, without polling). `delivered` is told after each delivery here;
/// deliveries by other instances are seen within 250 ms.
pub async fn sandbox_messages_waiting(
    db: &Db,
    delivered: &tokio::sync::Notify,
    caller: &AccountScope,
    raw: &Map<String, Value>,
) -> ServiceResult<Value> {
    use std::time::{Duration, Instant};
    let wait = Fields(raw).int("wait", 0, 30)?.unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(wait as u64);
    loop {
        // Listen before looking, so a delivery between the two is not missed.
        let notified = delivered.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let page = sandbox_messages(db, caller, raw).await?;
        let now = Instant::now();
        if page["messages"].as_array().is_some_and(|m| !m.is_empty()) || now >= deadline {
            return Ok(page);
        }
        let nap = (deadline - now).min(Duration::from_millis(250));
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(nap) => {}
        }
    }
}

pub async fn sandbox_messages(
    db: &Db,
    caller: &AccountScope,
    raw: &Map<String, Value>,
) -> ServiceResult<Value> {
    let f = Fields(raw);
    let scope = f.scope(db, caller).await?;
    let paging = Paging::parse(&f)?;
    let mut clauses = vec!["account_sid = $1".to_owned()];
    let mut args = vec![Arg::from(scope.sid().to_string())];
    let mut echo = scope.acting_for(caller);
    let filters = [
        (
            "requestID",
            "otp_sid",
            f.text("requestID", 1, 64)?.map(|v| v.trim().to_owned()),
        ),
        (
            "to",
            "to_number",
            match f.text("to", 1, 64)? {
                Some(v) => Some(super::params::phone_to_find("to", &v)?),
                None => None,
            },
        ),
        (
            "emailTo",
            "email_to",
            match f.text("emailTo", 1, 254)? {
                Some(v) => Some(
                    super::params::parse_email("emailTo", &v)?
                        .as_str()
                        .to_owned(),
                ),
                None => None,
            },
        ),
    ];
    for (field, column, value) in filters {
        if let Some(v) = value {
            echo.push((field.to_owned(), v.clone()));
            args.push(Arg::from(v));
            clauses.push(format!("{column} = ${}", args.len()));
        }
    }
    let where_sql = clauses.join(" AND ");
    let n = args.len();
    let list_sql = format!(
        "SELECT otp_sid, channel, to_number, email_to, from_sender, subject, text, date_created FROM sandbox_messages \
         WHERE {where_sql} ORDER BY id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count_sql = format!("SELECT COUNT(*) FROM sandbox_messages WHERE {where_sql}");
    let (rows, total) = fetch_page::<SandboxRow>(db, &list_sql, &count_sql, &args, paging).await?;
    let mut out = paging.envelope(total, rows.len(), "/2fa/sandbox/messages", &echo);
    out.insert(
        "messages".into(),
        rows.iter()
            .map(|m| json!({"requestID": m.otp_sid, "channel": m.channel, "to": m.to_number, "emailTo": m.email_to, "from": m.from_sender, "subject": m.subject, "text": m.text, "dateCreated": rfc3339(m.date_created)}))
            .collect(),
    );
    Ok(Value::Object(out))
}
