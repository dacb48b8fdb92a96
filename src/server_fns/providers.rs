//! Settings → Channels: the account's delivery providers (add, edit, reorder, delete, send a
//! test) and, per channel, who delivers it now — through the same provider service as
//! `/2fa/providers`. Support staff read; admins and developers change and test.
// A provider form has many fields; the server-function macro forwards them all.
#![allow(clippy::too_many_arguments)]
use crate::domain::provider::ProviderKind;
use crate::domain::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a setting is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Text,
    Url,
    Email,
    Number,
    /// Write-only: the form starts empty; left empty, the current value stays.
    Secret,
    Choice(&'static [&'static str]),
    /// Several lines (a body template).
    Lines,
    /// `Name: value` per line (a gateway's headers; values are secrets).
    Headers,
}

/// One setting of a provider kind, as the form shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigField {
    /// Its API name (`baseUrl`…); the form field is `config[{key}]`.
    pub key: &'static str,
    pub label: &'static str,
    pub control: Control,
    pub required: bool,
    pub placeholder: &'static str,
    pub hint: &'static str,
}

const fn field(
    key: &'static str,
    label: &'static str,
    control: Control,
    required: bool,
    placeholder: &'static str,
    hint: &'static str,
) -> ConfigField {
    ConfigField {
        key,
        label,
        control,
        required,
        placeholder,
        hint,
    }
}

const CPAAS_SENDER_HINT: &str = "An E.164 number like +14155550100, or a sender id of up to 11 letters and digits where the destination country allows it.";

const TWILIO: [ConfigField; 5] = [
    field(
        "baseUrl",
        "API base URL",
        Control::Url,
        false,
        "https://api.twilio.com",
        "Leave empty for Twilio itself; any Twilio-compatible API works.",
    ),
    field("accountSid", "Account SID", Control::Text, true, "AC…", ""),
    field("authToken", "Auth token", Control::Secret, true, "", ""),
    field(
        "from",
        "From",
        Control::Text,
        false,
        "+14155550100",
        CPAAS_SENDER_HINT,
    ),
    field(
        "messagingServiceSid",
        "Messaging Service SID",
        Control::Text,
        false,
        "MG…",
        "Instead of From: Twilio picks the sender.",
    ),
];

const RESTCOMM: [ConfigField; 4] = [
    field(
        "baseUrl",
        "API base URL",
        Control::Url,
        true,
        "https://restcomm.example.com",
        "Your Restcomm server; the API path is added.",
    ),
    field("accountSid", "Account SID", Control::Text, true, "AC…", ""),
    field("authToken", "Auth token", Control::Secret, true, "", ""),
    field(
        "from",
        "From",
        Control::Text,
        true,
        "+14155550100",
        CPAAS_SENDER_HINT,
    ),
];

const HTTP: [ConfigField; 6] = [
    field(
        "url",
        "URL",
        Control::Url,
        true,
        "https://sms.example.com/send",
        "May carry placeholders too: {to}, {text}…",
    ),
    field("method", "Method", Control::Choice(&["POST", "GET"]), true, "", ""),
    field(
        "headers",
        "Headers",
        Control::Headers,
        false,
        "Authorization: Bearer …",
        "One per line, Name: value. Values are kept secret; leave a value empty to keep the current one.",
    ),
    field(
        "contentType",
        "Body encoding",
        Control::Choice(&["json", "form"]),
        true,
        "",
        "",
    ),
    field(
        "bodyTemplate",
        "Body template",
        Control::Lines,
        false,
        r#"{"to": "{to}", "text": "{text}"}"#,
        "Placeholders: {to}, {from}, {text}, {requestID}, {language}. A POST must carry {text}.",
    ),
    field(
        "messageIdPath",
        "Message id path",
        Control::Text,
        false,
        "data.id",
        "Where the gateway's JSON answer keeps its message id (optional).",
    ),
];

const SMTP: [ConfigField; 7] = [
    field("host", "Host", Control::Text, true, "smtp.example.com", ""),
    field("port", "Port", Control::Number, true, "587", ""),
    field(
        "security",
        "Security",
        Control::Choice(&["starttls", "tls", "none"]),
        true,
        "",
        "starttls on 587, tls on 465; none only on a trusted network.",
    ),
    field("username", "User name", Control::Text, false, "", ""),
    field("password", "Password", Control::Secret, false, "", ""),
    field(
        "fromAddress",
        "Sender address",
        Control::Email,
        true,
        "otp@example.com",
        "",
    ),
    field(
        "fromName",
        "Sender name",
        Control::Text,
        false,
        "Example",
        "",
    ),
];

const WEBHOOK: [ConfigField; 1] = [field(
    "url",
    "URL",
    Control::Url,
    true,
    "https://example.com/hooks/otp",
    "Receives each message as signed JSON (like status callbacks); a 2xx answer means accepted.",
)];

/// The settings of a kind, in form order.
pub fn config_fields(kind: ProviderKind) -> &'static [ConfigField] {
    match kind {
        ProviderKind::Twilio => &TWILIO,
        ProviderKind::Restcomm => &RESTCOMM,
        ProviderKind::Http => &HTTP,
        ProviderKind::Smtp => &SMTP,
        ProviderKind::Webhook => &WEBHOOK,
        ProviderKind::Sandbox => &[],
    }
}

/// The label of a setting (its key when unknown).
pub fn config_label(kind: ProviderKind, key: &str) -> &'static str {
    config_fields(kind)
        .iter()
        .find(|f| f.key == key)
        .map(|f| f.label)
        .unwrap_or("This setting")
}

/// A provider as the page shows it (secrets masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderView {
    pub sid: String,
    /// `twilio`, `restcomm`, `http`, `smtp`, `webhook`.
    pub kind: String,
    pub name: String,
    /// `sms`, `call`, `email`.
    pub channels: Vec<String>,
    pub countries: Vec<String>,
    pub priority: i64,
    pub enabled: bool,
    /// The settings by key, as text (secrets masked).
    pub config: BTreeMap<String, String>,
    /// A gateway's header names with masked values.
    pub headers: Vec<(String, String)>,
    /// Where this provider posts delivery receipts.
    pub status_callback_url: String,
}

impl ProviderView {
    pub fn kind(&self) -> ProviderKind {
        ProviderKind::parse(&self.kind).unwrap_or(ProviderKind::Sandbox)
    }
}

/// Who delivers a channel now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineupView {
    /// `sms`, `call`, `email`.
    pub channel: String,
    /// `own`, `parent`, `server` or `sandbox`.
    pub source: String,
    /// Names in the order they are tried, each with the countries it is for (empty: all).
    pub providers: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelsView {
    /// The account's own providers, in the order they are tried.
    pub providers: Vec<ProviderView>,
    pub lineups: Vec<LineupView>,
    pub voice: VoiceView,
}

/// Whether calls ask for a key before the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceView {
    /// What applies now.
    pub press_key: bool,
    /// `account`, `parent` or `default`.
    pub source: String,
    /// A sub-account (it may go back to its parent's choice).
    pub has_parent: bool,
}

/// What a provider said to a test message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestView {
    pub sid: String,
    pub channel: String,
    pub accepted: bool,
    /// `sent`, `delivered`, `failed` or `retry`.
    pub status: String,
    pub message_id: Option<String>,
    /// The provider's refusal, in words.
    pub error: Option<String>,
}

#[cfg(feature = "ssr")]
fn view(
    state: &crate::server::state::AppState,
    p: &crate::domain::provider::ProviderSetup,
) -> ProviderView {
    use crate::domain::provider::Shown;
    let mut config = BTreeMap::new();
    let mut headers = Vec::new();
    for (key, shown) in p.config.shown() {
        match shown {
            Shown::Text(t) | Shown::Secret(t) => {
                config.insert(key.to_owned(), t);
            }
            Shown::Number(n) => {
                config.insert(key.to_owned(), n.to_string());
            }
            Shown::Headers(h) => headers = h,
        }
    }
    ProviderView {
        sid: p.sid.to_string(),
        kind: p.kind().as_str().into(),
        name: p.name.clone(),
        channels: p.channels.iter().map(|c| c.as_str().to_owned()).collect(),
        countries: p.countries.clone(),
        priority: p.priority,
        enabled: p.enabled,
        config,
        headers,
        status_callback_url: format!(
            "{}/2fa/providers/{}/status",
            state.settings().public_base(),
            p.sid
        ),
    }
}

/// A provider refusal as the page shows it: next to the field it concerns.
#[cfg(feature = "ssr")]
fn provider_error(
    kind: ProviderKind,
    e: crate::server::services::providers::ProviderError,
) -> ConsoleError {
    use crate::domain::ErrorCode;
    use crate::server::services::providers::{ProviderError, ProviderField};
    let code = e.code();
    match e {
        ProviderError::Invalid { field, problem } => {
            let (name, label) = match field {
                ProviderField::Kind => ("kind".to_owned(), "Kind"),
                ProviderField::Name => ("name".to_owned(), "Name"),
                ProviderField::Channels => ("channels".to_owned(), "Channels"),
                ProviderField::Countries => ("countries".to_owned(), "Countries"),
                ProviderField::Priority => ("priority".to_owned(), "Priority"),
                ProviderField::To => ("to".to_owned(), "The destination"),
                ProviderField::Config(key) => (key.to_owned(), config_label(kind, key)),
            };
            ConsoleError::field(problem.code(), &name, problem.message(label))
        }
        ProviderError::DuplicateName => ConsoleError::field(
            ErrorCode::DuplicateName,
            "name",
            "A provider with this name already exists in this account.",
        ),
        ProviderError::NotFound => ConsoleError::new(
            code,
            "This provider is gone (someone may have deleted it). Reload the page.",
        ),
        ProviderError::Denied(m) => ConsoleError::new(code, m),
        ProviderError::Internal(err) => crate::server::auth::console::internal_error(err),
    }
}

#[server(endpoint = "providers_page")]
pub async fn channels_page() -> Result<ChannelsView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::providers::{self as service, Source};
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let keys = state.provider_keys();
    let fail = |e| ctx::fail(provider_error(ProviderKind::Sandbox, e));
    let own = service::list(state.db(), keys.seal_key, &user.scope)
        .await
        .map_err(fail)?;
    let lineups = service::lineups(state.db(), &keys, &user.scope)
        .await
        .map_err(fail)?;
    let voice = crate::server::services::settings::voice_press_key(state.db(), user.scope.sid())
        .await
        .map_err(|e| ctx::fail(crate::server::auth::console::internal_error(e)))?;
    Ok(ChannelsView {
        voice: VoiceView {
            press_key: voice.on,
            source: voice.source.as_str().into(),
            has_parent: user.scope.account().parent_sid.is_some(),
        },
        providers: own.iter().map(|p| view(&state, p)).collect(),
        lineups: lineups
            .into_iter()
            .map(|(channel, source, providers)| LineupView {
                channel: channel.as_str().into(),
                source: match source {
                    Source::Own => "own",
                    Source::Parent => "parent",
                    Source::Server => "server",
                    Source::Sandbox => "sandbox",
                }
                .into(),
                providers: providers
                    .into_iter()
                    .map(|p| (p.name, p.countries))
                    .collect(),
            })
            .collect(),
    })
}

/// Adds (no `sid`) or changes a provider. `channels` holds a key per ticked channel;
/// `config` the settings by key (a secret left empty keeps its value); `headers` a gateway's
/// headers, `Name: value` per line. A new provider goes last; a changed one keeps its place.
#[server(endpoint = "providers_save")]
pub async fn save_provider(
    sid: String,
    kind: String,
    name: String,
    #[server(default)] channels: BTreeMap<String, String>,
    #[server(default)] countries: String,
    #[server(default)] enabled: Option<String>,
    #[server(default)] config: BTreeMap<String, String>,
    #[server(default)] headers: String,
) -> Result<String, ConsoleError> {
    use super::ctx;
    use crate::domain::provider::ConfigInput;
    use crate::domain::{Channel, ErrorCode, Role};
    use crate::server::services::providers::{self as service, ProviderInput};
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let keys = state.provider_keys();
    let kind = ProviderKind::parse(&kind)
        .filter(|k| *k != ProviderKind::Sandbox)
        .ok_or_else(|| {
            ctx::fail(ConsoleError::field(
                ErrorCode::InvalidParameter,
                "kind",
                "Pick the kind of provider.",
            ))
        })?;
    let fail = |e| ctx::fail(provider_error(kind, e));
    let mut header_list = Vec::new();
    for line in headers.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((n, v)) = line.split_once(':') else {
            return Err(ctx::fail(ConsoleError::field(
                ErrorCode::InvalidParameter,
                "headers",
                format!("Write each header as Name: value ({line:?} has no colon)."),
            )));
        };
        header_list.push((n.trim().to_owned(), v.trim().to_owned()));
    }
    let sid = sid.trim();
    let mut before = None;
    let priority = if sid.is_empty() {
        let own = service::list(state.db(), keys.seal_key, &user.scope)
            .await
            .map_err(fail)?;
        own.iter()
            .map(|p| p.priority)
            .max()
            .map_or(10, |m| (m + 10).min(1000))
    } else {
        let current = service::get(state.db(), keys.seal_key, &user.scope, sid)
            .await
            .map_err(fail)?;
        let priority = current.priority;
        before = Some(current);
        priority
    };
    let input = ProviderInput {
        kind,
        name: name.trim().to_owned(),
        channels: Channel::ALL
            .into_iter()
            .filter(|c| channels.contains_key(c.as_str()))
            .collect(),
        countries: countries
            .split([',', ' '])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_uppercase)
            .collect(),
        priority,
        enabled: enabled.is_some(),
        config: ConfigInput {
            values: config,
            headers: header_list,
        },
    };
    let saved = if sid.is_empty() {
        service::create(state.db(), state.clock(), &keys, &user.scope, input).await
    } else {
        service::update(state.db(), state.clock(), &keys, &user.scope, sid, input).await
    }
    .map_err(fail)?;
    {
        use crate::server::services::audit::{self, AuditAction, Change};
        let change = match &before {
            None => Change::new(AuditAction::ProviderCreate, saved.sid.as_str()),
            Some(b) => Change::new(AuditAction::ProviderUpdate, saved.sid.as_str())
                .before(audit::provider_json(b)),
        };
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.scope.sid()),
            &ctx::audit_origin(&user),
            change.after(audit::provider_json(&saved)),
        )
        .await;
    }
    Ok(saved.sid.to_string())
}

#[server(endpoint = "providers_delete")]
pub async fn delete_provider(sid: String) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::audit::{self, AuditAction, Change};
    use crate::server::services::providers as service;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let fail = |e| ctx::fail(provider_error(ProviderKind::Sandbox, e));
    let keys = state.provider_keys();
    let before = service::get(state.db(), keys.seal_key, &user.scope, &sid)
        .await
        .map_err(fail)?;
    service::delete(state.db(), &keys, &user.scope, &sid)
        .await
        .map_err(fail)?;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(user.scope.sid()),
        &ctx::audit_origin(&user),
        Change::new(AuditAction::ProviderDelete, before.sid.as_str())
            .before(audit::provider_json(&before)),
    )
    .await;
    Ok(())
}

/// Moves a provider one place earlier or later in the order they are tried.
#[server(endpoint = "providers_move")]
pub async fn move_provider(sid: String, earlier: bool) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::audit::{self, AuditAction, Change};
    use crate::server::services::providers as service;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let fail = |e| ctx::fail(provider_error(ProviderKind::Sandbox, e));
    let keys = state.provider_keys();
    let before = service::list(state.db(), keys.seal_key, &user.scope)
        .await
        .map_err(fail)?;
    let after = service::reorder(state.db(), state.clock(), &keys, &user.scope, &sid, earlier)
        .await
        .map_err(fail)?;
    let (was, now) = (
        audit::provider_order(&before),
        audit::provider_order(&after),
    );
    if was != now {
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.scope.sid()),
            &ctx::audit_origin(&user),
            Change::new(AuditAction::ProviderMove, sid.trim())
                .before(serde_json::json!({ "order": was }))
                .after(serde_json::json!({ "order": now })),
        )
        .await;
    }
    Ok(())
}

/// Sends a real test message through one provider to `to` (a phone number or an email
/// address) and answers what the provider said.
#[server(endpoint = "providers_test")]
pub async fn test_provider(sid: String, to: String) -> Result<TestView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::providers as service;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let (channel, out) = service::test(
        state.db(),
        state.clock().now_ms(),
        &state.provider_keys(),
        &user.scope,
        &sid,
        None,
        &to,
    )
    .await
    .map_err(|e| ctx::fail(provider_error(ProviderKind::Sandbox, e)))?;
    Ok(TestView {
        sid: sid.trim().to_owned(),
        channel: channel.as_str().into(),
        accepted: out.accepted,
        status: out.status.into(),
        message_id: out.provider_message_id,
        error: out.error,
    })
}

/// Calls ask for a key before the code: `on`, `off`, or `inherit` (the parent account's).
#[server(endpoint = "voice_press_key_save")]
pub async fn save_voice_press_key(choice: String) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::domain::{ErrorCode, Role};
    use crate::server::services::settings;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let value = match choice.as_str() {
        "on" => Some(true),
        "off" => Some(false),
        "inherit" => None,
        _ => {
            return Err(ctx::fail(ConsoleError::field(
                ErrorCode::InvalidParameter,
                "choice",
                "Pick on, off or as the parent account.",
            )))
        }
    };
    let internal = |e| ctx::fail(crate::server::auth::console::internal_error(e));
    let before = settings::voice_press_key(state.db(), user.scope.sid())
        .await
        .map_err(internal)?;
    let after = settings::set_voice_press_key(state.db(), state.clock(), &user.scope, value)
        .await
        .map_err(internal)?;
    crate::server::services::audit::record_after(
        state.db(),
        state.clock(),
        Some(user.scope.sid()),
        &ctx::audit_origin(&user),
        crate::server::services::audit::voice_press_key_change(before, after),
    )
    .await;
    Ok(())
}
