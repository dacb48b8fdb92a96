//! `GET /2fa/audit`: the account's audit log, newest first, filtered by actor, action, target
//! and time; paging by position (`AfterSid` in `nextPageUri`), like `/2fa/search`.
use super::api_error::ApiError;
#[allow(unused_imports)]
use super::api_error::ErrorEnvelope;
use super::input::{invalid, ApiInput, Loose};
use super::otps::acting;
use super::paging::{acting_for, link, Page, PageParams};
use crate::domain::{dates, Problem};
use crate::server::auth::ApiCaller;
use crate::server::clock::rfc3339;
use crate::server::services::audit::{self as service, AuditEntry, AuditFilter, AuditPage};
use crate::server::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /2fa/audit`: filters, paging (`Page`, `PageSize`, `AfterSid`), `accountSid`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuditRequest {
    pub actor: Loose,
    pub action: Loose,
    pub target: Loose,
    pub start_time: Loose,
    pub end_time: Loose,
    pub account_sid: Loose,
    #[serde(rename = "AfterSid")]
    pub after_sid: Loose,
    #[serde(flatten)]
    pub paging: PageParams,
}

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditActor {
    /// `user` (a console user) or `credential` (an account's auth token or an API key).
    #[serde(rename = "type")]
    pub kind: String,
    /// The user sid, account sid or API key sid (`null`: a failed sign-in with an unknown email).
    pub sid: Option<String>,
    /// A user's email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One change. Secrets and codes never appear.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditEntry)]
pub struct AuditEntryDto {
    pub audit_sid: String,
    /// RFC 3339.
    pub at: String,
    pub actor: AuditActor,
    /// The client address.
    pub address: String,
    /// A dotted action name, e.g. `limit.create`, `user.sign_in`.
    pub action: String,
    /// The object changed (a sid, or a name such as `settings`).
    pub target: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<&AuditEntry> for AuditEntryDto {
    fn from(e: &AuditEntry) -> Self {
        AuditEntryDto {
            audit_sid: e.sid.to_string(),
            at: rfc3339(e.at),
            actor: AuditActor {
                kind: e.actor.kind().into(),
                sid: e.actor.sid().map(str::to_owned),
                email: e.actor.email().map(str::to_owned),
            },
            address: e.address.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            before: e.before.clone(),
            after: e.after.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditResponse {
    #[serde(flatten)]
    pub page: Page,
    pub entries: Vec<AuditEntryDto>,
}

/// The filters, and the same filters as query pairs for the answer's links.
fn filter(r: &AuditRequest) -> Result<(AuditFilter, Vec<(String, String)>), ApiError> {
    let mut f = AuditFilter::default();
    let mut echo: Vec<(String, String)> = Vec::new();
    f.actor = r
        .actor
        .text("actor", (1, 254))?
        .map(|s| s.trim().to_owned());
    if let Some(a) = &f.actor {
        echo.push(("actor".into(), a.clone()));
    }
    if let Some(a) = r.action.text("action", (1, 64))? {
        let action = service::parse_action("action", &a)?;
        f.action = Some(action.as_str().to_owned());
        echo.push(("action".into(), action.as_str().to_owned()));
    }
    f.target = r
        .target
        .text("target", (1, 256))?
        .map(|s| s.trim().to_owned());
    if let Some(t) = &f.target {
        echo.push(("target".into(), t.clone()));
    }
    let start = r.start_time.string("startTime")?;
    let end = r.end_time.string("endTime")?;
    f.from = start
        .as_deref()
        .map(|s| dates::parse_time(s, false).map_err(|p| invalid("startTime", p)))
        .transpose()?;
    f.before = end
        .as_deref()
        .map(|s| dates::parse_time(s, true).map_err(|p| invalid("endTime", p)))
        .transpose()?;
    if let (Some(a), Some(b)) = (f.from, f.before) {
        if a > b {
            return Err(invalid(
                "endTime",
                Problem::says("must not be before startTime."),
            ));
        }
    }
    echo.extend(start.map(|s| ("startTime".to_owned(), s)));
    echo.extend(end.map(|s| ("endTime".to_owned(), s)));
    Ok((f, echo))
}

#[utoipa::path(get, path = "/2fa/audit", tag = "Audit",
    params(("actor" = Option<String>, Query, description = "a user sid, a user's email, an account sid or an API key sid"),
        ("action" = Option<String>, Query, description = "a dotted action name, e.g. limit.create"),
        ("target" = Option<String>, Query, description = "the sid (or name) of the object changed"),
        ("startTime" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD"),
        ("endTime" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD (inclusive day)"), ("accountSid" = Option<String>, Query,),
        ("Page" = Option<i64>, Query,), ("PageSize" = Option<i64>, Query, description = "1–1000, default 50"),
        ("AfterSid" = Option<String>, Query, description = "The auditSid of the previous page's last entry: the page continues after it by position. `nextPageUri` carries it.")),
    responses((status = 200, body = AuditResponse), (status = 400, body = ErrorEnvelope, description = "7004 naming the field")))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    input: ApiInput,
) -> Result<Json<AuditResponse>, ApiError> {
    let req: AuditRequest = input.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let after = req.after_sid.text("AfterSid", (1, 64))?;
    let paging = req.paging.parse_positional(after.is_some())?;
    let (filter, filters) = filter(&req)?;
    let page = match after {
        Some(after) => AuditPage::After {
            after,
            size: paging.size,
        },
        None => AuditPage::Page(paging),
    };
    let found = service::list(state.db(), &scope, &filter, page).await?;
    let mut echo = acting_for(&scope, &caller);
    echo.extend(filters);
    let mut page = Page::counted(
        paging,
        found.total,
        found.capped,
        found.items.len(),
        "/2fa/audit",
        &echo,
    );
    // The next page continues after this page's last entry (`AfterSid`), not by offset.
    if let (Some(last), Some(_)) = (found.items.last(), &page.next_page_uri) {
        echo.push(("AfterSid".into(), last.sid.to_string()));
        page.next_page_uri = Some(link("/2fa/audit", &echo, paging.page + 1, paging.size));
    }
    Ok(Json(AuditResponse {
        page,
        entries: found.items.iter().map(AuditEntryDto::from).collect(),
    }))
}
