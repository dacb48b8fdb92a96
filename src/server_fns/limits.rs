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
        .map_err(ctx::service)?;
    Ok(limits
        .into_iter()
        .map(|(l, blocked)| LimitView {
            buckets: l.buckets(),
            sid: l.sid,
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
    use crate::server::services::limits;
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
        buckets.push(serde_json::json!({"name": if i == 0 { "first" } else { "second" }, "maxOtp": max, "interval": every.saturating_mul(factor)}));
    }
    let mut body = serde_json::Map::new();
    body.insert("name".into(), name.into());
    body.insert("description".into(), description.into());
    body.insert("buckets".into(), buckets.into());
    let row = if sid.trim().is_empty() {
        limits::create(state.db(), state.clock(), &user.scope, &body).await
    } else {
        limits::update(state.db(), state.clock(), &user.scope, &body, sid.trim()).await
    }
    .map_err(|e| {
        // Bucket problems belong next to the bucket fields.
        let mut err = ctx::service(e);
        if err.field.as_deref() == Some("buckets") {
            err.field = Some(if err.message.contains("buckets[1]") {
                "bucket2".into()
            } else {
                "bucket1".into()
            });
        }
        err
    })?;
    tracing::info!(user = %user.sid, limit = %row.sid, "limit saved");
    Ok(row.sid)
}

#[server(endpoint = "limits_delete")]
pub async fn delete_limit(sid: String) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::limits;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    limits::delete(state.db(), &user.scope, &serde_json::Map::new(), &sid)
        .await
        .map_err(ctx::service)?;
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
