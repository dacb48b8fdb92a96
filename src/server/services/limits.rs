//! Named limits: CRUD, and resolving the `limits` of a send. The exact check-and-charge runs
//! inside the send transaction (see `otp::send`), serialized per (limit, key): SQLite takes the
//! write lock up front; PostgreSQL takes a transaction-scoped advisory lock on the pair, which
//! also holds across server instances sharing the database.
use super::otp::input::{field_error, Fields};
use super::otp::sdr::Paging;
use super::{AccountScope, ServiceError, ServiceResult};
use crate::domain::limit::{self, Bucket, BucketError};
use crate::domain::ErrorCode;
use crate::on_db;
use crate::server::clock::{rfc3339, Clock, Millis};
use crate::server::db::Db;
use serde_json::{json, Map, Value};

use crate::domain::ids::LimitSid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LimitRow {
    pub sid: String,
    pub account_sid: String,
    pub name: String,
    pub description: String,
    pub buckets: String,
    pub date_created: Millis,
    pub date_updated: Millis,
}

impl LimitRow {
    pub fn buckets(&self) -> Vec<Bucket> {
        serde_json::from_str(&self.buckets).unwrap_or_default()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "limitSid": self.sid,
            "accountSid": self.account_sid,
            "name": self.name,
            "description": self.description,
            "buckets": self.buckets(),
            "dateCreated": rfc3339(self.date_created),
            "dateUpdated": rfc3339(self.date_updated),
            "uri": format!("/2fa/limits/{}", self.sid),
        })
    }
}

const COLUMNS: &str = "sid, account_sid, name, description, buckets, date_created, date_updated";

/// A limit named in a send, with the key to charge.
#[derive(Debug, Clone)]
pub struct Charge {
    pub limit_sid: String,
    pub name: String,
    pub key: String,
    pub buckets: Vec<Bucket>,
}

/// The validated body of POST/PUT `/2fa/limits`.
struct LimitInput {
    name: Option<String>,
    description: Option<String>,
    buckets: Option<Vec<Bucket>>,
}

fn parse_input(raw: &Map<String, Value>, require_all: bool) -> ServiceResult<LimitInput> {
    let f = Fields(raw);
    let name = f.string("name")?.map(|n| n.trim().to_owned());
    if let Some(n) = &name {
        if !limit::valid_name(n) {
            return Err(ServiceError::invalid(
                "name",
                "name must be 1–64 characters of letters, digits, '_', '.' or '-'.",
            ));
        }
    } else if require_all {
        return Err(ServiceError::invalid("name", "name is required."));
    }
    let description = f.text("description", 0, 256)?;
    let buckets = match raw.get("buckets").filter(|v| !v.is_null()) {
        None if require_all => {
            return Err(ServiceError::invalid(
                "buckets",
                "buckets is required: 1–2 of {name, maxOtp, interval}.",
            ))
        }
        None => None,
        Some(v) => {
            let v = match v {
                // Form bodies carry the list as JSON text.
                Value::String(s) => serde_json::from_str::<Value>(s).map_err(|_| {
                    ServiceError::invalid(
                        "buckets",
                        "buckets must be a JSON list of {name, maxOtp, interval}.",
                    )
                })?,
                other => other.clone(),
            };
            let list = v.as_array().ok_or_else(|| {
                ServiceError::invalid(
                    "buckets",
                    "buckets must be a list of {name, maxOtp, interval}.",
                )
            })?;
            let mut out = Vec::new();
            for (i, item) in list.iter().enumerate() {
                let obj = item.as_object().ok_or_else(|| {
                    ServiceError::invalid(
                        "buckets",
                        format!("buckets[{i}] must be an object {{name, maxOtp, interval}}."),
                    )
                })?;
                let bf = Fields(obj);
                let bad =
                    |what: &str| ServiceError::invalid("buckets", format!("buckets[{i}].{what}"));
                let name = bf
                    .string("name")
                    .map_err(|_| bad("name must be a string."))?
                    .unwrap_or_else(|| format!("bucket{}", i + 1));
                let max_otp = bf
                    .int("maxOtp", i64::MIN, i64::MAX)
                    .map_err(|_| bad("maxOtp must be a whole number."))?
                    .ok_or_else(|| bad("maxOtp is required."))?;
                let interval = bf
                    .int("interval", i64::MIN, i64::MAX)
                    .map_err(|_| bad("interval must be a whole number of seconds."))?
                    .ok_or_else(|| bad("interval is required."))?;
                out.push(Bucket {
                    name: name.trim().to_owned(),
                    max_otp,
                    interval,
                });
            }
            limit::validate_buckets(&out).map_err(|e| match e {
                BucketError::None => ServiceError::invalid("buckets", "A limit needs at least one bucket."),
                BucketError::TooMany => field_error(ErrorCode::TooManyBuckets, "buckets", "A limit has at most 2 buckets."),
                BucketError::Name(i) => ServiceError::invalid("buckets", format!("buckets[{i}].name must be 1–64 characters of letters, digits, '_', '.' or '-'.")),
                BucketError::DuplicateName(i) => ServiceError::invalid("buckets", format!("buckets[{i}].name repeats another bucket's name.")),
                BucketError::MaxOtp(i) => ServiceError::invalid("buckets", format!("buckets[{i}].maxOtp must be 1–{}.", limit::MAX_OTP)),
                BucketError::Interval(i) => ServiceError::invalid("buckets", format!("buckets[{i}].interval must be 1–{} seconds.", limit::MAX_INTERVAL)),
            })?;
            Some(out)
        }
    };
    Ok(LimitInput {
        name,
        description,
        buckets,
    })
}

fn duplicate() -> ServiceError {
    field_error(
        ErrorCode::DuplicateName,
        "name",
        "A limit with this name already exists in this account.",
    )
}

pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    caller: &AccountScope,
    raw: &Map<String, Value>,
) -> ServiceResult<LimitRow> {
    let scope = Fields(raw).scope(db, caller).await?;
    let input = parse_input(raw, true)?;
    let now = clock.now_ms();
    let row = LimitRow {
        sid: LimitSid::generate().to_string(),
        account_sid: scope.sid().to_string(),
        name: input.name.unwrap_or_default(),
        description: input.description.unwrap_or_default(),
        buckets: serde_json::to_string(&input.buckets.unwrap_or_default()).unwrap_or_default(),
        date_created: now,
        date_updated: now,
    };
    let res = on_db!(db, pool => sqlx::query(
        "INSERT INTO limits (sid, account_sid, name, description, buckets, date_created, date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&row.sid).bind(&row.account_sid).bind(&row.name).bind(&row.description).bind(&row.buckets).bind(now).bind(now)
        .execute(pool).await.map(|_| ()));
    match res {
        Ok(()) => Ok(row),
        Err(e) if crate::server::db::is_unique_violation(&e) => Err(duplicate()),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(
    db: &Db,
    caller: &AccountScope,
    raw: &Map<String, Value>,
    sid: &str,
) -> ServiceResult<LimitRow> {
    let scope = Fields(raw).scope(db, caller).await?;
    let sql = format!("SELECT {COLUMNS} FROM limits WHERE sid = $1 AND account_sid = $2");
    let row = on_db!(db, pool => sqlx::query_as::<_, LimitRow>(&sql).bind(sid.trim()).bind(scope.sid().as_str()).fetch_optional(pool).await)?;
    row.ok_or_else(|| ServiceError::not_found("limit"))
}

/// PUT: replaces description and buckets, and may rename. Counted hits are kept.
pub async fn update(
    db: &Db,
    clock: &dyn Clock,
    caller: &AccountScope,
    raw: &Map<String, Value>,
    sid: &str,
) -> ServiceResult<LimitRow> {
    let current = get(db, caller, raw, sid).await?;
    let input = parse_input(raw, false)?;
    let now = clock.now_ms();
    let name = input.name.unwrap_or(current.name.clone());
    let description = input.description.unwrap_or(current.description.clone());
    let buckets = match input.buckets {
        Some(b) => serde_json::to_string(&b).unwrap_or_default(),
        None => current.buckets.clone(),
    };
    let res = on_db!(db, pool => sqlx::query("UPDATE limits SET name = $1, description = $2, buckets = $3, date_updated = $4 WHERE sid = $5")
        .bind(&name).bind(&description).bind(&buckets).bind(now).bind(&current.sid).execute(pool).await.map(|_| ()));
    match res {
        Ok(()) => Ok(LimitRow {
            name,
            description,
            buckets,
            date_updated: now,
            ..current
        }),
        Err(e) if crate::server::db::is_unique_violation(&e) => Err(duplicate()),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    db: &Db,
    caller: &AccountScope,
    raw: &Map<String, Value>,
    sid: &str,
) -> ServiceResult<()> {
    let current = get(db, caller, raw, sid).await?;
    on_db!(db, pool => async {
        let mut tx = crate::server::db::BeginWrite::begin_write(pool).await?;
        sqlx::query("DELETE FROM limit_hits WHERE limit_sid = $1").bind(&current.sid).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM limits WHERE sid = $1").bind(&current.sid).execute(&mut *tx).await?;
        tx.commit().await
    }.await)?;
    Ok(())
}

/// `GET /2fa/limits`: filter `name` (exact or prefix with a trailing `*`), paging.
pub async fn list(
    db: &Db,
    caller: &AccountScope,
    raw: &Map<String, Value>,
) -> ServiceResult<Value> {
    let f = Fields(raw);
    let scope = f.scope(db, caller).await?;
    let paging = Paging::parse(&f)?;
    let name = f.text("name", 1, 65)?;
    let (clause, pattern) = match &name {
        Some(n) if n.ends_with('*') => {
            let prefix = n
                .trim_end_matches('*')
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            (" AND name LIKE $2 ESCAPE '\\'", format!("{prefix}%"))
        }
        Some(n) => (" AND name = $2", n.clone()),
        None => (" AND $2 = $2", String::new()),
    };
    let list_sql = format!("SELECT {COLUMNS} FROM limits WHERE account_sid = $1{clause} ORDER BY name LIMIT $3 OFFSET $4");
    let count_sql = format!("SELECT COUNT(*) FROM limits WHERE account_sid = $1{clause}");
    let (rows, total): (Vec<LimitRow>, i64) = on_db!(db, pool => {
        let rows = sqlx::query_as::<_, LimitRow>(&list_sql).bind(scope.sid().as_str()).bind(&pattern)
            .bind(paging.page_size).bind(paging.page * paging.page_size).fetch_all(pool).await?;
        let total = sqlx::query_scalar::<_, i64>(&count_sql).bind(scope.sid().as_str()).bind(&pattern).fetch_one(pool).await?;
        (rows, total)
    });
    let mut echo = scope.acting_for(caller);
    echo.extend(name.map(|n| ("name".to_owned(), n)));
    let mut out = paging.envelope(total, rows.len(), "/2fa/limits", &echo);
    out.insert(
        "limits".into(),
        rows.iter().map(LimitRow::to_json).collect(),
    );
    Ok(Value::Object(out))
}

/// Resolves the `{name: key}` pairs of a send to limits; an unknown name is 400/7021.
/// Sorted by (limit, key) so concurrent sends lock in one order.
pub async fn resolve(
    db: &Db,
    account: &str,
    named: &[(String, String)],
) -> ServiceResult<Vec<Charge>> {
    let mut out = Vec::new();
    for (name, key) in named {
        if key.is_empty() || key.chars().count() > 256 {
            return Err(ServiceError::invalid(
                "limits",
                format!("The key for limit {name:?} must be 1–256 characters."),
            ));
        }
        let sql = format!("SELECT {COLUMNS} FROM limits WHERE account_sid = $1 AND name = $2");
        let row = on_db!(db, pool => sqlx::query_as::<_, LimitRow>(&sql).bind(account).bind(name).fetch_optional(pool).await)?;
        let Some(row) = row else {
            return Err(field_error(
                ErrorCode::UnknownLimit,
                "limits",
                format!("Unknown limit {name:?}: create it first with POST /2fa/limits."),
            ));
        };
        out.push(Charge {
            buckets: row.buckets(),
            limit_sid: row.sid,
            name: row.name,
            key: key.clone(),
        });
    }
    out.sort_by(|a, b| (&a.limit_sid, &a.key).cmp(&(&b.limit_sid, &b.key)));
    Ok(out)
}

/// SQL used by the send transaction (parameters in text order, as SQLite binds them).
pub const NTH_NEWEST_HIT: &str = "SELECT at FROM limit_hits WHERE limit_sid = $1 AND hit_key = $2 ORDER BY at DESC LIMIT 1 OFFSET $3";
pub const INSERT_HIT: &str =
    "INSERT INTO limit_hits (limit_sid, hit_key, at, otp_sid) VALUES ($1, $2, $3, $4)";
pub const PRUNE_HITS: &str =
    "DELETE FROM limit_hits WHERE limit_sid = $1 AND hit_key = $2 AND at <= $3";
pub const PG_LOCK_KEY: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

/// Every limit of the scope's account with how many sends it blocked since `since`, in one
/// query (the count reads the `blocked_by` index). For the console's Limits page.
pub async fn overview(
    db: &Db,
    scope: &AccountScope,
    since: Millis,
) -> ServiceResult<Vec<(LimitRow, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        limit: LimitRow,
        blocked: i64,
    }
    // Parameters in text order (SQLite binds by first appearance).
    let sql = format!(
        "SELECT {COLUMNS}, (SELECT COUNT(*) FROM otps o WHERE o.blocked_by = limits.sid AND o.date_created >= $1) AS blocked \
         FROM limits WHERE account_sid = $2 ORDER BY name"
    );
    let rows = on_db!(db, pool => sqlx::query_as::<_, Row>(&sql).bind(since).bind(scope.sid().as_str()).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|r| (r.limit, r.blocked)).collect())
}
