//! `/2fa/settings/fraudGuard` and `/2fa/fraudGuard/blocks`: the fraud guard's mode and
//! safe-list, the number prefixes it blocks now, and lifting a block.
use super::api_error::{ApiError, ErrorEnvelope};
use super::input::{invalid, ApiInput, Loose};
use super::otps::acting;
use super::providers::ScopeOnly;
use super::settings::present;
use crate::domain::fraud::FraudMode;
use crate::domain::{ErrorCode, Problem};
use crate::server::auth::{ApiCaller, ApiOrigin};
use crate::server::clock::rfc3339;
use crate::server::db::fraud::Block;
use crate::server::services::audit;
use crate::server::services::fraud::{self as service, FraudGuard, LiftError};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FraudGuardResponse {
    pub account_sid: String,
    /// `block`, `monitor`, `off`, or `null`: set nowhere, so traffic through real providers
    /// is blocked and sandbox traffic only recorded.
    pub mode: Option<String>,
    /// Numbers and prefixes never blocked.
    pub safe_list: Vec<String>,
    /// Where `mode` and `safeList` come from: `account`, `parent` or `default`.
    pub sources: BTreeMap<&'static str, &'static str>,
    /// The mode each phone channel's traffic gets now.
    #[schema(value_type = Object)]
    pub applies: BTreeMap<&'static str, &'static str>,
    pub uri: String,
}

/// `PUT /2fa/settings/fraudGuard`: the fields given change; `null` inherits.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct FraudGuardRequest {
    /// `block`, `monitor`, `off`, or `null`.
    #[schema(value_type = Option<String>)]
    #[serde(deserialize_with = "present")]
    pub mode: Option<Loose>,
    /// E.164 numbers or prefixes (`+` and digits), or `null`.
    #[schema(value_type = Option<Vec<String>>)]
    #[serde(deserialize_with = "present")]
    pub safe_list: Option<Loose>,
    #[schema(value_type = Option<String>)]
    pub account_sid: Loose,
}

fn answer(account: &str, g: &FraudGuard) -> FraudGuardResponse {
    FraudGuardResponse {
        account_sid: account.to_owned(),
        mode: g.settings.mode.value.map(|m| m.as_str().to_owned()),
        safe_list: g.settings.safe_list.value.entries().to_vec(),
        sources: BTreeMap::from([
            ("mode", g.settings.mode.source.as_str()),
            ("safeList", g.settings.safe_list.source.as_str()),
        ]),
        applies: g
            .applies
            .iter()
            .map(|(c, m)| (c.as_str(), m.as_str()))
            .collect(),
        uri: "/2fa/settings/fraudGuard".into(),
    }
}

#[utoipa::path(get, path = "/2fa/settings/fraudGuard", tag = "Settings", responses((status = 200, body = FraudGuardResponse)))]
pub async fn get(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: ApiInput,
) -> Result<Json<FraudGuardResponse>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let g = service::get(state.otp(), &scope)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(answer(scope.sid().as_str(), &g)))
}

#[utoipa::path(put, path = "/2fa/settings/fraudGuard", tag = "Settings", request_body = FraudGuardRequest,
    responses((status = 200, body = FraudGuardResponse), (status = 400, body = ErrorEnvelope, description = "7004 naming mode or safeList")))]
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    body: ApiInput,
) -> Result<Json<FraudGuardResponse>, ApiError> {
    let req: FraudGuardRequest = body.into_wire()?;
    let mode = match &req.mode {
        None => None,
        Some(l) => Some(match l.string("mode")? {
            None => None,
            Some(s) => Some(FraudMode::parse(s.trim()).ok_or_else(|| {
                invalid(
                    "mode",
                    Problem::says("must be block, monitor, off, or null (inherit)."),
                )
            })?),
        }),
    };
    let safe_list = match &req.safe_list {
        None => None,
        Some(Loose(None)) => Some(None),
        Some(l) => {
            let items = l.list("safeList")?.unwrap_or_default();
            Some(Some(
                service::parse_safe_list(items.iter().map(String::as_str))
                    .map_err(|p| invalid("safeList", p))?,
            ))
        }
    };
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let (g, changed) = service::set(state.otp(), state.clock(), &scope, mode, safe_list)
        .await
        .map_err(ApiError::internal)?;
    if changed.is_change() {
        audit::record_after(
            state.db(),
            state.clock(),
            Some(scope.sid()),
            &origin,
            service::settings_change(&changed),
        )
        .await;
    }
    Ok(Json(answer(scope.sid().as_str(), &g)))
}

/// A number prefix the guard blocks.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockDto {
    pub prefix: String,
    pub country_code: Option<String>,
    pub channel: String,
    /// Which rule tripped, with the numbers.
    pub reason: String,
    pub since: String,
    pub until: String,
}

impl From<&Block> for BlockDto {
    fn from(b: &Block) -> Self {
        BlockDto {
            prefix: b.prefix.clone(),
            country_code: b.country_code.clone(),
            channel: b.channel.as_str().into(),
            reason: b.reason.clone(),
            since: rfc3339(b.since),
            until: rfc3339(b.until),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlocksResponse {
    pub account_sid: String,
    pub blocks: Vec<BlockDto>,
    pub uri: String,
}

#[utoipa::path(get, path = "/2fa/fraudGuard/blocks", tag = "Settings", responses((status = 200, body = BlocksResponse)))]
pub async fn blocks(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: ApiInput,
) -> Result<Json<BlocksResponse>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let list = service::blocks(state.otp(), &scope)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(BlocksResponse {
        account_sid: scope.sid().as_str().to_owned(),
        blocks: list.iter().map(BlockDto::from).collect(),
        uri: "/2fa/fraudGuard/blocks".into(),
    }))
}

#[utoipa::path(delete, path = "/2fa/fraudGuard/blocks/{prefix}", tag = "Settings",
    params(("prefix" = String, Path, description = "the blocked prefix, like +44770090 (URL-encode + as %2B)")),
    responses((status = 200, body = BlocksResponse, description = "the blocks lifted"), (status = 404, body = ErrorEnvelope, description = "7003: no block of this prefix is in force")))]
pub async fn lift(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    Path(prefix): Path<String>,
    body: ApiInput,
) -> Result<Json<BlocksResponse>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let lifted = service::lift(state.otp(), &scope, &prefix, &origin)
        .await
        .map_err(|e| match e {
            LiftError::Invalid(p) => invalid("prefix", p),
            LiftError::NotBlocked(p) => ApiError::new(
                ErrorCode::NotFound,
                format!(
                    "No block of prefix {p} is in force (GET /2fa/fraudGuard/blocks lists them)."
                ),
            ),
            LiftError::Internal(e) => ApiError::internal(e),
        })?;
    Ok(Json(BlocksResponse {
        account_sid: scope.sid().as_str().to_owned(),
        blocks: lifted.iter().map(BlockDto::from).collect(),
        uri: format!("/2fa/fraudGuard/blocks/{prefix}"),
    }))
}
