//! OTPs: the session detail records, newest first, with filters kept in the URL (so reload and
//! shared links show the same list), paging by position (as fast on page 10 000 as on page 1),
//! and a CSV export of the filtered set. Renders on the server; works without JavaScript.
use crate::server_fns::otps::{search_otps, OtpQuery, COUNT_CAP, PAGE_SIZE};
use crate::ui::components::export::ExportCsv;
use crate::ui::components::otp::{field_error, short_time, StatusBadge};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

pub const STATUSES: [&str; 9] = [
    "pending",
    "sent",
    "delivered",
    "verified",
    "expired",
    "canceled",
    "max_attempts",
    "failed",
    "blocked",
];
pub const CHANNELS: [&str; 3] = ["sms", "call", "email"];

#[component]
pub fn OtpsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params.with(|p| {
            OtpQuery::from_pairs(
                OtpQuery::PARAMS
                    .into_iter()
                    .filter_map(|k| p.get_str(k).map(|v| (k, v))),
            )
        })
    });
    let page = Resource::new(move || query.get(), search_otps);

    view! {
        <Title text="OTPs"/>
        <div class="page-head">
            <h1>"OTPs"</h1>
        </div>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                let result = page.await;
                let err = result.as_ref().err().cloned();
                let err_for = move |f: &str| field_error::<()>(err.clone().map(Err), f);
                let (e1, e2, e3) = (err_for.clone(), err_for.clone(), err_for);
                let text = move |name: &'static str, label: &'static str, value: String, placeholder: &'static str| view! {
                    <div class="field">
                        <label for=format!("f-{name}")>{label}</label>
                        <input id=format!("f-{name}") name=name type="text" value=value placeholder=placeholder/>
                        {e1(name)}
                    </div>
                };
                let select = move |name: &'static str, label: &'static str, value: String, options: &'static [&'static str]| view! {
                    <div class="field">
                        <label for=format!("f-{name}")>{label}</label>
                        <select id=format!("f-{name}") name=name>
                            <option value="" selected=value.is_empty()>"Any"</option>
                            {options.iter().map(|o| view! { <option value=*o selected=value == *o>{o.replace('_', " ")}</option> }).collect_view()}
                        </select>
                        {e2(name)}
                    </div>
                };
                let date = move |name: &'static str, label: &'static str, value: String| view! {
                    <div class="field">
                        <label for=format!("f-{name}")>{label}</label>
                        <input id=format!("f-{name}") name=name type="date" value=value/>
                        {e3(name)}
                    </div>
                };
                let fields = vec![
                    text("destination", "Destination", q.destination.clone(), "+14155550100 or name@example.com").into_any(),
                    text("request_id", "Request ID", q.request_id.clone(), "OTP…").into_any(),
                    text("reference", "Reference", q.reference.clone(), "").into_any(),
                    text("service", "Service", q.service.clone(), "").into_any(),
                    select("status", "Status", q.status.clone(), &STATUSES).into_any(),
                    select("channel", "Channel", q.channel.clone(), &CHANNELS).into_any(),
                    text("country", "Country", q.country.clone(), "US").into_any(),
                    date("from", "From", q.from.clone()).into_any(),
                    date("until", "Until", q.until.clone()).into_any(),
                ];
                let filters = view! {
                    <Form method="GET" action="/otps" attr:class="card filters" attr:aria-label="Filters">
                        {fields}
                        <div class="form-actions">
                            <button type="submit" class="primary small-btn">"Search"</button>
                            <a class="button" href="/otps">"Clear"</a>
                        </div>
                    </Form>
                };
                let body = match result {
                    Err(e) if e.field.is_some() => None,
                    Err(e) => Some(view! { <p class="error" role="alert">{e.message}</p> }.into_any()),
                    Ok(p) if p.rows.is_empty() => Some(view! {
                        <div class="card empty"><p>"No OTPs match these filters."</p></div>
                    }.into_any()),
                    Ok(p) => {
                        let total = if p.total >= COUNT_CAP {
                            format!("More than {COUNT_CAP} OTPs match")
                        } else if p.total == 1 {
                            "1 OTP matches".to_owned()
                        } else {
                            format!("{} OTPs match", p.total)
                        };
                        let csv = format!("/console/otps.csv?{}", q.to_query_string(&[]));
                        let newer = p.newer.map(|c| format!("/otps?{}", q.to_query_string(&[("after", c)])));
                        let older = p.older.map(|c| format!("/otps?{}", q.to_query_string(&[("before", c)])));
                        Some(view! {
                            <div class="list-head">
                                <p data-testid="otp-total">{total}</p>
                                <ExportCsv href=csv total=(p.total < COUNT_CAP).then_some(p.total)/>
                            </div>
                            <table class="data" aria-label="OTPs">
                                <thead><tr>
                                    <th>"Created"</th><th>"Request ID"</th><th>"Destination"</th><th>"Country"</th>
                                    <th>"Channel"</th><th>"Service"</th><th>"Status"</th><th>"Reference"</th>
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|r| { let href = format!("/otps/{}", r.request_id); let id = r.request_id.clone(); view! {
                                        <tr data-request-id=r.request_id.clone()>
                                            <td class="nowrap">{short_time(&r.date_created)}</td>
                                            <td><A href=href><code>{id}</code></A></td>
                                            <td>{r.destination()}</td>
                                            <td>{r.country_code.clone().unwrap_or_default()}</td>
                                            <td>{r.workflow.join(" → ")}</td>
                                            <td>{r.service.clone()}</td>
                                            <td><StatusBadge status=r.status.clone()/></td>
                                            <td>{r.reference.clone().unwrap_or_default()}</td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                {newer.map(|h| view! { <A href=h>"← Newer"</A> })}
                                {older.map(|h| view! { <A href=h>"Older →"</A> })}
                                <span class="muted small">{format!("{PAGE_SIZE} per page, newest first")}</span>
                            </nav>
                        }.into_any())
                    }
                };
                view! { {filters} {body} }
            })}
        </Suspense>
    }
}
