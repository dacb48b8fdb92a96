//! Limits: search and list named limits (buckets, sends blocked in the last 24 h), add and edit
//! them with up to two buckets in human units, delete with a confirmation. Support: read-only.
use crate::server_fns::limits::{
    describe, human_interval, list_limits, DeleteLimit, LimitView, SaveLimit, UNITS,
};
use crate::ui::components::layout::{use_current_user, WithUser};
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
    let (confirm, set_confirm) = signal(None::<String>);

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
        <Title text="Limits"/>
        <div class="page-head">
            <h1>"Limits"</h1>
            <WithUser children=move |u| u.role.manages_credentials().then(|| view! {
                <button class="primary small-btn" on:click=move |_| { save.value().set(None); set_editing.set(Editing::New) }>
                    "Add limit"
                </button>
            })/>
        </div>
        <p class="muted">
            "A limit caps accepted sends per key (an IP address, a phone number, a session…). Charge it with "
            <code>"\"limits\": {\"per_ip\": \"203.0.113.7\"}"</code> " in a send; when any bucket is full the OTP is blocked (429, error 7020)."
        </p>
        {move || match editing.get() {
            Editing::Closed => ().into_any(),
            Editing::New => view! { <LimitForm save initial=None on_cancel=move || set_editing.set(Editing::Closed)/> }.into_any(),
            Editing::Existing(l) => view! { <LimitForm save initial=Some(l) on_cancel=move || set_editing.set(Editing::Closed)/> }.into_any(),
        }}
        <div class="field search">
            <label for="limit-search">"Search limits"</label>
            <input id="limit-search" type="search" placeholder="Name or description"
                prop:value=filter on:input=move |ev| set_filter.set(event_target_value(&ev))/>
        </div>
        {move || delete.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
        <div class="limits-list" data-ready=move || ready.get().to_string()>
        <Suspense fallback=|| view! { <p class="loading">"Loading limits…"</p> }>
            {move || Suspend::new(async move {
                let may_edit = user.await.is_ok_and(|u| u.role.manages_credentials());
                match limits.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(all) if all.is_empty() => view! {
                        <div class="card empty"><p>"No limits yet. Add one, then name it in the "<code>"limits"</code>" of a send."</p></div>
                    }.into_any(),
                    Ok(all) => view! {
                        <table class="data" aria-label="Limits">
                            <thead><tr><th>"Name"</th><th>"Description"</th><th>"Buckets"</th><th>"Blocked (24 h)"</th><th></th></tr></thead>
                            <tbody>
                                {move || {
                                    let q = filter.get().to_lowercase();
                                    all.iter()
                                        .filter(|l| q.is_empty() || l.name.to_lowercase().contains(&q) || l.description.to_lowercase().contains(&q))
                                        .map(|l| {
                                            let (edit_l, sid_del, sid_confirm, sid_show) = (l.clone(), l.sid.clone(), l.sid.clone(), l.sid.clone());
                                            let name = l.name.clone();
                                            view! {
                                                <tr data-limit=l.name.clone()>
                                                    <td><strong>{l.name.clone()}</strong></td>
                                                    <td>{l.description.clone()}</td>
                                                    <td>{l.buckets.iter().map(describe).collect::<Vec<_>>().join(", ")}</td>
                                                    <td data-testid="blocked-24h">{l.blocked_24h}</td>
                                                    <td class="actions">
                                                        {may_edit.then(|| view! {
                                                            <button on:click=move |_| { save.value().set(None); set_editing.set(Editing::Existing(edit_l.clone())) }>"Edit"</button>
                                                            <Show when=move || confirm.get().as_deref() == Some(sid_show.as_str())
                                                                fallback=move || { let sid = sid_confirm.clone(); view! {
                                                                    <button class="danger" on:click=move |_| set_confirm.set(Some(sid.clone()))>"Delete…"</button>
                                                                } }>
                                                                <span class="confirm-inline">
                                                                    {format!("Delete {name}? Sends naming it will be refused.")}
                                                                    <button class="danger" on:click={let sid = sid_del.clone(); move |_| { delete.dispatch(DeleteLimit { sid: sid.clone() }); set_confirm.set(None); }}>"Delete"</button>
                                                                    <button on:click=move |_| set_confirm.set(None)>"Keep"</button>
                                                                </span>
                                                            </Show>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()
                                }}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
        </div>
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
    let error_for = move |field: &'static str| {
        move || match save.value().get() {
            Some(Err(e)) if e.field.as_deref() == Some(field) => {
                Some(view! { <p class="error field-error" role="alert">{e.message}</p> })
            }
            _ => None,
        }
    };
    let general_error = move || match save.value().get() {
        Some(Err(e))
            if !matches!(
                e.field.as_deref(),
                Some("name" | "description" | "bucket1" | "bucket2")
            ) =>
        {
            Some(view! { <p class="error" role="alert">{e.message}</p> })
        }
        _ => None,
    };
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
                <input id=format!("max{n}") name=format!("max{n}") type="number" min="1" value=max/>
                <label for=format!("every{n}")>"per"</label>
                <input id=format!("every{n}") name=format!("every{n}") type="number" min="1" value=every aria-label=format!("Interval of bucket {n}")/>
                <select name=format!("unit{n}") aria-label=format!("Unit of bucket {n}")>
                    {UNITS.iter().map(|(u, _)| view! { <option value=*u selected=*u == unit>{*u}</option> }).collect_view()}
                </select>
                {error_for(if i == 0 { "bucket1" } else { "bucket2" })}
            </fieldset>
        }
    };
    view! {
        <section class="card limit-form" aria-label=title>
            <h2>{title}</h2>
            <ActionForm action=save>
                <input type="hidden" name="sid" value=sid/>
                <div class="field">
                    <label for="limit-name">"Name"</label>
                    <input id="limit-name" name="name" type="text" value=name placeholder="per_ip" required/>
                    {error_for("name")}
                </div>
                <div class="field">
                    <label for="limit-description">"Description"</label>
                    <input id="limit-description" name="description" type="text" value=description placeholder="What this limit protects"/>
                    {error_for("description")}
                </div>
                {bucket_row(0, first)}
                {bucket_row(1, second)}
                {general_error}
                <div class="form-actions">
                    <button type="submit" class="primary small-btn" disabled=move || save.pending().get()>"Save limit"</button>
                    <button type="button" on:click=move |_| on_cancel()>"Cancel"</button>
                </div>
            </ActionForm>
        </section>
    }
}
