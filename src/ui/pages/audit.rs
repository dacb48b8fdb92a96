//! Audit log: every change made through the console or the API, newest first, with filters
//! kept in the URL (actor, action, target, date range), paging by position and a CSV export of
//! the filtered set. Renders on the server; works without JavaScript. Every role may read it.
use crate::domain::audit::AuditAction;
use crate::server_fns::audit::{search_audit, AuditQuery, AuditView, PAGE_SIZE};
use crate::ui::components::form::{alert, field_errors, FilterForm, SelectField, TextField};
use crate::ui::components::otp::short_time;
use crate::ui::components::pager::Pager;
use crate::ui::components::query::use_url_query;
use crate::ui::components::table::{headers, DataTable, EmptyCard};
use leptos::prelude::*;
use leptos_meta::Title;

/// Every action: its dotted name and what people read.
fn action_options() -> Vec<(&'static str, String)> {
    AuditAction::ALL
        .iter()
        .map(|a| (a.as_str(), format!("{} ({})", a.label(), a.as_str())))
        .collect()
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_url_query(&AuditQuery::PARAMS, |pairs| AuditQuery::from_pairs(pairs));
    let page = Resource::new(move || query.get(), search_audit);

    view! {
        <Title text="Audit log" />
        <div class="page-head">
            <h1>"Audit log"</h1>
        </div>
        <p class="muted">
            "Who changed what, when and from where: sign-ins, users, API keys, sub-accounts, limits, providers, settings and canceled OTPs. Secrets and codes are never recorded."
        </p>
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                let result = page.await;
                let err = field_errors(&result);
                let fq = q.clone();
                let filters = view! {
                    <FilterForm
                        action="/audit"
                        label="Audit log filters"
                        submit="Search"
                        reset="Clear"
                    >
                        <TextField
                            id="f-actor"
                            name="actor"
                            label="Actor"
                            value=fq.actor.clone()
                            placeholder="ana@example.com, US…, AC… or SK…"
                            error=err("actor")
                        />
                        <SelectField
                            id="f-action"
                            name="action"
                            label="Action"
                            options=action_options()
                            any=Some("Any")
                            selected=fq.action.clone()
                            error=err("action")
                        />
                        <TextField
                            id="f-target"
                            name="target"
                            label="Target"
                            value=fq.target.clone()
                            placeholder="LM…, US…, OTP…"
                            error=err("target")
                        />
                        <TextField
                            id="f-from"
                            name="from"
                            label="From"
                            kind="date"
                            value=fq.from.clone()
                            error=err("from")
                        />
                        <TextField
                            id="f-until"
                            name="until"
                            label="Until"
                            kind="date"
                            value=fq.until.clone()
                            error=err("until")
                        />
                    </FilterForm>
                };
                let body = match result {
                    Err(e) if e.field.is_some() => None,
                    Err(e) => Some(alert(e.message)),
                    Ok(p) => {
                        let total = if p.total == 1 {
                            "1 entry matches".to_owned()
                        } else {
                            format!("{} entries match", p.total)
                        };
                        let csv = format!("/console/audit.csv?{}", q.to_query_string());
                        let list_head = (!p.rows.is_empty())
                            .then(|| {
                                view! {
                                    <div class="list-head">
                                        <p data-testid="audit-total">{total}</p>
                                        <a
                                            class="button"
                                            href=csv
                                            download="audit.csv"
                                            rel="external"
                                            data-testid="audit-csv"
                                        >
                                            "Export CSV"
                                        </a>
                                    </div>
                                }
                            });
                        let pager = (!p.rows.is_empty())
                            .then(|| {
                                view! {
                                    <Pager
                                        path="/audit"
                                        query=q.filter_pairs()
                                        newer=p.newer.map(|c| ("after", c))
                                        older=p.older.map(|c| ("before", c))
                                        note=format!("{PAGE_SIZE} per page, newest first")
                                    />
                                }
                            });
                        Some(
                            view! {
                                {list_head}
                                <DataTable
                                    label="Audit log"
                                    testid="audit-table"
                                    headers=headers(
                                        &["When", "Actor", "Address", "Action", "Target", "Change"],
                                    )
                                    rows=p.rows
                                    row=|r: AuditView| {
                                        let actor_title = r.actor_sid.clone().unwrap_or_default();
                                        view! {
                                            <tr
                                                data-audit-sid=r.sid.clone()
                                                data-action=r.action.clone()
                                            >
                                                <td class="nowrap">{short_time(&r.at)}</td>
                                                <td title=actor_title data-testid="audit-actor">
                                                    {r.actor.clone()}
                                                    <span class="muted small">
                                                        {format!(" ({})", r.actor_kind)}
                                                    </span>
                                                </td>
                                                <td>{r.address.clone()}</td>
                                                <td title=r.action.clone()>{r.action_label.clone()}</td>
                                                <td class="mono">{r.target.clone()}</td>
                                                <td data-testid="audit-change">
                                                    <span class="muted">{r.before.clone()}</span>
                                                    " → "
                                                    <span>{r.after.clone()}</span>
                                                </td>
                                            </tr>
                                        }
                                    }
                                    empty=|| {
                                        view! {
                                            <EmptyCard testid="audit-empty">
                                                "No audit entries match these filters."
                                            </EmptyCard>
                                        }
                                    }
                                />
                                {pager}
                            }
                                .into_any(),
                        )
                    }
                };
                view! {
                    {filters}
                    {body}
                }
            })}
        </Suspense>
    }
}
