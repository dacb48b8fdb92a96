//! Usage: OTPs by day, month or year over a date range, filtered by country, channel, status
//! and service, as a chart (bars stacked by channel or status, conversion-rate line) and the same
//! numbers in a table with totals, with a CSV export of exactly that table. The whole state is
//! in the URL; the table renders on the server (works without JavaScript), the chart after
//! hydration.
use crate::server_fns::usage::{load_usage_report, UsageQuery};
use crate::ui::components::chart::StackedChart;
use crate::ui::components::form::{
    alert, channel_options, field_errors, options, status_options, FilterForm, SelectField,
    TextField,
};
use crate::ui::components::query::use_url_query;
use crate::ui::components::table::EmptyCard;
use crate::ui::components::usage::{chart_data, count, percent, UsageTable};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UsagePage() -> impl IntoView {
    let query = use_url_query(&UsageQuery::PARAMS, |pairs| UsageQuery::from_pairs(pairs));
    let report = Resource::new(move || query.get(), load_usage_report);

    view! {
        <Title text="Usage" />
        <div class="page-head">
            <h1>"Usage"</h1>
        </div>
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading the report…"</p> }
        }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                let result = report.await;
                let err = field_errors(&result);
                let fq = q.clone();
                let (countries, services) = result
                    .as_ref()
                    .map(|r| (r.countries.clone(), r.services.clone()))
                    .unwrap_or_default();
                let filters = view! {
                    <FilterForm action="/usage" label="Report" submit="Show" reset="Reset">
                        <SelectField
                            id="u-period"
                            name="period"
                            label="Period"
                            selected=fq.period()
                            options=options(&[("day", "Day"), ("month", "Month"), ("year", "Year")])
                            error=err("period")
                        />
                        <TextField
                            id="u-from"
                            name="from"
                            label="From"
                            kind="date"
                            value=fq.from.clone()
                            error=err("from")
                        />
                        <TextField
                            id="u-until"
                            name="until"
                            label="Until"
                            kind="date"
                            value=fq.until.clone()
                            error=err("until")
                        />
                        <TextField
                            id="u-country"
                            name="country"
                            label="Country"
                            kind="search"
                            value=fq.country.clone()
                            suggestions=countries
                            placeholder="Any, e.g. US"
                            autocomplete="off"
                            error=err("country")
                        />
                        <SelectField
                            id="u-channel"
                            name="channel"
                            label="Channel"
                            options=channel_options()
                            any=Some("Any")
                            selected=fq.channel.clone()
                            error=err("channel")
                        />
                        <SelectField
                            id="u-status"
                            name="status"
                            label="Status"
                            options=status_options()
                            any=Some("Any")
                            selected=fq.status.clone()
                            error=err("status")
                        />
                        <TextField
                            id="u-service"
                            name="service"
                            label="Service"
                            kind="search"
                            value=fq.service.clone()
                            suggestions=services
                            placeholder="Any"
                            autocomplete="off"
                            error=err("service")
                        />
                        <SelectField
                            id="u-by"
                            name="by"
                            label="Bars by"
                            selected=fq.by()
                            options=options(&[("channel", "Channel"), ("status", "Status")])
                            error=err("by")
                        />
                    </FilterForm>
                };
                let body = match result {
                    Err(e) if e.field.is_some() => None,
                    Err(e) => Some(alert(e.message)),
                    Ok(r) => {
                        let csv = format!("/console/usage.csv?{}", q.to_query_string(&[]));
                        let unit = match r.period.as_str() {
                            "month" => "month",
                            "year" => "year",
                            _ => "day",
                        };
                        let summary = format!(
                            "{} OTPs from {} to {}, {} verified ({}), by {unit}",
                            count(r.totals.count),
                            r.start,
                            r.end,
                            count(r.totals.verified),
                            percent(r.totals.conversion),
                        );
                        let chart = if r.totals.count == 0 {
                            view! {
                                <EmptyCard testid="usage-empty">
                                    "No OTPs match this report. Widen the dates or clear a filter; new OTPs appear here within seconds."
                                </EmptyCard>
                            }
                                .into_any()
                        } else {
                            view! {
                                <div class="card">
                                    <StackedChart
                                        id="usage-chart"
                                        data=chart_data(&r, true)
                                        label=summary.clone()
                                    />
                                </div>
                            }
                                .into_any()
                        };
                        Some(
                            view! {
                                <div class="list-head">
                                    <p data-testid="usage-summary">{summary}</p>
                                    <a
                                        class="button"
                                        href=csv
                                        download=r.file_name()
                                        rel="external"
                                        data-testid="usage-csv"
                                    >
                                        "Export CSV"
                                    </a>
                                </div>
                                {chart}
                                <UsageTable report=r />
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
