//! `/2fa/accounts`: the caller's own account and its sub-accounts.
use super::error::ApiError;
use crate::server::auth::ApiCaller;
use crate::server::services::{accounts, scope::Account};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;

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
) -> Result<Json<AccountDto>, ApiError> {
    let account = accounts::get_visible(state.db(), &scope, &sid).await?;
    Ok(Json(AccountDto::from(&account)))
}
