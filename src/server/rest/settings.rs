//! `/2fa/settings`: the account's defaults for what a send leaves out, whether calls ask for a
//! key first, the callback signing secret, and the allowed destination countries. A
//! sub-account inherits its parent's until it sets its own; `null` goes back to inheriting.
use super::api_error::{ApiError, ErrorEnvelope};
use super::input::{invalid, ApiInput, Loose};
use super::otps::acting;
use super::providers::ScopeOnly;
use crate::domain::code::CodeType;
use crate::domain::otp::{self as rules, parse_language};
use crate::domain::settings::{Countries, DefaultsChange, Effective, Source, COUNTRY_CHANNELS};
use crate::domain::{url, Channel, Problem};
use crate::server::auth::{ApiCaller, ApiOrigin};
use crate::server::services::audit::{self, AuditAction, Change};
use crate::server::services::settings::{self as service, Changed, DefaultsField, SettingsError};
use crate::server::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Per-destination protection: sends to one destination per 10 minutes and per 24 hours.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Protection {
    pub per10_minutes: i64,
    pub per24_hours: i64,
}

/// `PUT /2fa/settings`: the fields given change; the others stay; `null` inherits.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct SettingsRequest {
    #[schema(value_type = Option<i64>, minimum = 4, maximum = 10)]
    #[serde(deserialize_with = "present")]
    pub code_length: Option<Loose>,
    /// `numeric` or `alphanumeric`.
    #[schema(value_type = Option<String>)]
    #[serde(deserialize_with = "present")]
    pub code_type: Option<Loose>,
    /// Seconds, 60–86400.
    #[schema(value_type = Option<i64>)]
    #[serde(deserialize_with = "present")]
    pub expiry: Option<Loose>,
    #[schema(value_type = Option<i64>)]
    #[serde(deserialize_with = "present")]
    pub max_attempts: Option<Loose>,
    /// `{per10Minutes, per24Hours}`; each `null` inherits.
    #[schema(value_type = Option<Object>)]
    #[serde(deserialize_with = "present")]
    pub destination_protection: Option<Loose>,
    /// Channels in order, e.g. `["sms", "email"]`.
    #[schema(value_type = Option<Vec<String>>)]
    #[serde(deserialize_with = "present")]
    pub workflow: Option<Loose>,
    #[schema(value_type = Option<bool>)]
    #[serde(deserialize_with = "present")]
    pub keep_old_otp_active: Option<Loose>,
    #[schema(value_type = Option<String>)]
    #[serde(deserialize_with = "present")]
    pub language: Option<Loose>,
    /// The default status callback URL of sends that give none.
    #[schema(value_type = Option<String>)]
    #[serde(deserialize_with = "present")]
    pub status_callback: Option<Loose>,
    /// Calls say "press any key to hear your code" and read the code only once a key was
    /// pressed (voicemail records no code).
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
    pub code_length: usize,
    pub code_type: String,
    /// Seconds.
    pub expiry: i64,
    pub max_attempts: i64,
    pub destination_protection: Protection,
    pub workflow: Vec<String>,
    pub keep_old_otp_active: bool,
    pub language: String,
    pub status_callback: Option<String>,
    pub voice_press_key: bool,
    /// Where `voicePressKey` comes from: `account`, `parent` or `default`.
    pub voice_press_key_source: String,
    /// Where each value comes from: `account` (set here), `parent` or `default`.
    #[schema(value_type = Object)]
    pub sources: BTreeMap<&'static str, &'static str>,
    pub uri: String,
}

/// `POST /2fa/settings/callbackSecret`: the new secret, shown in this answer only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackSecretResponse {
    pub account_sid: String,
    pub callback_signing_secret: String,
}

/// `PUT /2fa/settings/countries`: `"all"`, a list of ISO 3166 alpha-2 codes, or `null`
/// (inherit) per phone channel; email addresses have no country (only `"all"`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CountriesRequest {
    #[schema(schema_with = countries_input_schema)]
    #[serde(deserialize_with = "present")]
    pub sms: Option<Loose>,
    #[schema(schema_with = countries_input_schema)]
    #[serde(deserialize_with = "present")]
    pub call: Option<Loose>,
    #[schema(schema_with = countries_input_schema)]
    #[serde(deserialize_with = "present")]
    pub email: Option<Loose>,
    #[schema(value_type = Option<String>)]
    #[serde(rename = "accountSid")]
    pub account_sid: Loose,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CountriesResponse {
    pub account_sid: String,
    #[schema(schema_with = countries_schema)]
    pub sms: Value,
    #[schema(schema_with = countries_schema)]
    pub call: Value,
    #[schema(schema_with = countries_schema)]
    pub email: Value,
    /// Where each list comes from: `account`, `parent`, `server` (the operator's default) or
    /// `default` (all).
    #[schema(value_type = Object)]
    pub sources: BTreeMap<&'static str, &'static str>,
    pub uri: String,
}

/// An answer's countries: `"all"`, or the allowed ISO 3166 alpha-2 codes.
fn countries_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["all"])),
        )
        .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some("`\"all\"`, or the allowed ISO 3166 alpha-2 codes."))
        .build()
        .into()
}

/// A request's countries: `"all"`, a list of codes (JSON array or comma-separated), or `null`
/// to inherit.
fn countries_input_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "`\"all\"`, ISO 3166 alpha-2 codes (a list, or one string separated by commas), or `null` to inherit.",
        ))
        .build()
        .into()
}

/// A field that was given, even as `null` (absent stays `None`; `null` is `Some(Loose(None))`).
/// A field that may be absent (unchanged), `null` (inherit) or a value.
pub(super) fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Loose>, D::Error> {
    Ok(Some(Loose(Option::<Value>::deserialize(d)?)))
}

fn answer(account: &str, e: &Effective, press: service::VoicePressKey) -> SettingsResponse {
    let sources = BTreeMap::from([
        ("codeLength", e.code_length.source.as_str()),
        ("codeType", e.code_type.source.as_str()),
        ("expiry", e.expiry_secs.source.as_str()),
        ("maxAttempts", e.max_attempts.source.as_str()),
        (
            "destinationProtection.per10Minutes",
            e.per_10_minutes.source.as_str(),
        ),
        (
            "destinationProtection.per24Hours",
            e.per_24_hours.source.as_str(),
        ),
        ("workflow", e.workflow.source.as_str()),
        ("keepOldOtpActive", e.keep_old_otp_active.source.as_str()),
        ("language", e.language.source.as_str()),
        ("statusCallback", e.status_callback.source.as_str()),
        ("voicePressKey", press.source.as_str()),
    ]);
    SettingsResponse {
        account_sid: account.to_owned(),
        code_length: e.code_length.value,
        code_type: e.code_type.value.as_str().into(),
        expiry: e.expiry_secs.value,
        max_attempts: e.max_attempts.value,
        destination_protection: Protection {
            per10_minutes: e.per_10_minutes.value,
            per24_hours: e.per_24_hours.value,
        },
        workflow: e
            .workflow
            .value
            .channels()
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        keep_old_otp_active: e.keep_old_otp_active.value,
        language: e.language.value.clone(),
        status_callback: e.status_callback.value.clone(),
        voice_press_key: press.on,
        voice_press_key_source: press.source.as_str().into(),
        sources,
        uri: "/2fa/settings".into(),
    }
}

fn settings_error(e: SettingsError) -> ApiError {
    match e {
        SettingsError::Invalid { field, problem } => invalid(
            match field {
                DefaultsField::Per24Hours => "destinationProtection.per24Hours",
                DefaultsField::StatusCallback => "statusCallback",
            },
            problem,
        ),
        SettingsError::Internal(e) => ApiError::internal(e),
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
    let (effective, _) = service::defaults(state.db(), scope.account())
        .await
        .map_err(ApiError::internal)?;
    let press = service::voice_press_key(state.db(), scope.sid())
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(answer(scope.sid().as_str(), &effective, press)))
}

/// `Some(None)` for `null`/empty, `Some(Some(v))` for a value, `None` when absent.
fn given<T>(
    field: &Option<Loose>,
    parse: impl FnOnce(&Loose) -> Result<Option<T>, ApiError>,
) -> Result<Option<Option<T>>, ApiError> {
    field.as_ref().map(parse).transpose()
}

/// The change a request asks for, every value checked as a send checks it.
fn change(r: &SettingsRequest) -> Result<DefaultsChange, ApiError> {
    let text = |name: &'static str, f: fn(&str) -> Result<String, Problem>| {
        move |l: &Loose| {
            l.string(name)?
                .map(|s| f(&s).map_err(|p| invalid(name, p)))
                .transpose()
        }
    };
    let (per_10_minutes, per_24_hours) = match &r.destination_protection {
        None => (None, None),
        Some(Loose(None)) => (Some(None), Some(None)),
        Some(Loose(Some(Value::Object(m)))) => {
            let field = |key: &str, name: &str, range| {
                m.contains_key(key)
                    .then(|| Loose(m.get(key).cloned().filter(|v| !v.is_null())).int(name, range))
                    .transpose()
            };
            (
                field(
                    "per10Minutes",
                    "destinationProtection.per10Minutes",
                    crate::domain::settings::PER_10_MINUTES,
                )?,
                field(
                    "per24Hours",
                    "destinationProtection.per24Hours",
                    crate::domain::settings::PER_24_HOURS,
                )?,
            )
        }
        Some(_) => {
            return Err(invalid(
                "destinationProtection",
                Problem::says("must be an object like {\"per10Minutes\": 5, \"per24Hours\": 20}."),
            ))
        }
    };
    Ok(DefaultsChange {
        code_length: given(&r.code_length, |l| {
            Ok(l.int("codeLength", rules::CODE_LENGTH)?.map(|n| n as usize))
        })?,
        code_type: given(&r.code_type, |l| {
            l.string("codeType")?
                .map(|t| CodeType::parse_or_problem(&t).map_err(|p| invalid("codeType", p)))
                .transpose()
        })?,
        expiry_secs: given(&r.expiry, |l| l.int("expiry", rules::EXPIRY_SECS))?,
        max_attempts: given(&r.max_attempts, |l| {
            l.int("maxAttempts", rules::MAX_ATTEMPTS)
        })?,
        per_10_minutes,
        per_24_hours,
        workflow: given(&r.workflow, |l| {
            l.list("workflow")?
                .filter(|items| !items.is_empty())
                .map(|items| rules::parse_workflow(&items).map_err(|p| invalid("workflow", p)))
                .transpose()
        })?,
        keep_old_otp_active: given(&r.keep_old_otp_active, |l| l.bool("keepOldOtpActive"))?,
        language: given(&r.language, text("language", parse_language))?,
        status_callback: given(&r.status_callback, |l| {
            l.text("statusCallback", rules::CALLBACK_URL_CHARS)?
                .map(|u| url::callback_url(&u).map_err(|p| invalid("statusCallback", p)))
                .transpose()
        })?,
    })
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
    let change = change(&req)?;
    let press = given(&req.voice_press_key, |l| l.bool("voicePressKey"))?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let press_before = service::voice_press_key(state.db(), scope.sid())
        .await
        .map_err(ApiError::internal)?;
    let (effective, defaults) =
        service::change_defaults(state.db(), state.clock(), state.outbound(), &scope, change)
            .await
            .map_err(settings_error)?;
    let press = Changed {
        before: press_before,
        after: match press {
            // Absent: unchanged.
            None => press_before,
            // true or false; null (or empty): as the parent account again.
            Some(on) => service::set_voice_press_key(state.db(), state.clock(), &scope, on)
                .await
                .map_err(ApiError::internal)?,
        },
    };
    if defaults.is_change() || press.is_change() {
        audit::record_after(
            state.db(),
            state.clock(),
            Some(scope.sid()),
            &origin,
            audit::settings_change(&defaults, &press),
        )
        .await;
    }
    Ok(Json(answer(scope.sid().as_str(), &effective, press.after)))
}

#[utoipa::path(post, path = "/2fa/settings/callbackSecret", tag = "Settings",
    responses((status = 200, body = CallbackSecretResponse, description = "The new secret, shown only here")))]
pub async fn rotate_callback_secret(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    body: ApiInput,
) -> Result<Json<CallbackSecretResponse>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let secret = crate::server::services::accounts::rotate_callback_secret(
        state.db(),
        state.otp().code_key(),
        scope.sid().as_str(),
    )
    .await
    .map_err(ApiError::internal)?;
    // The secret itself is never recorded.
    audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        Change::new(AuditAction::SettingsUpdate, "callbackSigningSecret")
            .after(serde_json::json!({"rotated": true})),
    )
    .await;
    Ok(Json(CallbackSecretResponse {
        account_sid: scope.sid().as_str().to_owned(),
        callback_signing_secret: secret,
    }))
}

fn countries_json(c: &Countries) -> Value {
    match c {
        Countries::All => Value::from("all"),
        Countries::Only(list) => Value::from(list.clone()),
    }
}

fn countries_answer(
    account: &str,
    allowed: &crate::domain::settings::AllowedCountries,
) -> CountriesResponse {
    CountriesResponse {
        account_sid: account.to_owned(),
        sms: countries_json(&allowed.sms.value),
        call: countries_json(&allowed.call.value),
        email: Value::from("all"),
        sources: BTreeMap::from([
            ("sms", allowed.sms.source.as_str()),
            ("call", allowed.call.source.as_str()),
            ("email", Source::Default.as_str()),
        ]),
        uri: "/2fa/settings/countries".into(),
    }
}

#[utoipa::path(get, path = "/2fa/settings/countries", tag = "Settings", responses((status = 200, body = CountriesResponse)))]
pub async fn get_countries(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: ApiInput,
) -> Result<Json<CountriesResponse>, ApiError> {
    let req: ScopeOnly = body.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let allowed =
        service::allowed_countries(state.db(), scope.account(), state.otp().server_countries())
            .await
            .map_err(ApiError::internal)?;
    Ok(Json(countries_answer(scope.sid().as_str(), &allowed)))
}

/// One channel's list: `"all"`, `["GB", "IE"]`, `"GB,IE"`, or `null` (inherit).
fn countries_of(name: &str, l: &Loose) -> Result<Option<Countries>, ApiError> {
    match l.list(name)? {
        None => Ok(None),
        Some(items) => service::countries(items.iter().map(String::as_str))
            .map(Some)
            .map_err(|p| invalid(name, p)),
    }
}

#[utoipa::path(put, path = "/2fa/settings/countries", tag = "Settings", request_body = CountriesRequest,
    responses((status = 200, body = CountriesResponse), (status = 400, body = ErrorEnvelope, description = "7004 naming the channel")))]
pub async fn update_countries(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiOrigin(origin): ApiOrigin,
    body: ApiInput,
) -> Result<Json<CountriesResponse>, ApiError> {
    let req: CountriesRequest = body.into_wire()?;
    let mut changes = Vec::new();
    for channel in COUNTRY_CHANNELS {
        let field = match channel {
            Channel::Sms => &req.sms,
            _ => &req.call,
        };
        if let Some(l) = field {
            changes.push((channel, countries_of(channel.as_str(), l)?));
        }
    }
    if let Some(l) = &req.email {
        if !matches!(countries_of("email", l)?, None | Some(Countries::All)) {
            return Err(invalid(
                "email",
                Problem::says("can only be \"all\": email addresses have no country."),
            ));
        }
    }
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let allowed = service::set_countries(
        state.db(),
        state.clock(),
        &scope,
        state.otp().server_countries(),
        changes,
    )
    .await
    .map_err(ApiError::internal)?;
    if allowed.is_change() {
        audit::record_after(
            state.db(),
            state.clock(),
            Some(scope.sid()),
            &origin,
            audit::countries_change(&allowed),
        )
        .await;
    }
    Ok(Json(countries_answer(scope.sid().as_str(), &allowed.after)))
}
