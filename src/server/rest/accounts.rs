//! `/2fa/accounts`: the caller's own account and its sub-accounts.
use super::error::ApiError;
use super::input::ApiInput;
use crate::domain::AccountStatus;
use crate::server::auth::ApiCaller;
use crate::server::services::otp::input::Fields;
use crate::server::services::otp::sdr::Paging;
use crate::server::services::ServiceError;
use crate::server::services::{accounts, scope::Account};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

/// The wire shape of an account (no secrets).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountDto {
    pub account_sid: String,
    pub friendly_name: String,
    pub parent_sid: Option<String>,
    pub status: &'static str,
    pub date_created: String,
    pub date_updated: String,
    pub uri: String,
}

impl From<&Account> for AccountDto {
    fn from(a: &Account) -> Self {
        AccountDto {
            account_sid: a.sid.to_string(),
            friendly_name: a.friendly_name.clone(),
            parent_sid: a.parent_sid.as_ref().map(ToString::to_string),
            status: a.status.as_str(),
            date_created: crate::server::clock::rfc3339(a.date_created),
            date_updated: crate::server::clock::rfc3339(a.date_updated),
            uri: format!("/2fa/accounts/{}", a.sid),
        }
    }
}

/// `GET /2fa/accounts/{sid}`: the caller itself or one of its sub-accounts; otherwise 404.
pub async fn get_one(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    Path(sid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let account = accounts::get_visible(state.db(), &scope, &sid).await?;
    let mut body = serde_json::to_value(AccountDto::from(&account)).unwrap_or_default();
    let secret = accounts::callback_secret(state.db(), account.sid.as_str())
        .await
        .map_err(ApiError::internal)?;
    body["callbackSigningSecret"] = Value::String(secret);
    Ok(Json(body))
}

/// `POST /2fa/accounts`: create a sub-account; the auth token appears only in this answer.
pub async fn create(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiInput(input): ApiInput,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = Fields(&input).text("friendlyName", 1, 128)?;
    let created = accounts::create_sub_account(state.db(), state.clock(), &scope, name).await?;
    let mut body = serde_json::to_value(AccountDto::from(&created.account)).unwrap_or_default();
    body["authToken"] = Value::String(created.auth_token);
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /2fa/accounts`: the caller's sub-accounts.
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    ApiInput(input): ApiInput,
) -> Result<Json<Value>, ApiError> {
    let paging = Paging::parse(&Fields(&input))?;
    let (items, total) = accounts::list_sub_accounts(
        state.db(),
        &scope,
        paging.page_size,
        paging.page * paging.page_size,
    )
    .await?;
    let mut out = paging.envelope(total, items.len(), "/2fa/accounts", &[]);
    out.insert(
        "accounts".into(),
        items.iter().map(|a| json!(AccountDto::from(a))).collect(),
    );
    Ok(Json(Value::Object(out)))
}

/// `POST /2fa/accounts/{sid}`: `{friendlyName?, status?}`.
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(scope): ApiCaller,
    Path(sid): Path<String>,
    ApiInput(input): ApiInput,
) -> Result<Json<AccountDto>, ApiError> {
    let f = Fields(&input);
    let name = f.text("friendlyName", 1, 128)?;
    let status = match f.string("status")? {
        None => None,
        Some(s) => Some(AccountStatus::parse(s.trim()).map_err(|_| {
            ServiceError::invalid("status", "status must be active, suspended or closed.")
        })?),
    };
    if name.is_none() && status.is_none() {
        return Err(
            ServiceError::invalid("friendlyName", "Send friendlyName and/or status.").into(),
        );
    }
    let account = accounts::update(state.db(), state.clock(), &scope, &sid, name, status).await?;
    state.inner.auth_cache.forget_account(account.sid.as_str());
    Ok(Json(AccountDto::from(&account)))
}
