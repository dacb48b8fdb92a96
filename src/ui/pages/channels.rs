//! Settings → Channels: per channel, who delivers it now (the account's providers, the parent's,
//! the server's defaults or the sandbox); the account's providers in the order they are tried,
//! with arrows to reorder; add and edit a provider with the fields of its kind (secrets
//! write-only); send a real test message through one provider and read its answer; whether
//! calls ask for a key before the code. Support: read-only.
use crate::domain::provider::ProviderKind;
use crate::domain::Channel;
use crate::server_fns::providers::{
    channels_page, config_fields, ChannelsView, ConfigField, Control, DeleteProvider, LineupView,
    MoveProvider, ProviderView, SaveProvider, SaveVoicePressKey, TestProvider, TestView, VoiceView,
};
use crate::ui::components::confirm::ConfirmInline;
use crate::ui::components::form::{
    action_field_error, action_other_error, alert, Field, FieldError, TextField,
};
use crate::ui::components::layout::{use_current_user, WithUser};
use crate::ui::components::settings_tabs::SettingsTabs;
use crate::ui::components::table::{headers, DataTable, EmptyCard};
use leptos::prelude::*;
use leptos_meta::Title;

/// Every form field a provider error may name (the others are shown above the buttons).
const FIELDS: &[&str] = &[
    "kind",
    "name",
    "channels",
    "countries",
    "baseUrl",
    "accountSid",
    "authToken",
    "from",
    "messagingServiceSid",
    "url",
    "method",
    "headers",
    "contentType",
    "bodyTemplate",
    "messageIdPath",
    "host",
    "port",
    "security",
    "username",
    "password",
    "fromAddress",
    "fromName",
];

/// What the form edits: nothing (closed), a new provider, or an existing one.
#[derive(Clone, PartialEq)]
enum Editing {
    Closed,
    New,
    Existing(Box<ProviderView>),
}

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let user = use_current_user();
    let save = ServerAction::<SaveProvider>::new();
    let delete = ServerAction::<DeleteProvider>::new();
    let reorder = ServerAction::<MoveProvider>::new();
    let test = ServerAction::<TestProvider>::new();
    let voice = ServerAction::<SaveVoicePressKey>::new();
    let page = Resource::new(
        move || {
            (
                save.version().get(),
                delete.version().get(),
                reorder.version().get(),
                voice.version().get(),
            )
        },
        |_| channels_page(),
    );
    let (editing, set_editing) = signal(Editing::Closed);
    let testing = RwSignal::new(None::<ProviderView>);
    let confirm = RwSignal::new(None::<String>);

    // Set in the browser once the page is loaded and interactive (tests wait for it).
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| {
        if page.get().is_some() {
            set_ready.set(true);
        }
    });
    // A successful save closes the form.
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            set_editing.set(Editing::Closed);
        }
    });

    view! {
        <Title text="Settings · Channels" />
        <SettingsTabs />
        <div class="page-head">
            <h1>"Settings · Channels"</h1>
            <WithUser children=move |u| {
                u.role
                    .manages_credentials()
                    .then(|| {
                        view! {
                            <button
                                class="primary small-btn"
                                on:click=move |_| {
                                    save.value().set(None);
                                    testing.set(None);
                                    set_editing.set(Editing::New)
                                }
                            >
                                "Add provider"
                            </button>
                        }
                    })
            } />
        </div>
        <p class="muted">
            "Providers deliver your codes: a CPaaS (Twilio, Restcomm) or an HTTP gateway for SMS and calls, an SMTP server for email, or your own webhook. A channel tries its providers in order and moves on to the next one when a provider fails; with none, codes go to the sandbox outbox."
        </p>
        {move || match editing.get() {
            Editing::Closed => ().into_any(),
            Editing::New => {
                view! {
                    <ProviderForm
                        save
                        initial=None
                        on_cancel=move || set_editing.set(Editing::Closed)
                    />
                }
                    .into_any()
            }
            Editing::Existing(p) => {
                view! {
                    <ProviderForm
                        save
                        initial=Some(*p)
                        on_cancel=move || set_editing.set(Editing::Closed)
                    />
                }
                    .into_any()
            }
        }}
        {move || {
            testing.get().map(|p| view! { <TestPanel p test on_close=move || testing.set(None) /> })
        }}
        {move || {
            [
                delete.value().get().and_then(|r| r.err()),
                reorder.value().get().and_then(|r| r.err()),
            ]
                .into_iter()
                .flatten()
                .next()
                .map(|e| alert(e.message))
        }}
        <div class="channels" data-ready=move || ready.get().to_string()>
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading providers…"</p> }
            }>
                {move || Suspend::new(async move {
                    let may_edit = user.await.is_ok_and(|u| u.role.manages_credentials());
                    match page.await {
                        Err(e) => alert(e.message),
                        Ok(ChannelsView { providers, lineups, voice: voice_view }) => {
                            let last = providers.len().saturating_sub(1);
                            view! {
                                <section
                                    class="grid three lineups"
                                    aria-label="Who delivers each channel"
                                >
                                    {lineups
                                        .into_iter()
                                        .map(|l| view! { <LineupCard l /> })
                                        .collect_view()}
                                </section>
                                <h2>"Your providers, in the order they are tried"</h2>
                                <DataTable
                                    label="Providers"
                                    headers=headers(
                                        &["Order", "Name", "Channels", "Countries", "Status", ""],
                                    )
                                    rows=providers.into_iter().enumerate().collect()
                                    row=move |(i, p): (usize, ProviderView)| {
                                        view! {
                                            <ProviderRow
                                                p
                                                first=i == 0
                                                last=i == last
                                                may_edit
                                                save
                                                delete
                                                reorder
                                                test
                                                editing=set_editing
                                                testing
                                                confirm
                                            />
                                        }
                                    }
                                    empty=move || {
                                        view! {
                                            <EmptyCard>
                                                "No providers yet: every code goes to the sandbox outbox. "
                                                {if may_edit {
                                                    "Add one to reach real phones and inboxes."
                                                } else {
                                                    "An admin or developer can add one."
                                                }}
                                            </EmptyCard>
                                        }
                                    }
                                />
                                <VoiceCard v=voice_view may_edit action=voice />
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
}

/// Calls: ask for a key before the code (so voicemail records none).
#[component]
fn VoiceCard(
    v: VoiceView,
    may_edit: bool,
    action: ServerAction<SaveVoicePressKey>,
) -> impl IntoView {
    let now = if v.press_key { "on" } else { "off" };
    let source = match v.source.as_str() {
        "account" => "set for this account",
        "parent" => "as the parent account",
        _ => "the default",
    };
    let current = if v.source == "account" {
        now
    } else if v.has_parent {
        "inherit"
    } else {
        now
    };
    let choices: Vec<(&str, String)> = [
        Some((
            "on",
            "On: “Press any key to hear your code.” first".to_owned(),
        )),
        Some((
            "off",
            "Off: the code is read as soon as the call is answered".to_owned(),
        )),
        v.has_parent
            .then(|| ("inherit", "As the parent account".to_owned())),
    ]
    .into_iter()
    .flatten()
    .collect();
    view! {
        <section class="card voice-settings" aria-label="Voice calls">
            <h2>"Voice calls"</h2>
            <p class="muted">
                "Ask the callee to press a key before the code is read, so an answering machine or voicemail never records it. Now: "
                <strong data-testid="voice-press-key">{now}</strong> " (" {source} ")."
            </p>
            {may_edit
                .then(|| {
                    view! {
                        <ActionForm action attr:class="create-form">
                            <Field id="voice-press-key" label="Press a key first">
                                <select id="voice-press-key" name="choice">
                                    {choices
                                        .into_iter()
                                        .map(|(value, text)| {
                                            view! {
                                                <option value=value selected=value == current>
                                                    {text}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </Field>
                            <button type="submit" class="primary small-btn">
                                "Save"
                            </button>
                        </ActionForm>
                    }
                })}
            {move || action.value().get().and_then(|r| r.err()).map(|e| alert(e.message))}
        </section>
    }
}

/// Who delivers one channel now.
#[component]
fn LineupCard(l: LineupView) -> impl IntoView {
    let channel = Channel::parse(&l.channel).map(|c| c.label()).unwrap_or("?");
    let (badge, words) = match l.source.as_str() {
        "own" => ("status-verified", "Your providers"),
        "parent" => ("status-delivered", "The parent account's providers"),
        "server" => ("status-delivered", "The server's default providers"),
        _ => (
            "status-pending",
            "Sandbox: codes go to the test outbox, not to real people",
        ),
    };
    let names = l
        .providers
        .iter()
        .map(|(name, countries)| {
            if countries.is_empty() {
                name.clone()
            } else {
                format!("{name} ({})", countries.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(" → ");
    view! {
        <div class="card lineup" data-channel=l.channel.clone() data-source=l.source.clone()>
            <h3>{channel} " " <span class=format!("badge {badge}")>{l.source.clone()}</span></h3>
            <p class="muted">{words}</p>
            {(!names.is_empty()).then(|| view! { <p class="lineup-names">{names}</p> })}
        </div>
    }
}

/// A provider in the list: order arrows, what it is, and Edit / Send a test / Delete for those
/// who may change providers.
#[component]
fn ProviderRow(
    p: ProviderView,
    first: bool,
    last: bool,
    may_edit: bool,
    save: ServerAction<SaveProvider>,
    delete: ServerAction<DeleteProvider>,
    reorder: ServerAction<MoveProvider>,
    test: ServerAction<TestProvider>,
    editing: WriteSignal<Editing>,
    testing: RwSignal<Option<ProviderView>>,
    confirm: RwSignal<Option<String>>,
) -> impl IntoView {
    let order = may_edit.then(|| {
        let (up, down) = (p.sid.clone(), p.sid.clone());
        view! {
            <button
                class="small"
                aria-label=format!("Move {} earlier", p.name)
                disabled=move || first || reorder.pending().get()
                on:click=move |_| {
                    reorder
                        .dispatch(MoveProvider {
                            sid: up.clone(),
                            earlier: true,
                        });
                }
            >
                "↑"
            </button>
            <button
                class="small"
                aria-label=format!("Move {} later", p.name)
                disabled=move || last || reorder.pending().get()
                on:click=move |_| {
                    reorder
                        .dispatch(MoveProvider {
                            sid: down.clone(),
                            earlier: false,
                        });
                }
            >
                "↓"
            </button>
        }
    });
    let actions = may_edit.then(|| {
        let (edit, tested) = (p.clone(), p.clone());
        let sid = p.sid.clone();
        view! {
            <button on:click=move |_| {
                save.value().set(None);
                testing.set(None);
                editing.set(Editing::Existing(Box::new(edit.clone())))
            }>"Edit"</button>
            <button on:click=move |_| {
                test.value().set(None);
                editing.set(Editing::Closed);
                testing.set(Some(tested.clone()))
            }>"Send a test…"</button>
            <ConfirmInline
                key=p.sid.clone()
                asking=confirm
                ask="Delete…"
                question=format!("Delete {}? Its channels move on to the next provider.", p.name)
                act="Delete"
                on_confirm=Callback::new(move |()| {
                    delete.dispatch(DeleteProvider { sid: sid.clone() });
                })
            />
        }
    });
    let channels = p
        .channels
        .iter()
        .filter_map(|c| Channel::parse(c))
        .map(|c| c.label())
        .collect::<Vec<_>>()
        .join(", ");
    let countries = if p.countries.is_empty() {
        "All".to_owned()
    } else {
        p.countries.join(", ")
    };
    view! {
        <tr data-provider=p.name.clone()>
            <td class="nowrap">{order}</td>
            <td>
                <strong>{p.name.clone()}</strong>
                <br />
                <span class="muted small">{p.kind().label()}</span>
            </td>
            <td>{channels}</td>
            <td>{countries}</td>
            <td>
                {if p.enabled {
                    view! { <span class="badge status-verified">"enabled"</span> }
                } else {
                    view! { <span class="badge status-canceled">"disabled"</span> }
                }}
            </td>
            <td class="actions">{actions}</td>
        </tr>
    }
}

/// Add or edit a provider. The kind decides the channels and settings offered; a secret is
/// never shown again, and left empty it keeps its value.
#[component]
fn ProviderForm(
    save: ServerAction<SaveProvider>,
    initial: Option<ProviderView>,
    on_cancel: impl Fn() + 'static + Clone + Send + Sync,
) -> impl IntoView {
    let editing = initial.is_some();
    let title = if editing {
        "Edit provider"
    } else {
        "Add provider"
    };
    let kind = RwSignal::new(
        initial
            .as_ref()
            .map(|p| p.kind())
            .unwrap_or(ProviderKind::Twilio),
    );
    let sid = initial.as_ref().map(|p| p.sid.clone()).unwrap_or_default();
    let name = initial.as_ref().map(|p| p.name.clone()).unwrap_or_default();
    let countries = initial
        .as_ref()
        .map(|p| p.countries.join(", "))
        .unwrap_or_default();
    let enabled = initial.as_ref().is_none_or(|p| p.enabled);
    let error_for = move |field: &'static str| action_field_error(save, field);
    let general_error = action_other_error(save, FIELDS);
    let initial_for_fields = initial.clone();
    let kind_field = if editing {
        view! {
            <input type="hidden" name="kind" value=kind.get_untracked().as_str() />
            <p class="muted">"Kind: " {kind.get_untracked().label()}</p>
        }
        .into_any()
    } else {
        view! {
            <Field id="provider-kind" label="Kind" error=error_for("kind")>
                <select
                    id="provider-kind"
                    name="kind"
                    on:change=move |ev| {
                        if let Some(k) = ProviderKind::parse(&event_target_value(&ev)) {
                            kind.set(k);
                        }
                    }
                >
                    {ProviderKind::CONFIGURABLE
                        .into_iter()
                        .map(|k| {
                            view! {
                                <option value=k.as_str() selected=move || kind.get() == k>
                                    {k.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </Field>
        }
        .into_any()
    };
    let channel_boxes = {
        let initial = initial.clone();
        move || {
            let k = kind.get();
            let ticked = |c: Channel| match &initial {
                Some(p) if p.kind() == k => p.channels.iter().any(|x| x == c.as_str()),
                _ => true,
            };
            k.channels()
                .iter()
                .map(|c| {
                    let id = format!("provider-channel-{}", c.as_str());
                    let label_for = id.clone();
                    view! {
                        <label class="check" for=label_for>
                            <input
                                type="checkbox"
                                id=id
                                name=format!("channels[{}]", c.as_str())
                                value="on"
                                checked=ticked(*c)
                            />
                            {c.label()}
                        </label>
                    }
                })
                .collect_view()
        }
    };
    let settings = move || {
        let k = kind.get();
        let initial = initial_for_fields.clone().filter(|p| p.kind() == k);
        config_fields(k)
            .iter()
            .map(|f| view! { <ConfigInput f initial=initial.clone() error=error_for(f.key) /> })
            .collect_view()
    };
    view! {
        <section class="card provider-form" aria-label=title>
            <h2>{title}</h2>
            <ActionForm action=save>
                <input type="hidden" name="sid" value=sid />
                {kind_field}
                <TextField
                    id="provider-name"
                    name="name"
                    label="Name"
                    value=name
                    placeholder="Twilio main"
                    required=true
                    error=error_for("name")
                />
                <fieldset class="channels-choice">
                    <legend>"Channels"</legend>
                    {channel_boxes}
                    <FieldError error=error_for("channels") />
                </fieldset>
                <TextField
                    id="provider-countries"
                    name="countries"
                    label="Destination countries"
                    value=countries
                    placeholder="GB, IE"
                    hint="ISO country codes, separated by commas. Empty: every country."
                    error=error_for("countries")
                />
                <div class="field checkbox">
                    <label for="provider-enabled">
                        <input
                            type="checkbox"
                            id="provider-enabled"
                            name="enabled"
                            value="on"
                            checked=enabled
                        />
                        " Enabled"
                    </label>
                </div>
                {settings}
                {general_error}
                <div class="form-actions">
                    <button
                        type="submit"
                        class="primary small-btn"
                        disabled=move || save.pending().get()
                    >
                        {move || if save.pending().get() { "Checking…" } else { "Save provider" }}
                    </button>
                    <button type="button" on:click=move |_| on_cancel()>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

/// One setting of a provider, by its control.
#[component]
fn ConfigInput(
    f: &'static ConfigField,
    initial: Option<ProviderView>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("provider-{}", f.key);
    let name = format!("config[{}]", f.key);
    let current = initial.as_ref().and_then(|p| p.config.get(f.key).cloned());
    let hint = (!f.hint.is_empty()).then(|| f.hint.to_owned());
    let label = if f.required || f.control == Control::Secret {
        f.label.to_owned()
    } else {
        format!("{} (optional)", f.label)
    };
    let placeholder = (!f.placeholder.is_empty()).then_some(f.placeholder);
    match f.control {
        Control::Text | Control::Url | Control::Email | Control::Number => {
            let kind = match f.control {
                Control::Url => "url",
                Control::Email => "email",
                Control::Number => "number",
                _ => "text",
            };
            let value = current
                .or_else(|| (f.control == Control::Number).then(|| f.placeholder.to_owned()));
            view! {
                <TextField
                    id
                    name
                    label
                    kind
                    value=value.unwrap_or_default()
                    placeholder=placeholder.unwrap_or_default()
                    hint=hint
                    error
                    required=f.required
                />
            }
            .into_any()
        }
        Control::Secret => {
            // Write-only: an existing secret shows only its mask, and empty keeps it.
            let (hint, required) = match &current {
                Some(mask) => (format!("Now {mask}. Leave empty to keep it."), false),
                None => (
                    "Kept sealed; never shown again.".to_owned(),
                    f.required && initial.is_none(),
                ),
            };
            view! {
                <TextField
                    id
                    name
                    label
                    kind="password"
                    autocomplete="new-password"
                    hint=hint
                    error
                    required
                />
            }
            .into_any()
        }
        Control::Choice(choices) => {
            let selected = current.unwrap_or_else(|| choices[0].to_owned());
            view! {
                <Field id=id.clone() label hint error>
                    <select id=id name=name>
                        {choices
                            .iter()
                            .map(|c| {
                                view! {
                                    <option value=*c selected=selected == *c>
                                        {*c}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </Field>
            }
            .into_any()
        }
        Control::Lines | Control::Headers => {
            let (text, name) = if f.control == Control::Headers {
                // The names come back; their values stay sealed (empty keeps them).
                let lines = initial
                    .as_ref()
                    .map(|p| {
                        p.headers
                            .iter()
                            .map(|(n, _)| format!("{n}: "))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                (lines, "headers".to_owned())
            } else {
                (current.unwrap_or_default(), name)
            };
            view! {
                <Field id=id.clone() label hint error>
                    <textarea id=id name=name rows="4" placeholder=placeholder>
                        {text}
                    </textarea>
                </Field>
            }
            .into_any()
        }
    }
}

/// Send a real test message through one provider.
#[component]
fn TestPanel(
    p: ProviderView,
    test: ServerAction<TestProvider>,
    on_close: impl Fn() + 'static + Clone + Send + Sync,
) -> impl IntoView {
    let email = p.channels.iter().any(|c| c == "email");
    let phone = p.channels.iter().any(|c| c == "sms");
    let placeholder = match (phone, email) {
        (true, true) => "+14155550100 or you@example.com",
        (false, true) => "you@example.com",
        _ => "+14155550100",
    };
    let title = format!("Send a test through {}", p.name);
    let sid = p.sid.clone();
    let other_error = action_other_error(test, &["to"]);
    view! {
        <section class="card test-panel" aria-label=title.clone()>
            <h2>{title.clone()}</h2>
            <p class="muted">
                "A real message (no code in it) goes out through this provider alone. Receipts it posts back go to "
                <code>{p.status_callback_url.clone()}</code> "."
            </p>
            <ActionForm action=test attr:class="create-form">
                <input type="hidden" name="sid" value=sid />
                <TextField
                    id="test-to"
                    name="to"
                    label="Send to"
                    placeholder=placeholder
                    required=true
                    error=action_field_error(test, "to")
                />
                <button
                    type="submit"
                    class="primary small-btn"
                    disabled=move || test.pending().get()
                >
                    {move || if test.pending().get() { "Sending…" } else { "Send test" }}
                </button>
                <button type="button" on:click=move |_| on_close()>
                    "Close"
                </button>
            </ActionForm>
            {other_error}
            {move || test.value().get().and_then(|r| r.ok()).map(|t| view! { <TestAnswer t /> })}
        </section>
    }
}

/// What the provider said.
#[component]
fn TestAnswer(t: TestView) -> impl IntoView {
    let channel = Channel::parse(&t.channel).map(|c| c.label()).unwrap_or("?");
    if t.accepted {
        let id = t
            .message_id
            .map(|id| format!(" Its message id: {id}."))
            .unwrap_or_default();
        view! {
            <p class="notice success" role="status" data-testid="test-answer" data-accepted="true">
                {format!("Accepted ({channel}): the provider says {}.{id}", t.status)}
            </p>
        }
        .into_any()
    } else {
        let retry = if t.status == "retry" {
            " This looks temporary; try again in a moment."
        } else {
            ""
        };
        view! {
            <p class="error" role="alert" data-testid="test-answer" data-accepted="false">
                {format!(
                    "Refused ({channel}): {}.{retry}",
                    t.error.unwrap_or_else(|| "no reason given".into()).trim_end_matches('.'),
                )}
            </p>
        }
        .into_any()
    }
}
