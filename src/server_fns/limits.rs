//! The Limits page: list, save (add or edit) and delete named limits, through the same limit
//! service as `/2fa/limits`. Support staff may read; admins and developers may change.
// A form with two buckets has many fields; the server-function macro forwards them all.
#![allow(clippy::too_many_arguments)]
use crate::domain::limit::Bucket;
use crate::domain::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitView {
    pub sid: String,
    pub name: String,
    pub description: String,
    pub buckets: Vec<Bucket>,
    /// Sends this limit blocked in the last 24 hours.
    pub blocked_24h: i64,
}

/// Interval units offered by the form, in seconds.
pub const UNITS: [(&str, i64); 4] = [
    ("seconds", 1),
    ("minutes", 60),
    ("hours", 3600),
    ("days", 86_400),
];

/// The largest unit that divides `secs`, and the count in it (60 → 1 minute).
pub fn human_interval(secs: i64) -> (i64, &'static str) {
    UNITS
        .iter()
        .rev()
        .find(|(_, n)| secs % n == 0)
        .map(|(u, n)| (secs / n, *u))
        .unwrap_or((secs, "seconds"))
}

pub fn describe(b: &Bucket) -> String {
    let (n, unit) = human_interval(b.interval);
    let unit = if n == 1 {
        unit.trim_end_matches('s')
    } else {
        unit
    };
    format!("{} per {} {}", b.max_otp, n, unit)
}

/// A limit refusal as the page shows it: bucket problems next to that bucket's fields.
#[cfg(feature = "ssr")]
fn limit_error(e: crate::server::services::limits::LimitError) -> ConsoleError {
    use crate::domain::limit::{BucketError, MAX_INTERVAL, MAX_OTP};
    use crate::domain::ErrorCode;
    use crate::server::services::limits::{LimitError, LimitField};
    let code = e.code();
    let bucket = |i: usize| format!("bucket{}", i + 1);
    match e {
        LimitError::Invalid { field, problem } => {
            let (name, label) = match field {
                LimitField::Name => ("name", "Name"),
                LimitField::Description => ("description", "Description"),
                LimitField::Buckets => ("bucket1", "Buckets"),
            };
            ConsoleError::field(problem.code(), name, problem.message(label))
        }
        LimitError::Bucket(b) => match b {
            BucketError::None => {
                ConsoleError::field(code, "bucket1", "A limit needs at least one bucket.")
            }
            BucketError::TooMany => {
                ConsoleError::field(code, "bucket2", "A limit has at most 2 buckets.")
            }
            BucketError::Name(i) | BucketError::DuplicateName(i) => {
                ConsoleError::field(code, &bucket(i), "Each bucket needs its own name.")
            }
            BucketError::MaxOtp(i) => ConsoleError::field(
                code,
                &bucket(i),
                format!("The number of OTPs must be 1–{MAX_OTP}."),
            ),
            BucketError::Interval(i) => ConsoleError::field(
                code,
                &bucket(i),
                format!(
                    "The interval must be 1 second to {} days.",
                    MAX_INTERVAL / 86_400
                ),
            ),
        },
        LimitError::DuplicateName => ConsoleError::field(
            ErrorCode::DuplicateName,
            "name",
            "A limit with this name already exists in this account.",
        ),
        LimitError::NotFound => ConsoleError::new(code, "The requested limit was not found."),
        LimitError::Denied(m) => ConsoleError::new(code, m),
        LimitError::Internal(err) => crate::server::auth::console::internal_error(err),
    }
}

#[server(endpoint = "limits_list")]
pub async fn list_limits() -> Result<Vec<LimitView>, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::limits;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let since = state.clock().now_ms() - 24 * 3600 * 1000;
    let limits = limits::overview(state.db(), &user.scope, since)
        .await
        .map_err(|e| ctx::fail(limit_error(e)))?;
    Ok(limits
        .into_iter()
        .map(|(l, blocked)| LimitView {
            buckets: l.buckets,
            sid: l.sid.to_string(),
            name: l.name,
            description: l.description,
            blocked_24h: blocked,
        })
        .collect())
}

/// Adds (no `sid`) or replaces a limit. Buckets come as count + interval + unit; a bucket whose
/// count is empty is left out.
#[server(endpoint = "limits_save")]
pub async fn save_limit(
    sid: String,
    name: String,
    description: String,
    max1: String,
    every1: String,
    unit1: String,
    max2: String,
    every2: String,
    unit2: String,
) -> Result<String, ConsoleError> {
    use super::ctx;
    use crate::domain::{ErrorCode, Role};
    use crate::server::services::limits::{self, LimitChange};
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let mut buckets = Vec::new();
    for (i, (max, every, unit)) in [(max1, every1, unit1), (max2, every2, unit2)]
        .into_iter()
        .enumerate()
    {
        if max.trim().is_empty() && every.trim().is_empty() {
            continue;
        }
        let field = format!("bucket{}", i + 1);
        let max: i64 = max.trim().parse().map_err(|_| {
            ctx::fail(ConsoleError::field(
                ErrorCode::InvalidParameter,
                &field,
                "Enter the number of OTPs as a whole number.",
            ))
        })?;
        let every: i64 = every.trim().parse().map_err(|_| {
            ctx::fail(ConsoleError::field(
                ErrorCode::InvalidParameter,
                &field,
                "Enter the interval as a whole number.",
            ))
        })?;
        let factor = UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, n)| *n)
            .ok_or_else(|| {
                ctx::fail(ConsoleError::field(
                    ErrorCode::InvalidParameter,
                    &field,
                    "Pick a unit.",
                ))
            })?;
        buckets.push(Bucket {
            name: if i == 0 { "first" } else { "second" }.into(),
            max_otp: max,
            interval: every.saturating_mul(factor),
        });
    }
    let description = description.trim();
    if description.chars().count() > 256 {
        return Err(ctx::fail(ConsoleError::field(
            ErrorCode::InvalidParameter,
            "description",
            "Description must be at most 256 characters.",
        )));
    }
    let change = LimitChange {
        name: Some(name.trim().to_owned()),
        description: Some(description.to_owned()),
        buckets: Some(buckets),
    };
    use crate::server::services::audit::{self, limit_json, AuditAction, Change};
    let (row, entry) = if sid.trim().is_empty() {
        let row = limits::create(state.db(), state.clock(), &user.scope, change)
            .await
            .map_err(|e| ctx::fail(limit_error(e)))?;
        let entry = Change::new(AuditAction::LimitCreate, row.sid.as_str()).after(limit_json(&row));
        (row, entry)
    } else {
        let before = limits::get(state.db(), &user.scope, sid.trim())
            .await
            .map_err(|e| ctx::fail(limit_error(e)))?;
        let row = limits::update(state.db(), state.clock(), &user.scope, sid.trim(), change)
            .await
            .map_err(|e| ctx::fail(limit_error(e)))?;
        let entry = Change::new(AuditAction::LimitUpdate, row.sid.as_str())
            .before(limit_json(&before))
            .after(limit_json(&row));
        (row, entry)
    };
    audit::record_after(
        state.db(),
        state.clock(),
        Some(user.scope.sid()),
        &ctx::audit_origin(&user),
        entry,
    )
    .await;
    tracing::info!(user = %user.sid, limit = %row.sid, "limit saved");
    Ok(row.sid.to_string())
}

#[server(endpoint = "limits_delete")]
pub async fn delete_limit(sid: String) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::limits;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    use crate::server::services::audit::{self, limit_json, AuditAction, Change};
    let before = limits::get(state.db(), &user.scope, &sid)
        .await
        .map_err(|e| ctx::fail(limit_error(e)))?;
    limits::delete(state.db(), &user.scope, before.sid.as_str())
        .await
        .map_err(|e| ctx::fail(limit_error(e)))?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(user.scope.sid()),
        &ctx::audit_origin(&user),
        Change::new(AuditAction::LimitDelete, before.sid.as_str()).before(limit_json(&before)),
    )
    .await;
    tracing::info!(user = %user.sid, limit = %sid, "limit deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_in_human_units() {
        assert_eq!(human_interval(60), (1, "minutes"));
        assert_eq!(human_interval(90), (90, "seconds"));
        assert_eq!(human_interval(7200), (2, "hours"));
        assert_eq!(human_interval(86_400 * 3), (3, "days"));
        assert_eq!(
            describe(&Bucket {
                name: "a".into(),
                max_otp: 5,
                interval: 60
            }),
            "5 per 1 minute"
        );
        assert_eq!(
            describe(&Bucket {
                name: "a".into(),
                max_otp: 30,
                interval: 172_800
            }),
            "30 per 2 days"
        );
    }
}
