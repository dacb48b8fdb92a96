//! Usage: OTPs by day, month or year over a date range, filtered by country, channel, status
//! and service, as a chart (bars stacked by channel or status, conversion-rate line) and the same
//! numbers in a table with totals, with a CSV export of exactly that table. The whole state is
//! in the URL; the table renders on the server (works without JavaScript), the chart after
//! hydration.
use crate::server_fns::usage::{load_usage_report, UsageQuery};
use crate::ui::components::chart::StackedChart;
use crate::ui::components::otp::field_error;
use crate::ui::components::usage::{chart_data, count, percent, UsageTable};
use crate::ui::pages::otps::{CHANNELS, STATUSES};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn UsagePage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params.with(|p| {
            UsageQuery::from_pairs(
                UsageQuery::PARAMS
                    .into_iter()
                    .filter_map(|k| p.get_str(k).map(|v| (k, v))),
            )
        })
    });
    let report = Resource::new(move || query.get(), load_usage_report);

    view! {
        <Title text="Usage"/>
        <div class="page-head">
            <h1>"Usage"</h1>
        </div>
        <Suspense fallback=|| view! { <p class="loading">"Loading the report…"</p> }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                let result = report.await;
                let err = result.as_ref().err().cloned();
                let err_for = move |f: &str| field_error::<()>(err.clone().map(Err), f);
                let (countries, services) = result
                    .as_ref()
                    .map(|r| (r.countries.clone(), r.services.clone()))
                    .unwrap_or_default();
                let (e1, e2, e3) = (err_for.clone(), err_for.clone(), err_for);
                let select = move |name: &'static str, label: &'static str, value: &str, options: &[(&'static str, &'static str)], any: Option<&'static str>| {
                    let value = value.to_owned();
                    view! {
                        <div class="field">
                            <label for=format!("u-{name}")>{label}</label>
                            <select id=format!("u-{name}") name=name>
                                {any.map(|a| view! { <option value="" selected=value.is_empty()>{a}</option> })}
                                {options.iter().map(|(v, text)| view! { <option value=*v selected=value == *v>{*text}</option> }).collect_view()}
                            </select>
                            {e1(name)}
                        </div>
                    }
                };
                let listed = move |name: &'static str, label: &'static str, value: &str, list: Vec<String>, placeholder: &'static str| view! {
                    <div class="field">
                        <label for=format!("u-{name}")>{label}</label>
                        <input id=format!("u-{name}") name=name type="search" value=value.to_owned() list=format!("u-{name}-list") placeholder=placeholder autocomplete="off"/>
                        <datalist id=format!("u-{name}-list")>
                            {list.into_iter().map(|v| view! { <option value=v></option> }).collect_view()}
                        </datalist>
                        {e2(name)}
                    </div>
                };
                let date = move |name: &'static str, label: &'static str, value: &str| view! {
                    <div class="field">
                        <label for=format!("u-{name}")>{label}</label>
                        <input id=format!("u-{name}") name=name type="date" value=value.to_owned()/>
                        {e3(name)}
                    </div>
                };
                let period_value = q.period().to_owned();
                let by_value = q.by().to_owned();
                let channels: Vec<(&'static str, &'static str)> = CHANNELS.iter().map(|c| (*c, *c)).collect();
                let statuses: Vec<(&'static str, &'static str)> = STATUSES.iter().map(|s| (*s, *s)).collect();
                let fields = vec![
                    select("period", "Period", &period_value, &[("day", "Day"), ("month", "Month"), ("year", "Year")], None).into_any(),
                    date("from", "From", &q.from).into_any(),
                    date("until", "Until", &q.until).into_any(),
                    listed("country", "Country", &q.country, countries, "Any, e.g. US").into_any(),
                    select("channel", "Channel", &q.channel, &channels, Some("Any")).into_any(),
                    select("status", "Status", &q.status, &statuses, Some("Any")).into_any(),
                    listed("service", "Service", &q.service, services, "Any").into_any(),
                    select("by", "Bars by", &by_value, &[("channel", "Channel"), ("status", "Status")], None).into_any(),
                ];
                let filters = view! {
                    <Form method="GET" action="/usage" attr:class="card filters" attr:aria-label="Report">
                        {fields}
                        <div class="form-actions">
                            <button type="submit" class="primary small-btn">"Show"</button>
                            <a class="button" href="/usage">"Reset"</a>
                        </div>
                    </Form>
                };
                let body = match result {
                    Err(e) if e.field.is_some() => None,
                    Err(e) => Some(view! { <p class="error" role="alert">{e.message}</p> }.into_any()),
                    Ok(r) => {
                        let csv = format!("/console/usage.csv?{}", q.to_query_string(&[]));
                        let unit = match r.period.as_str() { "month" => "month", "year" => "year", _ => "day" };
                        let summary = format!(
                            "{} OTPs from {} to {}, {} verified ({}), by {unit}",
                            count(r.totals.count), r.start, r.end, count(r.totals.verified), percent(r.totals.conversion)
                        );
                        let chart = if r.totals.count == 0 {
                            view! {
                                <div class="card empty" data-testid="usage-empty">
                                    <p>"No OTPs match this report. Widen the dates or clear a filter; new OTPs appear here within seconds."</p>
                                </div>
                            }.into_any()
                        } else {
                            view! {
                                <div class="card">
                                    <StackedChart id="usage-chart" data=chart_data(&r, true) label=summary.clone()/>
                                </div>
                            }.into_any()
                        };
                        Some(view! {
                            <div class="list-head">
                                <p data-testid="usage-summary">{summary}</p>
                                <a class="button" href=csv download=r.file_name() rel="external" data-testid="usage-csv">"Export CSV"</a>
                            </div>
                            {chart}
                            <UsageTable report=r/>
                        }.into_any())
                    }
                };
                view! { {filters} {body} }
            })}
        </Suspense>
    }
}
