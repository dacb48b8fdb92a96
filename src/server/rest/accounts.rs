//! `/2fa/accounts`: the caller's own account and its sub-accounts.
use super::api_error::ApiError;
use super::input::{invalid, ApiInput, Loose};
use super::paging::{Page, PageParams};
use crate::domain::{AccountStatus, Problem};
use crate::server::auth::{ApiCaller, ApiOrigin};
#[allow(unused_imports)]
use crate::server::rest::api_error::ErrorEnvelope;
use crate::server::services::audit::{self, AuditAction, Change};
use crate::server::services::{accounts, scope::Account};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An account (the auth token only in the answer that created it).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Account)]
pub struct AccountDto {
    pub account_sid: String,
    pub friendly_name: String,
    pub parent_sid: Option<String>,
    /// active | suspended | closed
    pub status: String,
    pub date_created: String,
    pub date_updated: String,
    pub uri: String,
    /// Only in `POST /2fa/accounts`: shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<String>,
}

/// `POST /2fa/accounts`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountCreate {
    /// 1–128 chars.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 128, example = "Support team")]
    pub friendly_name: Loose,
}

/// `POST /2fa/accounts/{sid}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountUpdate {
    #[schema(value_type = Option<String>)]
    pub friendly_name: Loose,
    /// active | suspended | closed
    #[schema(value_type = Option<String>)]
    pub status: Loose,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountsResponse {
    #[serde(flatten)]
    pub page: Page,
    pub accounts: Vec<AccountDto>,
}

impl From<&Account> for AccountDto {
    fn from(a: &Account) -> Self {
        AccountDto {
            account_sid: a.sid.to_string(),
            friendly_name: a.friendly_name.clone(),
            parent_sid: a.parent_sid.as_ref().map(ToString::to_string),
            status: a.status.as_str().into(),
            date_created: crate::server::clock::rfc3339(a.date_created),
            date_updated: crate::server::clock::rfc3339(a.date_updated),
            uri: format!("/2fa/accounts/{}", a.sid),
            auth_token: None,
        }
    }
}

/// `GET /2fa/accounts/{sid}`: the caller itself or one of its sub-accounts; otherwise 404.
#[utoipa::path(get, path = "/2fa/accounts/{sid}", tag = "Accounts", params(("sid" = String, Path,)),
    responses((status = 200, body = AccountDto), (status = 404, body = ErrorEnvelope)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    Path(sid): Path<String>,
) -> Result<Json<AccountDto>, ApiError> {
    let account = accounts::get_visible(state.db(), &scope, &sid).await?;
    Ok(Json(AccountDto::from(&account)))
}

/// `POST /2fa/accounts`: create a sub-account; the auth token appears only in this answer.
#[utoipa::path(post, path = "/2fa/accounts", tag = "Accounts", request_body = AccountCreate,
    responses((status = 201, body = AccountDto), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    input: ApiInput,
) -> Result<(StatusCode, Json<AccountDto>), ApiError> {
    let req: AccountCreate = input.into_wire()?;
    let name = req.friendly_name.text("friendlyName", (1, 128))?;
    let created = accounts::create_sub_account(state.db(), state.clock(), &scope, name).await?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        Change::new(AuditAction::SubaccountCreate, created.account.sid.as_str()).after(
            serde_json::json!({"friendlyName": created.account.friendly_name, "status": created.account.status.as_str()}),
        ),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(AccountDto {
            auth_token: Some(created.auth_token),
            ..AccountDto::from(&created.account)
        }),
    ))
}

/// `GET /2fa/accounts`: the caller's sub-accounts.
#[utoipa::path(get, path = "/2fa/accounts", tag = "Accounts", responses((status = 200, body = AccountsResponse)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    input: ApiInput,
) -> Result<Json<AccountsResponse>, ApiError> {
    let req: PageParams = input.into_wire()?;
    let paging = req.parse()?;
    let (items, total) =
        accounts::list_sub_accounts(state.db(), &scope, paging.size, paging.offset()).await?;
    Ok(Json(AccountsResponse {
        page: Page::of(paging, total, items.len(), "/2fa/accounts", &[]),
        accounts: items.iter().map(AccountDto::from).collect(),
    }))
}

/// `POST /2fa/accounts/{sid}`: `{friendlyName?, status?}`.
#[utoipa::path(post, path = "/2fa/accounts/{sid}", tag = "Accounts", params(("sid" = String, Path,)), request_body = AccountUpdate,
    responses((status = 200, body = AccountDto), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    Path(sid): Path<String>,
    input: ApiInput,
) -> Result<Json<AccountDto>, ApiError> {
    let req: AccountUpdate = input.into_wire()?;
    let name = req.friendly_name.text("friendlyName", (1, 128))?;
    let status = match req.status.string("status")? {
        None => None,
        Some(s) => Some(AccountStatus::parse(s.trim()).map_err(|_| {
            invalid(
                "status",
                Problem::says("must be active, suspended or closed."),
            )
        })?),
    };
    if name.is_none() && status.is_none() {
        return Err(invalid(
            "friendlyName",
            Problem::sentence("Send friendlyName and/or status."),
        ));
    }
    let before = accounts::get_visible(state.db(), &scope, &sid).await?;
    let account = accounts::update(state.db(), state.clock(), &scope, &sid, name, status).await?;
    audit::record_all_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        audit::account_changes(&before, &account),
    )
    .await;
    state
        .guards()
        .auth_cache
        .forget_account(account.sid.as_str());
    Ok(Json(AccountDto::from(&account)))
}
