//! Limits: search and list named limits (buckets, sends blocked in the last 24 h), add and edit
//! them with up to two buckets in human units, delete with a confirmation. Support: read-only.
use crate::server_fns::limits::{
    describe, human_interval, list_limits, DeleteLimit, LimitView, SaveLimit, UNITS,
};
use crate::ui::components::confirm::ConfirmInline;
use crate::ui::components::form::{
    action_field_error, action_other_error, alert, Field, FieldError, TextField,
};
use crate::ui::components::layout::{use_current_user, WithUser};
use crate::ui::components::table::{headers, DataTable, EmptyCard};
use leptos::prelude::*;
use leptos_meta::Title;

/// What the form edits: nothing (closed), a new limit, or an existing one.
#[derive(Clone, PartialEq)]
enum Editing {
    Closed,
    New,
    Existing(LimitView),
}

#[component]
pub fn LimitsPage() -> impl IntoView {
    let user = use_current_user();
    let save = ServerAction::<SaveLimit>::new();
    let delete = ServerAction::<DeleteLimit>::new();
    let limits = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| list_limits(),
    );
    let (filter, set_filter) = signal(String::new());
    let (editing, set_editing) = signal(Editing::Closed);
    let confirm = RwSignal::new(None::<String>);

    // Set in the browser once the list is loaded and interactive (tests wait for it).
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| {
        if limits.get().is_some() {
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
        <Title text="Limits" />
        <div class="page-head">
            <h1>"Limits"</h1>
            <WithUser children=move |u| {
                u.role
                    .manages_credentials()
                    .then(|| {
                        view! {
                            <button
                                class="primary small-btn"
                                on:click=move |_| {
                                    save.value().set(None);
                                    set_editing.set(Editing::New)
                                }
                            >
                                "Add limit"
                            </button>
                        }
                    })
            } />
        </div>
        <p class="muted">
            "A limit caps accepted sends per key (an IP address, a phone number, a session…). Charge it with "
            <code>"\"limits\": {\"per_ip\": \"203.0.113.7\"}"</code>
            " in a send; when any bucket is full the OTP is blocked (429, error 7020)."
        </p>
        {move || match editing.get() {
            Editing::Closed => ().into_any(),
            Editing::New => {
                view! {
                    <LimitForm
                        save
                        initial=None
                        on_cancel=move || set_editing.set(Editing::Closed)
                    />
                }
                    .into_any()
            }
            Editing::Existing(l) => {
                view! {
                    <LimitForm
                        save
                        initial=Some(l)
                        on_cancel=move || set_editing.set(Editing::Closed)
                    />
                }
                    .into_any()
            }
        }}
        <Field id="limit-search" label="Search limits" class="search">
            <input
                id="limit-search"
                type="search"
                placeholder="Name or description"
                prop:value=filter
                on:input=move |ev| set_filter.set(event_target_value(&ev))
            />
        </Field>
        {move || delete.value().get().and_then(|r| r.err()).map(|e| alert(e.message))}
        <div class="limits-list" data-ready=move || ready.get().to_string()>
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading limits…"</p> }
            }>
                {move || Suspend::new(async move {
                    let may_edit = user.await.is_ok_and(|u| u.role.manages_credentials());
                    match limits.await {
                        Err(e) => alert(e.message),
                        Ok(all) if all.is_empty() => {
                            view! {
                                <EmptyCard>
                                    "No limits yet. Add one, then name it in the "
                                    <code>"limits"</code>" of a send."
                                </EmptyCard>
                            }
                                .into_any()
                        }
                        Ok(all) => {
                            (move || {
                                let q = filter.get().to_lowercase();
                                let shown: Vec<LimitView> = all
                                    .iter()
                                    .filter(|l| {
                                        q.is_empty() || l.name.to_lowercase().contains(&q)
                                            || l.description.to_lowercase().contains(&q)
                                    })
                                    .cloned()
                                    .collect();
                                view! {
                                    <DataTable
                                        label="Limits"
                                        headers=headers(
                                            &["Name", "Description", "Buckets", "Blocked (24 h)", ""],
                                        )
                                        rows=shown
                                        row=move |l: LimitView| {
                                            view! {
                                                <LimitRow
                                                    l
                                                    may_edit
                                                    save
                                                    delete
                                                    editing=set_editing
                                                    confirm
                                                />
                                            }
                                        }
                                        empty=|| {
                                            view! {
                                                <EmptyCard>"No limit matches this search."</EmptyCard>
                                            }
                                        }
                                    />
                                }
                            })
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
}

/// A limit in the list, with Edit and Delete for those who may change limits.
#[component]
fn LimitRow(
    l: LimitView,
    may_edit: bool,
    save: ServerAction<SaveLimit>,
    delete: ServerAction<DeleteLimit>,
    editing: WriteSignal<Editing>,
    confirm: RwSignal<Option<String>>,
) -> impl IntoView {
    let actions = may_edit.then(|| {
        let edit = l.clone();
        let sid = l.sid.clone();
        view! {
            <button on:click=move |_| {
                save.value().set(None);
                editing.set(Editing::Existing(edit.clone()))
            }>"Edit"</button>
            <ConfirmInline
                key=l.sid.clone()
                asking=confirm
                ask="Delete…"
                question=format!("Delete {}? Sends naming it will be refused.", l.name)
                act="Delete"
                on_confirm=Callback::new(move |()| {
                    delete.dispatch(DeleteLimit { sid: sid.clone() });
                })
            />
        }
    });
    view! {
        <tr data-limit=l.name.clone()>
            <td>
                <strong>{l.name.clone()}</strong>
            </td>
            <td>{l.description.clone()}</td>
            <td>{l.buckets.iter().map(describe).collect::<Vec<_>>().join(", ")}</td>
            <td data-testid="blocked-24h">{l.blocked_24h}</td>
            <td class="actions">{actions}</td>
        </tr>
    }
}

/// Add or edit form. Errors from the server appear next to the field they concern.
#[component]
fn LimitForm(
    save: ServerAction<SaveLimit>,
    initial: Option<LimitView>,
    on_cancel: impl Fn() + 'static + Clone + Send + Sync,
) -> impl IntoView {
    let title = if initial.is_some() {
        "Edit limit"
    } else {
        "Add limit"
    };
    let sid = initial.as_ref().map(|l| l.sid.clone()).unwrap_or_default();
    let name = initial.as_ref().map(|l| l.name.clone()).unwrap_or_default();
    let description = initial
        .as_ref()
        .map(|l| l.description.clone())
        .unwrap_or_default();
    let buckets = initial.map(|l| l.buckets).unwrap_or_default();
    let bucket = |i: usize| {
        buckets.get(i).map(|b| {
            let (n, unit) = human_interval(b.interval);
            (b.max_otp.to_string(), n.to_string(), unit)
        })
    };
    let (first, second) = (bucket(0), bucket(1));
    let error_for = move |field: &'static str| action_field_error(save, field);
    let general_error = action_other_error(save, &["name", "description", "bucket1", "bucket2"]);
    let bucket_row = move |i: usize, initial: Option<(String, String, &'static str)>| {
        let (max, every, unit) = initial.unwrap_or((
            String::new(),
            String::new(),
            if i == 0 { "minutes" } else { "days" },
        ));
        let n = i + 1;
        view! {
            <fieldset class="bucket">
                <legend>{format!("Bucket {n}{}", if i == 1 { " (optional)" } else { "" })}</legend>
                <label for=format!("max{n}")>"Max OTPs"</label>
                <input
                    id=format!("max{n}")
                    name=format!("max{n}")
                    type="number"
                    min="1"
                    value=max
                />
                <label for=format!("every{n}")>"per"</label>
                <input
                    id=format!("every{n}")
                    name=format!("every{n}")
                    type="number"
                    min="1"
                    value=every
                    aria-label=format!("Interval of bucket {n}")
                />
                <select name=format!("unit{n}") aria-label=format!("Unit of bucket {n}")>
                    {UNITS
                        .iter()
                        .map(|(u, _)| {
                            view! {
                                <option value=*u selected=*u == unit>
                                    {*u}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <FieldError error=error_for(if i == 0 { "bucket1" } else { "bucket2" }) />
            </fieldset>
        }
    };
    view! {
        <section class="card limit-form" aria-label=title>
            <h2>{title}</h2>
            <ActionForm action=save>
                <input type="hidden" name="sid" value=sid />
                <TextField
                    id="limit-name"
                    name="name"
                    label="Name"
                    value=name
                    placeholder="per_ip"
                    required=true
                    error=error_for("name")
                />
                <TextField
                    id="limit-description"
                    name="description"
                    label="Description"
                    value=description
                    placeholder="What this limit protects"
                    error=error_for("description")
                />
                {bucket_row(0, first)}
                {bucket_row(1, second)}
                {general_error}
                <div class="form-actions">
                    <button
                        type="submit"
                        class="primary small-btn"
                        disabled=move || save.pending().get()
                    >
                        "Save limit"
                    </button>
                    <button type="button" on:click=move |_| on_cancel()>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}
