//! Settings → Defaults and Settings → Countries: the account's defaults for what a send leaves
//! out, and the destination countries each phone channel may send to — through the same
//! settings service as `/2fa/settings`. Every role reads; admins change.
// The defaults form has a field per default; the server-function macro forwards them all.
#![allow(clippy::too_many_arguments)]
use crate::domain::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One default: what the account set itself (empty: inherited), what applies now, and where
/// that comes from (`account`, `parent`, `default`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultView {
    pub own: String,
    pub now: String,
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultsView {
    pub code_length: DefaultView,
    pub code_type: DefaultView,
    /// Seconds.
    pub expiry: DefaultView,
    pub max_attempts: DefaultView,
    pub per_10_minutes: DefaultView,
    pub per_24_hours: DefaultView,
    /// `sms,email`.
    pub workflow: DefaultView,
    /// `true`, `false` (own: empty when inherited).
    pub keep_old_otp_active: DefaultView,
    pub language: DefaultView,
    pub status_callback: DefaultView,
    pub has_parent: bool,
}

/// The allowed countries of one phone channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCountries {
    /// `all` or `only` (what applies now).
    pub mode: String,
    /// The allowed codes when `only`.
    pub list: Vec<String>,
    /// `account`, `parent`, `server` or `default`.
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountriesView {
    pub sms: ChannelCountries,
    pub call: ChannelCountries,
    /// Every country: (ISO code, English name), by name.
    pub countries: Vec<(String, String)>,
    pub has_parent: bool,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use crate::domain::settings::{Countries, Defaults, Effective, Sourced};

    fn one<T, U: ToString>(
        own: &Option<T>,
        now: &Sourced<U>,
        show: impl Fn(&T) -> String,
    ) -> DefaultView {
        DefaultView {
            own: own.as_ref().map(show).unwrap_or_default(),
            now: now.value.to_string(),
            source: now.source.as_str().into(),
        }
    }

    pub fn defaults(e: &Effective, own: &Defaults, has_parent: bool) -> DefaultsView {
        let workflow = |w: &crate::domain::Workflow| w.to_text();
        DefaultsView {
            code_length: one(&own.code_length, &e.code_length, |v| v.to_string()),
            code_type: DefaultView {
                own: own
                    .code_type
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                now: e.code_type.value.as_str().into(),
                source: e.code_type.source.as_str().into(),
            },
            expiry: one(&own.expiry_secs, &e.expiry_secs, |v| v.to_string()),
            max_attempts: one(&own.max_attempts, &e.max_attempts, |v| v.to_string()),
            per_10_minutes: one(&own.per_10_minutes, &e.per_10_minutes, |v| v.to_string()),
            per_24_hours: one(&own.per_24_hours, &e.per_24_hours, |v| v.to_string()),
            workflow: DefaultView {
                own: own.workflow.as_ref().map(workflow).unwrap_or_default(),
                now: workflow(&e.workflow.value),
                source: e.workflow.source.as_str().into(),
            },
            keep_old_otp_active: one(&own.keep_old_otp_active, &e.keep_old_otp_active, |v| {
                v.to_string()
            }),
            language: one(&own.language, &e.language, Clone::clone),
            status_callback: DefaultView {
                own: own.status_callback.clone().unwrap_or_default(),
                now: e.status_callback.value.clone().unwrap_or_default(),
                source: e.status_callback.source.as_str().into(),
            },
            has_parent,
        }
    }

    pub fn channel(c: &Sourced<Countries>) -> ChannelCountries {
        let (mode, list) = match &c.value {
            Countries::All => ("all", Vec::new()),
            Countries::Only(list) => ("only", list.clone()),
        };
        ChannelCountries {
            mode: mode.into(),
            list,
            source: c.source.as_str().into(),
        }
    }
}

#[server(endpoint = "defaults_page")]
pub async fn defaults_page() -> Result<DefaultsView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::settings;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let (effective, own) = settings::defaults(state.db(), user.scope.account())
        .await
        .map_err(|e| ctx::fail(crate::server::auth::console::internal_error(e)))?;
    Ok(convert::defaults(
        &effective,
        &own,
        user.scope.account().parent_sid.is_some(),
    ))
}

/// Saves every default of the form: a value sets it, an empty field goes back to the parent
/// account's (or the built-in) value. Errors name the form field.
#[server(endpoint = "defaults_save")]
pub async fn save_defaults(
    #[server(default)] code_length: String,
    #[server(default)] code_type: String,
    #[server(default)] expiry: String,
    #[server(default)] max_attempts: String,
    #[server(default)] per_10_minutes: String,
    #[server(default)] per_24_hours: String,
    #[server(default)] workflow: String,
    #[server(default)] keep_old_otp_active: String,
    #[server(default)] language: String,
    #[server(default)] status_callback: String,
) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::domain::code::CodeType;
    use crate::domain::otp::{self as rules, parse_language, parse_workflow};
    use crate::domain::settings::{DefaultsChange, PER_10_MINUTES, PER_24_HOURS};
    use crate::domain::{problem, url, ErrorCode, Problem, Role};
    use crate::server::services::settings::{self, DefaultsField, SettingsError};
    let user = ctx::user(&[Role::Admin]).await?;
    let state = ctx::state()?;
    let bad = |field: &str, label: &str, p: Problem| ctx::fail(ctx::invalid(field, label, p));
    let text = ctx::given;
    let num = |field: &str, label: &str, v: &str, range| {
        ctx::int_field(field, label, v, range).map_err(ctx::fail)
    };
    let change = DefaultsChange {
        code_length: Some(
            num(
                "code_length",
                "Code length",
                &code_length,
                rules::CODE_LENGTH,
            )?
            .map(|n| n as usize),
        ),
        code_type: Some(
            text(&code_type)
                .map(|t| {
                    CodeType::parse_or_problem(&t).map_err(|p| bad("code_type", "Code type", p))
                })
                .transpose()?,
        ),
        expiry_secs: Some(num("expiry", "Expiry", &expiry, rules::EXPIRY_SECS)?),
        max_attempts: Some(num(
            "max_attempts",
            "Attempts",
            &max_attempts,
            rules::MAX_ATTEMPTS,
        )?),
        per_10_minutes: Some(num(
            "per_10_minutes",
            "Sends per 10 minutes",
            &per_10_minutes,
            PER_10_MINUTES,
        )?),
        per_24_hours: Some(num(
            "per_24_hours",
            "Sends per 24 hours",
            &per_24_hours,
            PER_24_HOURS,
        )?),
        workflow: Some(
            text(&workflow)
                .map(|w| {
                    let items: Vec<String> = w
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect();
                    parse_workflow(&items).map_err(|p| bad("workflow", "Workflow", p))
                })
                .transpose()?,
        ),
        keep_old_otp_active: Some(match keep_old_otp_active.trim() {
            "" => None,
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                return Err(ctx::fail(ConsoleError::field(
                    ErrorCode::InvalidParameter,
                    "keep_old_otp_active",
                    "Pick keep, supersede or as inherited.",
                )))
            }
        }),
        language: Some(
            text(&language)
                .map(|l| parse_language(&l).map_err(|p| bad("language", "Language", p)))
                .transpose()?,
        ),
        status_callback: Some(
            text(&status_callback)
                .map(|u| {
                    problem::text(&u, rules::CALLBACK_URL_CHARS)
                        .and_then(|u| url::callback_url(&u))
                        .map_err(|p| bad("status_callback", "Status callback URL", p))
                })
                .transpose()?,
        ),
    };
    let press = settings::voice_press_key(state.db(), user.scope.sid())
        .await
        .map_err(|e| ctx::fail(crate::server::auth::console::internal_error(e)))?;
    let (_, defaults) = settings::change_defaults(
        state.db(),
        state.clock(),
        state.outbound(),
        &user.scope,
        change,
    )
    .await
    .map_err(|e| {
        ctx::fail(match e {
            SettingsError::Invalid { field, problem } => {
                let (name, label) = match field {
                    DefaultsField::Per24Hours => ("per_24_hours", "Sends per 24 hours"),
                    DefaultsField::StatusCallback => ("status_callback", "Status callback URL"),
                };
                ConsoleError::field(problem.code(), name, problem.message(label))
            }
            SettingsError::Internal(e) => crate::server::auth::console::internal_error(e),
        })
    })?;
    if defaults.is_change() {
        use crate::server::services::audit;
        let press = settings::Changed {
            before: press,
            after: press,
        };
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.scope.sid()),
            &ctx::audit_origin(&user),
            audit::settings_change(&defaults, &press),
        )
        .await;
    }
    Ok(())
}

#[server(endpoint = "countries_page")]
pub async fn countries_page() -> Result<CountriesView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::settings;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let allowed = settings::allowed_countries(
        state.db(),
        user.scope.account(),
        state.otp().server_countries(),
    )
    .await
    .map_err(|e| ctx::fail(crate::server::auth::console::internal_error(e)))?;
    Ok(CountriesView {
        sms: convert::channel(&allowed.sms),
        call: convert::channel(&allowed.call),
        countries: settings::all_countries()
            .into_iter()
            .map(|(c, n)| (c.to_owned(), n.to_owned()))
            .collect(),
        has_parent: user.scope.account().parent_sid.is_some(),
    })
}

/// Saves both phone channels: `*_mode` is `all`, `only` (the ticked countries: `sms[GB]=on`) or
/// `inherit` (the parent account's or the server's list).
#[server(endpoint = "countries_save")]
pub async fn save_countries(
    #[server(default)] sms_mode: String,
    #[server(default)] sms: BTreeMap<String, String>,
    #[server(default)] call_mode: String,
    #[server(default)] call: BTreeMap<String, String>,
) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::domain::settings::Countries;
    use crate::domain::{Channel, ErrorCode, Role};
    use crate::server::services::settings;
    let user = ctx::user(&[Role::Admin]).await?;
    let state = ctx::state()?;
    let mut changes = Vec::new();
    for (channel, mode, ticked, field, label) in [
        (Channel::Sms, &sms_mode, &sms, "sms_mode", "SMS"),
        (Channel::Call, &call_mode, &call, "call_mode", "Calls"),
    ] {
        let value = match mode.as_str() {
            "all" => Some(Countries::All),
            "inherit" => None,
            "only" => {
                if ticked.is_empty() {
                    return Err(ctx::fail(ConsoleError::field(
                        ErrorCode::InvalidParameter,
                        field,
                        format!("{label}: tick at least one country, or allow all countries."),
                    )));
                }
                Some(
                    settings::countries(ticked.keys().map(String::as_str)).map_err(|p| {
                        ctx::fail(ConsoleError::field(p.code(), field, p.message(label)))
                    })?,
                )
            }
            _ => {
                return Err(ctx::fail(ConsoleError::field(
                    ErrorCode::InvalidParameter,
                    field,
                    format!("{label}: pick all countries, only the ticked ones, or as inherited."),
                )))
            }
        };
        changes.push((channel, value));
    }
    let allowed = settings::set_countries(
        state.db(),
        state.clock(),
        &user.scope,
        state.otp().server_countries(),
        changes,
    )
    .await
    .map_err(|e| ctx::fail(crate::server::auth::console::internal_error(e)))?;
    if allowed.is_change() {
        use crate::server::services::audit;
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.scope.sid()),
            &ctx::audit_origin(&user),
            audit::countries_change(&allowed),
        )
        .await;
    }
    Ok(())
}
