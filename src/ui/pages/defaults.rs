//! Settings → Defaults: what a send that leaves a field out gets. Each field shows what applies
//! now and where it comes from; a value sets it for this account, an empty field goes back to
//! the parent account's (or the built-in) value. Admins change; everyone else reads.
use crate::domain::Role;
use crate::server_fns::settings::{defaults_page, DefaultView, DefaultsView, SaveDefaults};
use crate::ui::components::form::{action_field_error, action_other_error, alert, Field};
use crate::ui::components::layout::use_current_user;
use crate::ui::components::settings_tabs::SettingsTabs;
use leptos::prelude::*;
use leptos_meta::Title;

const FIELDS: &[&str] = &[
    "code_length",
    "code_type",
    "expiry",
    "max_attempts",
    "per_10_minutes",
    "per_24_hours",
    "workflow",
    "keep_old_otp_active",
    "language",
    "status_callback",
];

/// "Now: 600 (built-in)" for a field's hint.
fn now(v: &DefaultView, has_parent: bool) -> String {
    let shown = if v.now.is_empty() { "none" } else { &v.now };
    let from = match v.source.as_str() {
        "account" => "set here",
        "parent" => "from the parent account",
        _ => "built-in",
    };
    let empty = if has_parent {
        "Empty: as the parent account."
    } else {
        "Empty: the built-in value."
    };
    format!("Now: {shown} ({from}). {empty}")
}

#[component]
pub fn DefaultsPage() -> impl IntoView {
    let user = use_current_user();
    let save = ServerAction::<SaveDefaults>::new();
    let page = Resource::new(move || save.version().get(), |_| defaults_page());
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| {
        if page.get().is_some() {
            set_ready.set(true);
        }
    });
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <Title text="Settings · Defaults" />
        <SettingsTabs />
        <h1>"Settings · Defaults"</h1>
        <p class="muted">
            "What a send gets when it leaves a field out. A send that gives the field wins; a sub-account uses its parent's defaults until it sets its own."
        </p>
        <div class="defaults" data-ready=move || ready.get().to_string()>
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading defaults…"</p> }
            }>
                {move || Suspend::new(async move {
                    let may_edit = user.await.is_ok_and(|u| u.role == Role::Admin);
                    match page.await {
                        Err(e) => alert(e.message),
                        Ok(v) => view! { <DefaultsForm v may_edit save /> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
        {move || {
            saved()
                .then(|| {
                    view! {
                        <p class="notice success" role="status" data-testid="defaults-saved">
                            "Saved. New sends use these defaults."
                        </p>
                    }
                })
        }}
    }
}

#[component]
fn DefaultsForm(
    v: DefaultsView,
    may_edit: bool,
    save: ServerAction<SaveDefaults>,
) -> impl IntoView {
    let p = v.has_parent;
    let input = move |id: &'static str,
                      label: &'static str,
                      kind: &'static str,
                      d: &DefaultView,
                      extra: &'static str| {
        let hint = if extra.is_empty() {
            now(d, p)
        } else {
            format!("{extra} {}", now(d, p))
        };
        let own = d.own.clone();
        view! {
            <Field id=id label hint error=action_field_error(save, id)>
                <input
                    id=id
                    name=id
                    type=kind
                    value=own
                    disabled=!may_edit
                    aria-describedby=format!("{id}-hint")
                />
            </Field>
        }
    };
    let choice = move |id: &'static str,
                       label: &'static str,
                       d: &DefaultView,
                       options: &'static [(&'static str, &'static str)]| {
        let own = d.own.clone();
        view! {
            <Field id=id label hint=now(d, p) error=action_field_error(save, id)>
                <select id=id name=id disabled=!may_edit aria-describedby=format!("{id}-hint")>
                    <option value="" selected=own.is_empty()>
                        {if p { "As the parent account" } else { "Built-in" }}
                    </option>
                    {options
                        .iter()
                        .map(|(value, text)| {
                            view! {
                                <option value=*value selected=own == *value>
                                    {*text}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </Field>
        }
    };
    let fields = view! {
        <fieldset class="card">
            <legend>"The code"</legend>
            {input("code_length", "Code length", "number", &v.code_length, "4–10 characters.")}
            {choice(
                "code_type",
                "Code type",
                &v.code_type,
                &[("numeric", "Digits"), ("alphanumeric", "Letters and digits")],
            )}
            {input("expiry", "Expiry (seconds)", "number", &v.expiry, "60–86400.")}
            {input(
                "max_attempts",
                "Attempts",
                "number",
                &v.max_attempts,
                "Wrong codes before the OTP locks, 1–10.",
            )}
        </fieldset>
        <fieldset class="card">
            <legend>"Delivery"</legend>
            {input(
                "workflow",
                "Workflow",
                "text",
                &v.workflow,
                "Channels in order, comma-separated: sms, call, email.",
            )}
            {input("language", "Language", "text", &v.language, "A tag like en-US or es-MX.")}
            {choice(
                "keep_old_otp_active",
                "Earlier codes to the same destination",
                &v.keep_old_otp_active,
                &[("false", "Superseded by a new code"), ("true", "Stay valid")],
            )}
            {input(
                "status_callback",
                "Status callback URL",
                "url",
                &v.status_callback,
                "Where status changes are posted when a send gives none.",
            )}
        </fieldset>
        <fieldset class="card">
            <legend>"Per-destination protection"</legend>
            {input(
                "per_10_minutes",
                "Sends per 10 minutes",
                "number",
                &v.per_10_minutes,
                "To one number or address.",
            )}
            {input("per_24_hours", "Sends per 24 hours", "number", &v.per_24_hours, "")}
        </fieldset>
    };
    if may_edit {
        view! {
            <ActionForm action=save attr:class="defaults-form">
                {fields}
                {action_other_error(save, FIELDS)}
                <button type="submit" class="primary">
                    "Save defaults"
                </button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <div class="defaults-form">
                {fields} <p class="muted">"Only admins change the defaults."</p>
            </div>
        }
        .into_any()
    }
}
