//! Settings → Templates: the account's message templates per channel and language (its own,
//! its parent's or the built-in ones), written and reset through the same template service as
//! `/2fa/templates`. Admins and developers edit; support reads.
use crate::domain::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A template as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateView {
    /// `sms`, `call` or `email`.
    pub channel: String,
    /// A canonical tag (`es`, `es-MX`).
    pub language: String,
    /// Email only (empty otherwise).
    pub subject: String,
    pub text: String,
    /// Email only; empty: made from the text.
    pub html: String,
    /// `account`, `parent` or `builtin`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplatesView {
    /// Per channel: the built-in languages and every language with an own or parent template.
    pub templates: Vec<TemplateView>,
    /// A sub-account (a reset may go back to the parent's template).
    pub has_parent: bool,
}

#[cfg(feature = "ssr")]
fn view(e: crate::server::services::templates::Effective) -> TemplateView {
    TemplateView {
        channel: e.channel.as_str().into(),
        language: e.language,
        subject: e.template.subject.unwrap_or_default(),
        text: e.template.text,
        html: e.template.html.unwrap_or_default(),
        source: e.source.as_str().into(),
    }
}

/// A template refusal next to the form field it concerns.
#[cfg(feature = "ssr")]
fn template_error(e: crate::server::services::templates::TemplateError) -> ConsoleError {
    use crate::server::services::templates::{TemplateError, TemplateField};
    let code = e.code();
    match e {
        TemplateError::Invalid { field, problem } => {
            let (name, label) = match field {
                TemplateField::Channel => ("channel", "Channel"),
                TemplateField::Language => ("language", "Language"),
                TemplateField::Subject => ("subject", "Subject"),
                TemplateField::Text => ("text", "Text"),
                TemplateField::Html => ("html", "HTML"),
            };
            ConsoleError::field(problem.code(), name, problem.message(label))
        }
        TemplateError::NotFound => ConsoleError::new(
            code,
            "This account has no template of its own here any more (someone may have reset it). Reload the page.",
        ),
        TemplateError::Internal(err) => crate::server::auth::console::internal_error(err),
    }
}

#[server(endpoint = "templates_page")]
pub async fn templates_page() -> Result<TemplatesView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::templates as service;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let all = service::list(state.db(), &user.scope)
        .await
        .map_err(|e| ctx::fail(crate::server::auth::console::internal_error(e)))?;
    Ok(TemplatesView {
        templates: all.into_iter().map(view).collect(),
        has_parent: user.scope.account().parent_sid.is_some(),
    })
}

/// Writes the account's own template for a channel and language. `subject` and `html` are for
/// email (empty: none).
#[server(endpoint = "templates_save")]
pub async fn save_template(
    channel: String,
    language: String,
    #[server(default)] subject: String,
    text: String,
    #[server(default)] html: String,
) -> Result<TemplateView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::templates::{self as service, TemplateInput, TemplateKey};
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let fail = |e| ctx::fail(template_error(e));
    let key = TemplateKey::parse(&channel, &language).map_err(fail)?;
    let given = |s: String| (!s.trim().is_empty()).then_some(s);
    let input = TemplateInput {
        subject: given(subject),
        text,
        html: given(html),
    };
    let e = service::put(state.db(), state.clock(), &user.scope, &key, input)
        .await
        .map_err(fail)?;
    use crate::server::services::audit;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(user.scope.sid()),
        &ctx::audit_origin(&user),
        audit::template_change(&key, Some(&e.template)),
    )
    .await;
    Ok(view(e))
}

/// Removes the account's own template: the parent's or the built-in one applies again.
#[server(endpoint = "templates_reset")]
pub async fn reset_template(
    channel: String,
    language: String,
) -> Result<TemplateView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::templates::{self as service, TemplateKey};
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let fail = |e| ctx::fail(template_error(e));
    let key = TemplateKey::parse(&channel, &language).map_err(fail)?;
    let e = service::delete(state.db(), &user.scope, &key)
        .await
        .map_err(fail)?;
    use crate::server::services::audit;
    audit::record_after(
        state.db(),
        state.clock(),
        Some(user.scope.sid()),
        &ctx::audit_origin(&user),
        audit::template_change(&key, None),
    )
    .await;
    Ok(view(e))
}
