//! Settings → Fraud guard: the mode and safe-list against SMS pumping, the number prefixes
//! blocked now (with why and until when), and lifting a block — through the same use cases as
//! `/2fa/settings/fraudGuard` and `/2fa/fraudGuard/blocks`. Admins change; everyone reads.
use crate::domain::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A blocked prefix as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    pub prefix: String,
    pub country: String,
    /// `SMS` or `Calls`.
    pub channel: String,
    pub reason: String,
    /// RFC 3339.
    pub since: String,
    pub until: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudGuardView {
    /// `block`, `monitor`, `off`, or `inherit` (not set here).
    pub mode: String,
    /// What applies and where it comes from, in words: "Block (set here)".
    pub mode_now: String,
    /// The mode per phone channel now: ("SMS", "block").
    pub applies: Vec<(String, String)>,
    /// One entry per line.
    pub safe_list: String,
    /// The safe-list is this account's own (not inherited).
    pub safe_list_own: bool,
    pub safe_list_now: String,
    pub has_parent: bool,
    pub blocks: Vec<BlockView>,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use crate::domain::settings::Source;
    use crate::domain::Channel;
    use crate::server::db::fraud::Block;
    use crate::server::services::fraud::FraudGuard;

    pub fn channel(c: Channel) -> &'static str {
        match c {
            Channel::Sms => "SMS",
            Channel::Call => "Calls",
            Channel::Email => "Email",
        }
    }

    fn from(source: Source) -> &'static str {
        match source {
            Source::Account => "set here",
            Source::Parent => "from the parent account",
            Source::Server => "the server's default",
            Source::Default => "built-in",
        }
    }

    pub fn view(g: &FraudGuard, blocks: &[Block], has_parent: bool) -> FraudGuardView {
        let s = &g.settings;
        let mode_now = match s.mode.value {
            Some(m) => format!("{} ({})", label(m.as_str()), from(s.mode.source)),
            None => "Not set: block traffic through real providers, only record sandbox traffic (built-in)".to_owned(),
        };
        let entries = s.safe_list.value.entries();
        FraudGuardView {
            mode: match (s.mode.source, s.mode.value) {
                (Source::Account, Some(m)) => m.as_str().to_owned(),
                _ => "inherit".to_owned(),
            },
            mode_now,
            applies: g
                .applies
                .iter()
                .map(|(c, m)| (channel(*c).to_owned(), m.as_str().to_owned()))
                .collect(),
            safe_list: entries.join("\n"),
            safe_list_own: s.safe_list.source == Source::Account,
            safe_list_now: format!(
                "{} ({})",
                match entries.len() {
                    0 => "empty".to_owned(),
                    1 => "1 entry".to_owned(),
                    n => format!("{n} entries"),
                },
                from(s.safe_list.source)
            ),
            has_parent,
            blocks: blocks
                .iter()
                .map(|b| BlockView {
                    prefix: b.prefix.clone(),
                    country: b.country_code.clone().unwrap_or_default(),
                    channel: channel(b.channel).to_owned(),
                    reason: b.reason.clone(),
                    since: crate::server::clock::rfc3339(b.since),
                    until: crate::server::clock::rfc3339(b.until),
                })
                .collect(),
        }
    }

    pub fn label(mode: &str) -> &'static str {
        match mode {
            "block" => "Block",
            "monitor" => "Monitor (record only)",
            "off" => "Off",
            _ => "As inherited",
        }
    }
}

#[server(endpoint = "fraud_guard_page")]
pub async fn fraud_guard_page() -> Result<FraudGuardView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::fraud;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let internal = |e| ctx::fail(crate::server::auth::console::internal_error(e));
    let g = fraud::get(state.otp(), &user.scope)
        .await
        .map_err(internal)?;
    let blocks = fraud::blocks(state.otp(), &user.scope)
        .await
        .map_err(internal)?;
    Ok(convert::view(
        &g,
        &blocks,
        user.scope.account().parent_sid.is_some(),
    ))
}

/// Saves the mode (`block`, `monitor`, `off`, or `inherit`) and the safe-list (one number or
/// prefix per line; `safe_list_inherit=on` goes back to the parent's list).
#[server(endpoint = "fraud_guard_save")]
pub async fn save_fraud_guard(
    #[server(default)] mode: String,
    #[server(default)] safe_list: String,
    #[server(default)] safe_list_inherit: Option<String>,
) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::domain::fraud::FraudMode;
    use crate::domain::{ErrorCode, Role};
    use crate::server::services::{audit, fraud};
    let user = ctx::user(&[Role::Admin]).await?;
    let state = ctx::state()?;
    let mode = match mode.as_str() {
        "inherit" => None,
        m => Some(FraudMode::parse(m).ok_or_else(|| {
            ctx::fail(ConsoleError::field(
                ErrorCode::InvalidParameter,
                "mode",
                "Pick block, monitor, off, or as inherited.",
            ))
        })?),
    };
    let safe_list = if safe_list_inherit.is_some() {
        None
    } else {
        Some(fraud::parse_safe_list([safe_list.as_str()]).map_err(|p| {
            ctx::fail(ConsoleError::field(
                p.code(),
                "safe_list",
                p.message("Safe-list"),
            ))
        })?)
    };
    let (_, changed) = fraud::set(
        state.otp(),
        state.clock(),
        &user.scope,
        Some(mode),
        Some(safe_list),
    )
    .await
    .map_err(|e| ctx::fail(crate::server::auth::console::internal_error(e)))?;
    if changed.is_change() {
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.scope.sid()),
            &ctx::audit_origin(&user),
            fraud::settings_change(&changed),
        )
        .await;
    }
    Ok(())
}

/// Lifts the blocks of a prefix (admins).
#[server(endpoint = "fraud_guard_lift")]
pub async fn lift_fraud_block(prefix: String) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::domain::{ErrorCode, Role};
    use crate::server::services::fraud::{self, LiftError};
    let user = ctx::user(&[Role::Admin]).await?;
    let state = ctx::state()?;
    fraud::lift(state.otp(), &user.scope, &prefix, &ctx::audit_origin(&user))
        .await
        .map_err(|e| {
            ctx::fail(match e {
                LiftError::Invalid(p) => {
                    ConsoleError::field(p.code(), "prefix", p.message("Prefix"))
                }
                LiftError::NotBlocked(p) => ConsoleError::new(
                    ErrorCode::NotFound,
                    format!("{p} is not blocked (any more): nothing to lift."),
                ),
                LiftError::Internal(e) => crate::server::auth::console::internal_error(e),
            })
        })?;
    Ok(())
}
