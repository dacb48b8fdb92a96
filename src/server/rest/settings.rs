//! `/2fa/settings`: account settings that are not fields of a send. A sub-account inherits its
//! parent's until it sets its own; `null` goes back to inheriting. (Today: `voicePressKey`.)
use super::api_error::{ApiError, ErrorEnvelope};
use super::input::{ApiInput, Loose};
use super::otps::acting;
use super::providers::ScopeOnly;
use crate::server::auth::{ApiCaller, ApiOrigin};
use crate::server::services::audit;
use crate::server::services::settings::{self as service, VoicePressKey};
use crate::server::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `PUT /2fa/settings`: the fields given change; the others stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct SettingsRequest {
    /// Calls say "press any key to hear your code" and read the code only once a key was
    /// pressed (voicemail records no code). `null`: as the parent account (or off).
    #[schema(value_type = Option<bool>)]
    #[serde(deserialize_with = "present")]
    pub voice_press_key: Option<Loose>,
    #[schema(value_type = Option<String>)]
    pub account_sid: Loose,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsResponse {
    pub account_sid: String,
    /// What applies now.
    pub voice_press_key: bool,
    /// Where it comes from: `account`, `parent` or `default`.
    pub voice_press_key_source: String,
    pub uri: String,
}

/// A field that was given, even as `null` (absent stays `None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Loose>, D::Error> {
    Ok(Some(Loose(Option::<serde_json::Value>::deserialize(d)?)))
}

fn answer(account: &str, v: VoicePressKey) -> SettingsResponse {
    SettingsResponse {
        account_sid: account.to_owned(),
        voice_press_key: v.on,
        voice_press_key_source: v.source.as_str().into(),
        uri: "/2fa/settings".into(),
    }
}

#[utoipa::path(get, path = "/2fa/settings", tag = "Settings", responses((status = 200, body = SettingsResponse)))]
pub async fn get(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: ApiInput,
) -> Result<Json<SettingsResponse>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let v = service::voice_press_key(state.db(), scope.sid())
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(answer(scope.sid().as_str(), v)))
}

#[utoipa::path(put, path = "/2fa/settings", tag = "Settings", request_body = SettingsRequest,
    responses((status = 200, body = SettingsResponse), (status = 400, body = ErrorEnvelope, description = "7004 naming the field")))]
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    body: ApiInput,
) -> Result<Json<SettingsResponse>, ApiError> {
    let req: SettingsRequest = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let v = match &req.voice_press_key {
        // Absent: unchanged.
        None => service::voice_press_key(state.db(), scope.sid()).await,
        // true or false; null (or empty): as the parent account again.
        Some(given) => {
            let on = given.bool("voicePressKey")?;
            let before = service::voice_press_key(state.db(), scope.sid())
                .await
                .map_err(ApiError::internal)?;
            let after = service::set_voice_press_key(state.db(), state.clock(), &scope, on)
                .await
                .map_err(ApiError::internal)?;
            audit::record_after(
                state.db(),
                state.clock(),
                Some(scope.sid()),
                &origin,
                audit::voice_press_key_change(before, after),
            )
            .await;
            Ok(after)
        }
    }
    .map_err(ApiError::internal)?;
    Ok(Json(answer(scope.sid().as_str(), v)))
}
