//! The Audit log page: who changed what, when and from where, newest first, with filters kept
//! in the URL (actor, action, target, date range), paging by position, and a CSV export of the
//! filtered set (`GET /console/audit.csv`). Every role may read it (support included); secrets
//! and codes are never in it.
use crate::domain::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One entry as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub sid: String,
    /// RFC 3339.
    pub at: String,
    /// `user` or `credential`.
    pub actor_kind: String,
    /// The user's email, or the credential's sid.
    pub actor: String,
    pub actor_sid: Option<String>,
    pub address: String,
    /// The dotted name (`limit.create`).
    pub action: String,
    /// What people read (`Limit created`).
    pub action_label: String,
    pub target: String,
    /// The object before and after, on one line each (`—` when absent).
    pub before: String,
    pub after: String,
}

/// The page's filters, as they appear in its URL. Empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// A user's email or sid, an account sid or an API key sid.
    pub actor: String,
    /// A dotted action name.
    pub action: String,
    pub target: String,
    /// First day (YYYY-MM-DD, UTC) included.
    pub from: String,
    /// Last day (YYYY-MM-DD, UTC) included.
    pub until: String,
    /// Page position: entries older than this cursor…
    pub before: String,
    /// …or newer than this one.
    pub after: String,
}

impl AuditQuery {
    /// Every URL parameter of the page: the filters, then the page position.
    pub const PARAMS: [&'static str; 7] = [
        "actor", "action", "target", "from", "until", "before", "after",
    ];

    /// The query from URL parameters (unknown ones ignored).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut q = AuditQuery::default();
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k {
                "actor" => q.actor = v,
                "action" => q.action = v,
                "target" => q.target = v,
                "from" => q.from = v,
                "until" => q.until = v,
                "before" => q.before = v,
                "after" => q.after = v,
                _ => {}
            }
        }
        q
    }

    /// The filters (not the page position) as URL parameters, non-empty ones only.
    pub fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("from", &self.from),
            ("until", &self.until),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }

    /// A URL query string of the filters.
    pub fn to_query_string(&self) -> String {
        crate::domain::url::query_string(&self.filter_pairs())
    }
}

/// Entries per page.
pub const PAGE_SIZE: i64 = 50;

/// One page: entries newest first and the positions of the neighbouring pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageView {
    pub rows: Vec<AuditView>,
    /// `before=` value of the next (older) page, if there is one.
    pub older: Option<String>,
    /// `after=` value of the previous (newer) page, if there is one.
    pub newer: Option<String>,
    /// Matching entries.
    pub total: i64,
}

#[cfg(feature = "ssr")]
pub mod server {
    use super::*;
    use crate::domain::audit::summary;
    use crate::domain::{dates, ErrorCode, Problem};
    use crate::server::clock::rfc3339;
    use crate::server::services::audit::{self, AuditCursor, AuditEntry, AuditFilter, Walk};
    use crate::server::services::{AccountScope, ServiceError};
    use crate::server::state::AppState;
    use crate::server_fns::export::{csv_line, Chunk};
    use axum::body::{Body, Bytes};
    use axum::extract::{RawQuery, State};
    use axum::response::{IntoResponse, Response};
    use http::{header, StatusCode};
    use tower_sessions::Session;

    pub fn view(e: &AuditEntry) -> AuditView {
        let shown = |v: &Option<serde_json::Value>| {
            v.as_ref().map(summary).unwrap_or_else(|| "—".to_owned())
        };
        AuditView {
            sid: e.sid.to_string(),
            at: rfc3339(e.at),
            actor_kind: e.actor.kind().to_owned(),
            actor: e.actor.display(),
            actor_sid: e.actor.sid().map(str::to_owned),
            address: e.address.clone(),
            action: e.action.clone(),
            action_label: e.action_label(),
            target: e.target.clone(),
            before: shown(&e.before),
            after: shown(&e.after),
        }
    }

    fn invalid(field: &str, p: Problem) -> ConsoleError {
        ConsoleError::field(p.code(), field, p.message(field))
    }

    /// The page's filters as the log's filter; problems name the page's fields.
    pub fn filter(q: &AuditQuery) -> Result<AuditFilter, ConsoleError> {
        let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut f = AuditFilter {
            actor: text(&q.actor),
            target: text(&q.target),
            ..Default::default()
        };
        if let Some(a) = text(&q.action) {
            let action = audit::parse_action("action", &a)
                .map_err(crate::server::auth::console::console_error)?;
            f.action = Some(action.as_str().to_owned());
        }
        if let Some(from) = text(&q.from) {
            f.from = Some(dates::parse_time(&from, false).map_err(|p| invalid("from", p))?);
        }
        if let Some(until) = text(&q.until) {
            f.before = Some(dates::parse_time(&until, true).map_err(|p| invalid("until", p))?);
        }
        if let (Some(a), Some(b)) = (f.from, f.before) {
            if a > b {
                return Err(invalid("until", Problem::says("must not be before from.")));
            }
        }
        Ok(f)
    }

    pub fn encode(c: &AuditCursor) -> String {
        format!("{}.{}", c.at, c.seq)
    }

    fn position(field: &str, raw: &str) -> Result<AuditCursor, ConsoleError> {
        raw.trim()
            .split_once('.')
            .and_then(|(ms, seq)| {
                Some(AuditCursor {
                    at: ms.parse().ok()?,
                    seq: seq.parse().ok()?,
                })
            })
            .ok_or_else(|| {
                ConsoleError::field(
                    ErrorCode::InvalidParameter,
                    field,
                    format!("{field} is not a page position from this console."),
                )
            })
    }

    pub async fn page(
        state: &AppState,
        scope: &AccountScope,
        q: &AuditQuery,
    ) -> Result<AuditPageView, ConsoleError> {
        let f = filter(q)?;
        let walk = if !q.before.is_empty() {
            Walk::Older(position("before", &q.before)?)
        } else if !q.after.is_empty() {
            Walk::Newer(position("after", &q.after)?)
        } else {
            Walk::First
        };
        let (rows, more) = audit::walk(state.db(), scope, &f, &walk, PAGE_SIZE)
            .await
            .map_err(crate::server::auth::console::console_error)?;
        let total = crate::server::services::audit::count(state.db(), scope, &f)
            .await
            .map_err(crate::server::auth::console::console_error)?;
        let (has_older, has_newer) = match walk {
            Walk::First => (more, false),
            Walk::Older(_) => (more, true),
            Walk::Newer(_) => (true, more),
        };
        Ok(AuditPageView {
            older: rows
                .last()
                .filter(|_| has_older)
                .map(|e| encode(&audit::position_of(e))),
            newer: rows
                .first()
                .filter(|_| has_newer)
                .map(|e| encode(&audit::position_of(e))),
            rows: rows.iter().map(view).collect(),
            total,
        })
    }

    /// The CSV columns.
    pub const COLUMNS: [&str; 10] = [
        "auditSid",
        "at",
        "actorType",
        "actorSid",
        "actorEmail",
        "address",
        "action",
        "target",
        "before",
        "after",
    ];

    fn record(e: &AuditEntry) -> Vec<String> {
        let json =
            |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
        vec![
            e.sid.to_string(),
            rfc3339(e.at),
            e.actor.kind().to_owned(),
            e.actor.sid().unwrap_or_default().to_owned(),
            e.actor.email().unwrap_or_default().to_owned(),
            e.address.clone(),
            e.action.clone(),
            e.target.clone(),
            json(&e.before),
            json(&e.after),
        ]
    }

    fn error(status: StatusCode, message: &str) -> Response {
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            message.to_owned(),
        )
            .into_response()
    }

    /// `GET /console/audit.csv?…`: the Audit log page's filtered set (same parameters), newest
    /// first, streamed in batches. Every role.
    pub async fn audit_csv(
        State(state): State<AppState>,
        session: Session,
        RawQuery(query): RawQuery,
    ) -> Response {
        use crate::domain::Role;
        let user = match crate::server::auth::console::require(&state, &session, &Role::ALL).await {
            Ok(u) => u,
            Err(e) => {
                return error(
                    StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::UNAUTHORIZED),
                    &e.message,
                )
            }
        };
        let raw = query.unwrap_or_default();
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect();
        let q = AuditQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let filter = match filter(&q) {
            Ok(f) => f,
            Err(e) => {
                return error(
                    StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
                    &e.message,
                )
            }
        };
        let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(2);
        tokio::spawn(async move {
            if let Err(e) = stream(&state, &user.scope, &filter, &tx).await {
                tracing::error!(error = ?e, "audit export failed");
                let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
            }
        });
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit.csv\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            Body::from_stream(stream),
        )
            .into_response()
    }

    async fn stream(
        state: &AppState,
        scope: &AccountScope,
        filter: &AuditFilter,
        tx: &tokio::sync::mpsc::Sender<Chunk>,
    ) -> Result<(), ServiceError> {
        let mut chunk = csv_line(COLUMNS.iter().map(|c| c.to_string()));
        let mut walk = Walk::First;
        loop {
            let (rows, more) = audit::walk(state.db(), scope, filter, &walk, 1000).await?;
            for row in &rows {
                chunk.push_str(&csv_line(record(row)));
            }
            if tx
                .send(Ok(Bytes::from(std::mem::take(&mut chunk))))
                .await
                .is_err()
            {
                return Ok(());
            }
            match rows.last() {
                Some(last) if more => walk = Walk::Older(audit::position_of(last)),
                _ => return Ok(()),
            }
        }
    }
}

/// The Audit log page: filtered, newest first, by position. Every role may read it.
#[server(endpoint = "audit_search")]
pub async fn search_audit(query: AuditQuery) -> Result<AuditPageView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    server::page(&state, &user.scope, &query)
        .await
        .map_err(ctx::fail)
}
