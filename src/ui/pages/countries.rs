//! Settings → Countries: the destination countries SMS and calls may go to. Per channel: all
//! countries, only the ticked ones, or as inherited (the parent account's or the server's
//! list); a searchable list of countries with a tick per channel. Email addresses have no
//! country. Admins change; everyone else reads.
use crate::domain::Role;
use crate::server_fns::settings::{countries_page, ChannelCountries, CountriesView, SaveCountries};
use crate::ui::components::form::{action_field_error, action_other_error, alert, FieldError};
use crate::ui::components::layout::use_current_user;
use crate::ui::components::settings_tabs::SettingsTabs;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CountriesPage() -> impl IntoView {
    let user = use_current_user();
    let save = ServerAction::<SaveCountries>::new();
    let page = Resource::new(move || save.version().get(), |_| countries_page());
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| {
        if page.get().is_some() {
            set_ready.set(true);
        }
    });
    view! {
        <Title text="Settings · Countries" />
        <SettingsTabs />
        <h1>"Settings · Countries"</h1>
        <p class="muted">
            "Where SMS and calls may go. A send to a country that is not allowed is refused (403, error 7011) before anything is charged. Email addresses have no country."
        </p>
        <div class="countries" data-ready=move || ready.get().to_string()>
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading countries…"</p> }
            }>
                {move || Suspend::new(async move {
                    let may_edit = user.await.is_ok_and(|u| u.role == Role::Admin);
                    match page.await {
                        Err(e) => alert(e.message),
                        Ok(v) => view! { <CountriesForm v may_edit save /> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
        {move || {
            matches!(save.value().get(), Some(Ok(())))
                .then(|| {
                    view! {
                        <p class="notice success" role="status" data-testid="countries-saved">
                            "Saved."
                        </p>
                    }
                })
        }}
    }
}

/// "All countries (built-in)" or "3 countries (set here)".
fn summary(c: &ChannelCountries) -> String {
    let what = if c.mode == "all" {
        "all countries".to_owned()
    } else {
        match c.list.len() {
            1 => format!("only {}", c.list[0]),
            n if n <= 5 => format!("only {}", c.list.join(", ")),
            n => format!("{n} countries"),
        }
    };
    let from = match c.source.as_str() {
        "account" => "set here",
        "parent" => "from the parent account",
        "server" => "the server's default",
        _ => "built-in",
    };
    format!("{what} ({from})")
}

/// The mode radio buttons of one channel.
#[component]
fn Mode(
    name: &'static str,
    label: &'static str,
    c: ChannelCountries,
    has_parent: bool,
    may_edit: bool,
    save: ServerAction<SaveCountries>,
) -> impl IntoView {
    let own = c.source == "account";
    let current = if own {
        c.mode.clone()
    } else {
        "inherit".to_owned()
    };
    let inherit = if has_parent {
        "As the parent account"
    } else {
        "As the server's default (all countries unless the operator set a list)"
    };
    let radio = move |value: &'static str, text: &'static str, current: &str| {
        let id = format!("{name}-{value}");
        let label_for = id.clone();
        view! {
            <label for=label_for class="radio">
                <input
                    type="radio"
                    id=id
                    name=name
                    value=value
                    checked=current == value
                    disabled=!may_edit
                />
                {text}
            </label>
        }
    };
    view! {
        <fieldset class="card mode" data-testid=name>
            <legend>{label}</legend>
            <p class="muted">
                "Now: " <strong data-testid=format!("{name}-now")>{summary(&c)}</strong>
            </p>
            {radio("all", "All countries", &current)}
            {radio("only", "Only the countries ticked below", &current)}
            {radio("inherit", inherit, &current)}
            <FieldError error=action_field_error(save, name) />
        </fieldset>
    }
}

#[component]
fn CountriesForm(
    v: CountriesView,
    may_edit: bool,
    save: ServerAction<SaveCountries>,
) -> impl IntoView {
    let (search, set_search) = signal(String::new());
    let sms_list = v.sms.list.clone();
    let call_list = v.call.list.clone();
    let rows = v
        .countries
        .into_iter()
        .map(|(code, name)| {
            let haystack = format!("{} {}", code, name).to_lowercase();
            let hidden = move || {
                let q = search.get().trim().to_lowercase();
                !q.is_empty() && !haystack.contains(&q)
            };
            let sms_on = sms_list.contains(&code);
            let call_on = call_list.contains(&code);
            view! {
                <tr class:hidden=hidden data-code=code.clone()>
                    <td>{name.clone()}</td>
                    <td>
                        <code>{code.clone()}</code>
                    </td>
                    <td>
                        <input
                            type="checkbox"
                            name=format!("sms[{code}]")
                            aria-label=format!("SMS to {name}")
                            checked=sms_on
                            disabled=!may_edit
                        />
                    </td>
                    <td>
                        <input
                            type="checkbox"
                            name=format!("call[{code}]")
                            aria-label=format!("Calls to {name}")
                            checked=call_on
                            disabled=!may_edit
                        />
                    </td>
                </tr>
            }
        })
        .collect_view();
    let modes = view! {
        <div class="grid two">
            <Mode name="sms_mode" label="SMS" c=v.sms has_parent=v.has_parent may_edit save />
            <Mode name="call_mode" label="Calls" c=v.call has_parent=v.has_parent may_edit save />
        </div>
    };
    let list = view! {
        <div class="field search">
            <label for="country-search">"Find a country"</label>
            <input
                id="country-search"
                type="search"
                placeholder="Name or code, e.g. Germany or DE"
                on:input=move |ev| set_search.set(event_target_value(&ev))
            />
        </div>
        <table class="data countries-table" aria-label="Countries">
            <thead>
                <tr>
                    <th>"Country"</th>
                    <th>"Code"</th>
                    <th>"SMS"</th>
                    <th>"Calls"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    };
    if may_edit {
        view! {
            <ActionForm action=save attr:class="countries-form">
                {modes}
                {action_other_error(save, &["sms_mode", "call_mode"])}
                <button type="submit" class="primary">
                    "Save countries"
                </button>
                {list}
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <div class="countries-form">
                {modes} <p class="muted">"Only admins change the allowed countries."</p> {list}
            </div>
        }
        .into_any()
    }
}
