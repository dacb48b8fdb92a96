//! Settings → Fraud guard: what the guard does with SMS and call traffic that looks like SMS
//! pumping (block, only record, off, or as inherited), the numbers and prefixes it never
//! blocks, and the prefixes it blocks now with why and until when — an admin can lift one.
use crate::domain::Role;
use crate::server_fns::fraud::{
    fraud_guard_page, BlockView, FraudGuardView, LiftFraudBlock, SaveFraudGuard,
};
use crate::ui::components::form::{action_field_error, action_other_error, alert, FieldError};
use crate::ui::components::layout::use_current_user;
use crate::ui::components::otp::short_time;
use crate::ui::components::settings_tabs::SettingsTabs;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn FraudGuardPage() -> impl IntoView {
    let user = use_current_user();
    let save = ServerAction::<SaveFraudGuard>::new();
    let lift = ServerAction::<LiftFraudBlock>::new();
    let page = Resource::new(
        move || (save.version().get(), lift.version().get()),
        |_| fraud_guard_page(),
    );
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| {
        if page.get().is_some() {
            set_ready.set(true);
        }
    });
    view! {
        <Title text="Settings · Fraud guard" />
        <SettingsTabs />
        <h1>"Settings · Fraud guard"</h1>
        <p class="muted">
            "Bots that request codes to numbers an attacker is paid for (SMS pumping) never verify them. Per number prefix and per country, the guard compares the last hour's and day's unverified codes with your verified ones; a prefix that goes over is blocked for 12 hours (429, error 7024). Every decision is in the OTP's timeline."
        </p>
        <div class="fraud-guard" data-ready=move || ready.get().to_string()>
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading the fraud guard…"</p> }
            }>
                {move || Suspend::new(async move {
                    let may_edit = user.await.is_ok_and(|u| u.role == Role::Admin);
                    match page.await {
                        Err(e) => alert(e.message),
                        Ok(v) => {
                            view! {
                                <GuardForm v=v.clone() may_edit save />
                                <Blocks blocks=v.blocks may_edit lift />
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
        {move || {
            matches!(save.value().get(), Some(Ok(())))
                .then(|| {
                    view! {
                        <p class="notice success" role="status" data-testid="fraud-saved">
                            "Saved."
                        </p>
                    }
                })
        }}
        {move || lift.value().get().and_then(|r| r.err()).map(|e| alert(e.message))}
    }
}

const MODES: [(&str, &str); 4] = [
    (
        "block",
        "Block: refuse sends to a prefix that trips the guard, for 12 hours",
    ),
    (
        "monitor",
        "Monitor: accept them, and record what the guard would have done",
    ),
    ("off", "Off: do not check"),
    ("inherit", ""),
];

#[component]
fn GuardForm(
    v: FraudGuardView,
    may_edit: bool,
    save: ServerAction<SaveFraudGuard>,
) -> impl IntoView {
    let inherit = if v.has_parent {
        "As the parent account"
    } else {
        "Not set: block traffic through real providers, only record sandbox traffic"
    };
    let radios = MODES
        .iter()
        .map(|(value, text)| {
            let id = format!("mode-{value}");
            let label_for = id.clone();
            let text = if *value == "inherit" { inherit } else { text };
            view! {
                <label for=label_for class="radio">
                    <input
                        type="radio"
                        id=id
                        name="mode"
                        value=*value
                        checked=v.mode == *value
                        disabled=!may_edit
                    />
                    {text}
                </label>
            }
        })
        .collect_view();
    let applies = v
        .applies
        .iter()
        .map(|(channel, mode)| format!("{channel}: {mode}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let fields = view! {
        <div class="grid two">
            <fieldset class="card mode" data-testid="fraud-mode">
                <legend>"Mode"</legend>
                <p class="muted">
                    "Now: " <strong data-testid="mode-now">{v.mode_now.clone()}</strong> <br />
                    "Applies to traffic: " <span data-testid="applies">{applies}</span>
                </p>
                {radios}
                <FieldError error=action_field_error(save, "mode") />
            </fieldset>
            <fieldset class="card" data-testid="safe-list">
                <legend>"Safe-list"</legend>
                <p class="muted">
                    "Numbers and prefixes never blocked (your test numbers, a partner's range). Now: "
                    <strong data-testid="safe-list-now">{v.safe_list_now.clone()}</strong>
                </p>
                <div class="field">
                    <label for="safe-list-entries">
                        "One number or prefix per line, like +4477009"
                    </label>
                    <textarea
                        id="safe-list-entries"
                        name="safe_list"
                        rows="5"
                        disabled=!may_edit
                        prop:value=v.safe_list.clone()
                    >
                        {v.safe_list.clone()}
                    </textarea>
                    <FieldError error=action_field_error(save, "safe_list") />
                </div>
                <label for="safe-list-inherit" class="checkbox">
                    <input
                        type="checkbox"
                        id="safe-list-inherit"
                        name="safe_list_inherit"
                        checked=!v.safe_list_own
                        disabled=!may_edit
                    />
                    {if v.has_parent { "As the parent account" } else { "None (not set)" }}
                </label>
            </fieldset>
        </div>
    };
    if may_edit {
        view! {
            <ActionForm action=save attr:class="fraud-form">
                {fields}
                {action_other_error(save, &["mode", "safe_list"])}
                <button type="submit" class="primary">
                    "Save fraud guard"
                </button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <div class="fraud-form">
                {fields} <p class="muted">"Only admins change the fraud guard."</p>
            </div>
        }
        .into_any()
    }
}

#[component]
fn Blocks(
    blocks: Vec<BlockView>,
    may_edit: bool,
    lift: ServerAction<LiftFraudBlock>,
) -> impl IntoView {
    if blocks.is_empty() {
        return view! {
            <h2>"Blocked prefixes"</h2>
            <p class="empty" data-testid="no-blocks">
                "No prefix is blocked. When one trips the guard it appears here, with why and until when."
            </p>
        }
        .into_any();
    }
    let rows = blocks
        .into_iter()
        .map(|b| {
            let prefix = b.prefix.clone();
            let action = may_edit.then(move || {
                let label = format!("Lift the block of {prefix}");
                view! {
                    <ActionForm action=lift>
                        <input type="hidden" name="prefix" value=prefix />
                        <button type="submit" aria-label=label>
                            "Lift"
                        </button>
                    </ActionForm>
                }
            });
            view! {
                <tr data-prefix=b.prefix.clone()>
                    <td>
                        <code>{b.prefix.clone()}</code>
                    </td>
                    <td>{b.country.clone()}</td>
                    <td>{b.channel.clone()}</td>
                    <td class="reason">{b.reason.clone()}</td>
                    <td class="nowrap">{short_time(&b.since)}</td>
                    <td class="nowrap">{short_time(&b.until)}</td>
                    <td class="actions">{action}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>"Blocked prefixes"</h2>
        <p class="muted">
            "Lifting a block lets the prefix through again; the guard will not block it again for 24 hours (it still records what it would have done)."
        </p>
        <table class="data" aria-label="Blocked prefixes">
            <thead>
                <tr>
                    <th>"Prefix"</th>
                    <th>"Country"</th>
                    <th>"Channel"</th>
                    <th>"Why"</th>
                    <th>"Since"</th>
                    <th>"Until"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
