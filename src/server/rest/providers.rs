//! `/2fa/providers`: an account's delivery providers (secrets write-only), a test message
//! through one of them, and the delivery receipts providers post back
//! (`/2fa/providers/{providerSid}/status`, no Basic auth: Twilio's are signed; every receipt
//! URL carries an unguessable token of its delivery). `/2fa/voice/{token}`: the voice document.
use super::api_error::{ApiError, ErrorEnvelope};
use super::input::{invalid, ApiInput, Loose};
use super::otps::acting;
use super::paging::{acting_for, Page};
use crate::domain::provider::{ConfigInput, ProviderConfig, ProviderKind, ProviderSetup};
use crate::domain::{Channel, ErrorCode, Problem};
use crate::server::auth::{ApiCaller, ApiOrigin};
use crate::server::clock::rfc3339;
use crate::server::services::audit::{self, AuditAction, Change};
use crate::server::services::otp::receipts::{self, Receipt, Received};
use crate::server::services::paging::PageRequest;
use crate::server::services::providers::{
    self as service, ProviderError, ProviderField, ProviderInput,
};
use crate::server::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// `POST /2fa/providers`, `PUT /2fa/providers/{providerSid}` (PUT replaces the provider;
/// secrets left out keep their value).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderRequest {
    /// `twilio` | `restcomm` | `http` | `smtp` | `webhook`.
    #[schema(value_type = String, required = true)]
    pub kind: Loose,
    /// 1–64 chars, unique in the account.
    #[schema(value_type = String, required = true)]
    pub name: Loose,
    /// The channels it delivers: `sms`, `call` (twilio, restcomm, http, webhook), `email`
    /// (smtp, webhook).
    #[schema(value_type = Vec<String>, required = true)]
    pub channels: Loose,
    /// ISO 3166 alpha-2 destination countries it is for; empty or absent: every country.
    #[schema(value_type = Option<Vec<String>>)]
    pub countries: Loose,
    /// 0–1000, lower first (default 10).
    #[schema(value_type = Option<i64>)]
    pub priority: Loose,
    /// Default true.
    #[schema(value_type = Option<bool>)]
    pub enabled: Loose,
    /// By kind — twilio/restcomm: `{baseUrl, accountSid, authToken, from, messagingServiceSid?}`;
    /// http: `{url, method, headers?, contentType: json|form, bodyTemplate, messageIdPath?}`;
    /// smtp: `{host, port, security: starttls|tls|none, username?, password?, fromAddress, fromName?}`;
    /// webhook: `{url}`.
    #[schema(value_type = Object, required = true)]
    pub config: Loose,
    #[schema(value_type = Option<String>)]
    pub account_sid: Loose,
}

/// A provider (secrets as `••••` and their last 4 characters).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderDto {
    pub provider_sid: String,
    pub account_sid: Option<String>,
    pub kind: String,
    pub name: String,
    pub channels: Vec<String>,
    pub countries: Vec<String>,
    pub priority: i64,
    pub enabled: bool,
    #[schema(value_type = Object)]
    pub config: Value,
    /// Where this provider must post delivery receipts (given with every message).
    pub status_callback_url: String,
    pub date_created: String,
    pub date_updated: String,
    pub uri: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvidersResponse {
    #[serde(flatten)]
    pub page: Page,
    pub providers: Vec<ProviderDto>,
}

/// `POST /2fa/providers/{providerSid}/test`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderTestRequest {
    /// `sms` (default for phone numbers) or `email`.
    #[schema(value_type = Option<String>)]
    pub channel: Loose,
    #[schema(value_type = Option<String>)]
    pub to: Loose,
    #[schema(value_type = Option<String>)]
    pub email_to: Loose,
    #[schema(value_type = Option<String>)]
    pub account_sid: Loose,
}

/// What a provider said to a test message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderTestResponse {
    pub code: u16,
    pub message: String,
    pub provider_sid: String,
    pub channel: String,
    /// The provider took it.
    pub accepted: bool,
    /// `sent`, `delivered`, `failed` or `retry` (a failure worth trying again).
    pub status: String,
    pub provider_message_id: Option<String>,
    /// The provider's refusal, in words.
    pub error: Option<String>,
}

fn field_name(f: ProviderField) -> String {
    match f {
        ProviderField::Kind => "kind".into(),
        ProviderField::Name => "name".into(),
        ProviderField::Channels => "channels".into(),
        ProviderField::Countries => "countries".into(),
        ProviderField::Priority => "priority".into(),
        ProviderField::Config(key) => format!("config.{key}"),
        ProviderField::To => "to".into(),
    }
}

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::Invalid { field, problem } => invalid(&field_name(field), problem),
            ProviderError::DuplicateName => ApiError::new(
                ErrorCode::DuplicateName,
                "A provider with this name already exists in this account.",
            )
            .with_field("name"),
            ProviderError::NotFound => {
                ApiError::new(ErrorCode::NotFound, "The requested provider was not found.")
            }
            ProviderError::Denied(m) => ApiError::new(ErrorCode::Forbidden, m),
            ProviderError::Internal(e) => ApiError::internal(e),
        }
    }
}

fn masked_config(config: &ProviderConfig) -> Value {
    use crate::domain::provider::Shown;
    config
        .shown()
        .into_iter()
        .map(|(key, shown)| {
            let value = match shown {
                Shown::Text(t) | Shown::Secret(t) => Value::from(t),
                Shown::Number(n) => Value::from(n),
                Shown::Headers(h) => Value::Object(
                    h.into_iter()
                        .map(|(n, v)| (n, Value::from(v)))
                        .collect::<Map<_, _>>(),
                ),
            };
            (key.to_owned(), value)
        })
        .collect::<Map<_, _>>()
        .into()
}

pub fn dto(state: &AppState, p: &ProviderSetup) -> ProviderDto {
    ProviderDto {
        provider_sid: p.sid.to_string(),
        account_sid: p.account_sid.as_ref().map(|a| a.to_string()),
        kind: p.kind().as_str().into(),
        name: p.name.clone(),
        channels: p.channels.iter().map(|c| c.as_str().to_owned()).collect(),
        countries: p.countries.clone(),
        priority: p.priority,
        enabled: p.enabled,
        config: masked_config(&p.config),
        status_callback_url: format!(
            "{}/2fa/providers/{}/status",
            state.settings().public_base(),
            p.sid
        ),
        date_created: rfc3339(p.date_created),
        date_updated: rfc3339(p.date_updated),
        uri: format!("/2fa/providers/{}", p.sid),
    }
}

/// The request's fields as a provider.
fn input(r: &ProviderRequest) -> Result<ProviderInput, ApiError> {
    let kind_raw = r.kind.required_text("kind", (1, 16))?;
    let kind = ProviderKind::parse(&kind_raw).ok_or_else(|| {
        invalid(
            "kind",
            Problem::says("must be twilio, restcomm, http, smtp or webhook."),
        )
    })?;
    let mut channels = Vec::new();
    for c in r.channels.list("channels")?.unwrap_or_default() {
        channels.push(Channel::parse(&c).ok_or_else(|| {
            invalid(
                "channels",
                Problem::says(format!(
                    "lists an unknown channel {c:?} (use sms, call, email)."
                )),
            )
        })?);
    }
    let countries = r
        .countries
        .list("countries")?
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let config = match &r.config.0 {
        None => return Err(invalid("config", Problem::Required)),
        // Forms carry the object as JSON text.
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|_| invalid("config", Problem::says("must be a JSON object.")))?,
        Some(v) => v.clone(),
    };
    let config = ConfigInput::from_json(&config).map_err(|(key, p)| {
        let field = if key.is_empty() {
            "config".to_owned()
        } else {
            format!("config.{key}")
        };
        invalid(&field, p)
    })?;
    Ok(ProviderInput {
        kind,
        name: r.name.required_text("name", (1, 64))?,
        channels,
        countries,
        priority: r.priority.int("priority", (0, 1000))?.unwrap_or(10),
        enabled: r.enabled.bool("enabled")?.unwrap_or(true),
        config,
    })
}

#[utoipa::path(post, path = "/2fa/providers", tag = "Providers", request_body = ProviderRequest,
    responses((status = 201, body = ProviderDto), (status = 400, body = ErrorEnvelope, description = "7004 naming the field (config.baseUrl…); a URL pointing at an internal address is refused"),
        (status = 409, body = ErrorEnvelope, description = "7050 duplicate name")))]
pub async fn create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    body: ApiInput,
) -> Result<(StatusCode, Json<ProviderDto>), ApiError> {
    let req: ProviderRequest = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let p = service::create(
        state.db(),
        state.clock(),
        &state.provider_keys(),
        &scope,
        input(&req)?,
    )
    .await?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        Change::new(AuditAction::ProviderCreate, p.sid.as_str()).after(audit::provider_json(&p)),
    )
    .await;
    Ok((StatusCode::CREATED, Json(dto(&state, &p))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScopeOnly {
    pub account_sid: Loose,
}

#[utoipa::path(get, path = "/2fa/providers", tag = "Providers", responses((status = 200, body = ProvidersResponse)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: ApiInput,
) -> Result<Json<ProvidersResponse>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let all = service::list(state.db(), state.otp().code_key(), &scope).await?;
    let paging = PageRequest {
        page: 0,
        size: service::MAX_PER_ACCOUNT,
    };
    Ok(Json(ProvidersResponse {
        page: Page::of(
            paging,
            all.len() as i64,
            all.len(),
            "/2fa/providers",
            &acting_for(&scope, &caller),
        ),
        providers: all.iter().map(|p| dto(&state, p)).collect(),
    }))
}

#[utoipa::path(get, path = "/2fa/providers/{providerSid}", tag = "Providers", params(("providerSid" = String, Path,)),
    responses((status = 200, body = ProviderDto), (status = 404, body = ErrorEnvelope)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(sid): Path<String>,
    body: ApiInput,
) -> Result<Json<ProviderDto>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let p = service::get(state.db(), state.otp().code_key(), &scope, &sid).await?;
    Ok(Json(dto(&state, &p)))
}

#[utoipa::path(put, path = "/2fa/providers/{providerSid}", tag = "Providers", params(("providerSid" = String, Path,)), request_body = ProviderRequest,
    responses((status = 200, body = ProviderDto), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    Path(sid): Path<String>,
    body: ApiInput,
) -> Result<Json<ProviderDto>, ApiError> {
    let req: ProviderRequest = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let before = service::get(state.db(), state.otp().code_key(), &scope, &sid).await?;
    let p = service::update(
        state.db(),
        state.clock(),
        &state.provider_keys(),
        &scope,
        &sid,
        input(&req)?,
    )
    .await?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        Change::new(AuditAction::ProviderUpdate, p.sid.as_str())
            .before(audit::provider_json(&before))
            .after(audit::provider_json(&p)),
    )
    .await;
    Ok(Json(dto(&state, &p)))
}

#[utoipa::path(delete, path = "/2fa/providers/{providerSid}", tag = "Providers", params(("providerSid" = String, Path,)),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    Path(sid): Path<String>,
    body: ApiInput,
) -> Result<StatusCode, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let before = service::get(state.db(), state.otp().code_key(), &scope, &sid).await?;
    service::delete(state.db(), &state.provider_keys(), &scope, &sid).await?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        Change::new(AuditAction::ProviderDelete, before.sid.as_str())
            .before(audit::provider_json(&before)),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/2fa/providers/{providerSid}/test", tag = "Providers", params(("providerSid" = String, Path,)), request_body = ProviderTestRequest,
    responses((status = 200, body = ProviderTestResponse, description = "what the provider said (accepted or not)"), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn test(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(sid): Path<String>,
    body: ApiInput,
) -> Result<Json<ProviderTestResponse>, ApiError> {
    let req: ProviderTestRequest = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let channel = req.channel.channel("channel")?;
    let to = match (req.to.string("to")?, req.email_to.string("emailTo")?) {
        (_, Some(e)) if !e.contains('@') => {
            return Err(invalid(
                "emailTo",
                Problem::says("must be an email address."),
            ))
        }
        (_, Some(e)) => e,
        (Some(to), None) => to,
        (None, None) => {
            return Err(invalid(
                "to",
                Problem::sentence("to or emailTo is required: where the test message goes."),
            ))
        }
    };
    let (channel, out) = service::test(
        state.db(),
        state.clock().now_ms(),
        &state.provider_keys(),
        &scope,
        &sid,
        channel,
        &to,
    )
    .await?;
    Ok(Json(ProviderTestResponse {
        code: 200,
        message: "OK".into(),
        provider_sid: sid.trim().to_owned(),
        channel: channel.as_str().into(),
        accepted: out.accepted,
        status: out.status.into(),
        provider_message_id: out.provider_message_id,
        error: out.error,
    }))
}

/// A receipt's fields: form (Twilio, Restcomm) or JSON (gateways).
fn receipt_fields(
    content_type: Option<&str>,
    body: &[u8],
) -> (Vec<(String, String)>, Map<String, Value>) {
    let form: Vec<(String, String)> = if content_type.is_some_and(|c| c.contains("json")) {
        Vec::new()
    } else {
        form_urlencoded::parse(body).into_owned().collect()
    };
    let json: Map<String, Value> = if content_type.is_some_and(|c| c.contains("json")) {
        serde_json::from_slice(body).unwrap_or_default()
    } else {
        Map::new()
    };
    (form, json)
}

/// `POST /2fa/providers/{providerSid}/status`: a delivery receipt.
pub async fn receipt(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    RawQuery(query): RawQuery,
    headers: http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match receive(&state, &sid, query.as_deref(), &headers, &body).await {
        Ok(status) => status.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn receive(
    state: &AppState,
    sid: &str,
    query: Option<&str>,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::new(ErrorCode::NotFound, "No such provider or delivery.");
    let setup = service::by_sid(
        state.db(),
        state.otp().code_key(),
        state.providers().defaults(),
        sid,
    )
    .await
    .map_err(ApiError::internal)?
    .ok_or_else(not_found)?;
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (form, json) = receipt_fields(content_type, body);
    let token = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "d")
            .map(|(_, v)| v.into_owned())
    });
    let pick = |names: &[&str]| -> Option<String> {
        names.iter().find_map(|n| {
            form.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .or_else(|| {
                    json.get(*n).and_then(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .or_else(|| (!v.is_null()).then(|| v.to_string()))
                    })
                })
        })
    };
    let receipt = Receipt {
        token,
        message_id: pick(&["MessageSid", "SmsSid", "CallSid", "messageId", "id"]),
        status: pick(&[
            "MessageStatus",
            "SmsStatus",
            "CallStatus",
            "Status",
            "status",
        ])
        .unwrap_or_default(),
        error: pick(&["ErrorCode", "ChannelStatusMessage", "error", "errorCode"])
            .filter(|e| !e.is_empty() && e != "0"),
    };
    if receipts::signed(setup.kind()) {
        let ProviderConfig::Twilio(c) = &setup.config else {
            return Err(not_found());
        };
        let url = format!(
            "{}/2fa/providers/{sid}/status{}",
            state.settings().public_base(),
            query.map(|q| format!("?{q}")).unwrap_or_default()
        );
        let signature = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok());
        let valid = signature.is_some_and(|s| {
            crate::server::providers::cpaas::twilio_signature_valid(
                c.auth_token.expose(),
                &url,
                &form,
                s,
            )
        });
        if !valid {
            let reason = if signature.is_none() {
                "no X-Twilio-Signature"
            } else {
                "X-Twilio-Signature does not match"
            };
            tracing::warn!(provider = %setup.sid, reason, "delivery receipt refused");
            receipts::refused(state.otp(), &setup, &receipt, reason)
                .await
                .map_err(ApiError::internal)?;
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("Receipt refused: {reason}."),
            ));
        }
    }
    let lineup = async |otp: &crate::domain::Otp| -> anyhow::Result<receipts::Lineup> {
        let channel = otp.channel;
        let routes = crate::server::workers::delivery::routes(state, otp, channel)
            .await?
            .unwrap_or_default();
        let index = routes
            .iter()
            .position(|r| r.setup.as_ref().is_some_and(|s| s.sid == setup.sid));
        Ok((routes.iter().map(|r| r.provider.name()).collect(), index))
    };
    match receipts::receive(state.otp(), &setup, receipt, lineup)
        .await
        .map_err(ApiError::internal)?
    {
        Received::Recorded => Ok(StatusCode::NO_CONTENT),
        Received::Unknown => Err(not_found()),
    }
}

/// `GET|POST /2fa/voice/{token}`: what the call says. `?pressed=1` (the action of the "press
/// any key" prompt) or a posted `Digits` field: a key was pressed, read the code.
pub async fn voice(
    State(state): State<AppState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    let pressed = query.as_deref().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "pressed" && v == "1")
    }) || form_urlencoded::parse(&body).any(|(k, v)| k == "Digits" && !v.is_empty());
    let url = format!("{}/2fa/voice/{token}", state.settings().public_base());
    let doc =
        crate::server::services::otp::voice::document(state.otp(), &token, pressed, &url).await;
    let no_store = (http::header::CACHE_CONTROL, "no-store");
    match doc {
        Ok(Some(xml)) => (
            StatusCode::OK,
            [(http::header::CONTENT_TYPE, "application/xml"), no_store],
            xml,
        )
            .into_response(),
        Ok(None) => {
            let mut res =
                ApiError::new(ErrorCode::NotFound, "No such call, or it is over.").into_response();
            res.headers_mut().insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
            res
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}
