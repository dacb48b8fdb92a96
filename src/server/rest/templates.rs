//! `/2fa/templates`: an account's message templates per channel and language — its own, its
//! parent's (a sub-account) or the built-in ones. PUT writes the account's own (`{text}` for
//! sms and call, `{subject, text, html?}` for email); DELETE goes back to the parent's or the
//! built-in one.
use super::api_error::{ApiError, ErrorEnvelope};
use super::input::{invalid, ApiInput, Loose};
use super::otps::acting;
use super::providers::ScopeOnly;
use crate::domain::template::{self, Encoding};
use crate::domain::{Channel, ErrorCode};
use crate::server::auth::{ApiCaller, ApiOrigin};
use crate::server::clock::rfc3339;
use crate::server::services::audit;
use crate::server::services::templates::{
    self as service, Effective, TemplateError, TemplateField, TemplateInput, TemplateKey,
};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `PUT /2fa/templates/{channel}/{language}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct TemplateRequest {
    /// Email only: the subject, one line of 1–200 characters.
    #[schema(value_type = Option<String>)]
    pub subject: Loose,
    /// The message text, 1–1600 characters with `{code}`; placeholders `{code}`, `{service}`,
    /// `{ttl}` and `{minutes}` (minutes until expiry). An SMS may have at most 10 segments.
    #[schema(value_type = String, required = true)]
    pub text: Loose,
    /// Email only: the HTML part (with `{code}`); absent: made from the text.
    #[schema(value_type = Option<String>)]
    pub html: Loose,
    #[schema(value_type = Option<String>)]
    pub account_sid: Loose,
}

/// The size of an SMS template filled with a sample code.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsLengthDto {
    /// `GSM-7` or `UCS-2`.
    pub encoding: String,
    pub characters: usize,
    pub segments: usize,
}

/// A template as it applies.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateDto {
    pub account_sid: String,
    /// `sms`, `call` or `email`.
    pub channel: String,
    /// The template's language (`es` when `es-MX` has none of its own).
    pub language: String,
    /// Email only.
    pub subject: Option<String>,
    pub text: String,
    /// Email only.
    pub html: Option<String>,
    /// `account` (its own), `parent` (the parent account's) or `builtin`.
    pub source: String,
    /// When the account's or parent's template was written; `null` when built in.
    pub date_updated: Option<String>,
    /// SMS only: the length once filled with a sample code.
    pub sms_length: Option<SmsLengthDto>,
    pub uri: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplatesResponse {
    pub account_sid: String,
    /// Per channel: the built-in languages and every language with an own or parent template.
    pub templates: Vec<TemplateDto>,
    pub uri: String,
}

fn field_name(f: TemplateField) -> &'static str {
    match f {
        TemplateField::Channel => "channel",
        TemplateField::Language => "language",
        TemplateField::Subject => "subject",
        TemplateField::Text => "text",
        TemplateField::Html => "html",
    }
}

impl From<TemplateError> for ApiError {
    fn from(e: TemplateError) -> Self {
        match e {
            TemplateError::Invalid { field, problem } => invalid(field_name(field), problem),
            TemplateError::NotFound => ApiError::new(
                ErrorCode::NotFound,
                "This account has no template of its own for this channel and language.",
            ),
            TemplateError::Internal(e) => ApiError::internal(e),
        }
    }
}

fn dto(account: &str, e: Effective) -> TemplateDto {
    let sms_length = (e.channel == Channel::Sms).then(|| {
        let len = template::sms_length(&template::sample(&e.template.text, e.channel));
        SmsLengthDto {
            encoding: match len.encoding {
                Encoding::Gsm7 => "GSM-7",
                Encoding::Ucs2 => "UCS-2",
            }
            .into(),
            characters: len.characters,
            segments: len.segments,
        }
    });
    TemplateDto {
        account_sid: account.to_owned(),
        channel: e.channel.as_str().into(),
        uri: format!("/2fa/templates/{}/{}", e.channel.as_str(), e.language),
        language: e.language,
        subject: e.template.subject,
        text: e.template.text,
        html: e.template.html,
        source: e.source.as_str().into(),
        date_updated: e.date_updated.map(rfc3339),
        sms_length,
    }
}

#[utoipa::path(get, path = "/2fa/templates", tag = "Templates", responses((status = 200, body = TemplatesResponse)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: ApiInput,
) -> Result<Json<TemplatesResponse>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let all = service::list(state.db(), &scope)
        .await
        .map_err(ApiError::internal)?;
    let account = scope.sid().as_str();
    Ok(Json(TemplatesResponse {
        account_sid: account.to_owned(),
        templates: all.into_iter().map(|e| dto(account, e)).collect(),
        uri: "/2fa/templates".into(),
    }))
}

#[utoipa::path(get, path = "/2fa/templates/{channel}/{language}", tag = "Templates",
    params(("channel" = String, Path, description = "sms, call or email"), ("language" = String, Path, description = "a BCP 47 tag (es, es-MX); falls back to the base language, then English")),
    responses((status = 200, body = TemplateDto, description = "the template a message in this language gets"), (status = 400, body = ErrorEnvelope, description = "7004 naming channel or language")))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((channel, language)): Path<(String, String)>,
    body: ApiInput,
) -> Result<Json<TemplateDto>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let key = TemplateKey::parse(&channel, &language)?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let e = service::get(state.db(), &scope, &key)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(dto(scope.sid().as_str(), e)))
}

#[utoipa::path(put, path = "/2fa/templates/{channel}/{language}", tag = "Templates",
    params(("channel" = String, Path, description = "sms, call or email"), ("language" = String, Path, description = "a BCP 47 tag (es, es-MX)")),
    request_body = TemplateRequest,
    responses((status = 200, body = TemplateDto), (status = 400, body = ErrorEnvelope, description = "7012 without {code}; 7004 naming the field (an SMS over 10 segments, lengths, subject or html on sms/call)")))]
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    Path((channel, language)): Path<(String, String)>,
    body: ApiInput,
) -> Result<Json<TemplateDto>, ApiError> {
    let req: TemplateRequest = body.into_wire()?;
    let key = TemplateKey::parse(&channel, &language)?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let input = TemplateInput {
        subject: req.subject.string("subject")?,
        text: req
            .text
            .string("text")?
            .ok_or_else(|| invalid("text", crate::domain::Problem::Required))?,
        html: req.html.string("html")?,
    };
    let e = service::put(state.db(), state.clock(), &scope, &key, input).await?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        audit::template_change(&key, Some(&e.template)),
    )
    .await;
    Ok(Json(dto(scope.sid().as_str(), e)))
}

#[utoipa::path(delete, path = "/2fa/templates/{channel}/{language}", tag = "Templates",
    params(("channel" = String, Path, description = "sms, call or email"), ("language" = String, Path, description = "a BCP 47 tag (es, es-MX)")),
    responses((status = 200, body = TemplateDto, description = "the template that applies now (the parent's or the built-in one)"), (status = 404, body = ErrorEnvelope, description = "the account has no template of its own here")))]
pub async fn delete(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    Path((channel, language)): Path<(String, String)>,
    body: ApiInput,
) -> Result<Json<TemplateDto>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let key = TemplateKey::parse(&channel, &language)?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let e = service::delete(state.db(), &scope, &key).await?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        audit::template_change(&key, None),
    )
    .await;
    Ok(Json(dto(scope.sid().as_str(), e)))
}
