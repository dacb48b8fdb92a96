//! OTPs: the session detail records, newest first, with filters kept in the URL (so reload and
//! shared links show the same list), paging by position (as fast on page 10 000 as on page 1),
//! and a CSV export of the filtered set. Renders on the server; works without JavaScript.
use crate::server_fns::otps::{search_otps, OtpQuery, COUNT_CAP, PAGE_SIZE};
use crate::ui::components::export::ExportCsv;
use crate::ui::components::form::{
    alert, channel_options, field_errors, status_options, FilterForm, SelectField, TextField,
};
use crate::ui::components::otp::{short_time, OtpLink, StatusBadge};
use crate::ui::components::pager::Pager;
use crate::ui::components::query::use_url_query;
use crate::ui::components::table::{headers, DataTable, EmptyCard};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn OtpsPage() -> impl IntoView {
    let query = use_url_query(&OtpQuery::PARAMS, |pairs| OtpQuery::from_pairs(pairs));
    let page = Resource::new(move || query.get(), search_otps);

    view! {
        <Title text="OTPs" />
        <div class="page-head">
            <h1>"OTPs"</h1>
        </div>
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                let result = page.await;
                let err = field_errors(&result);
                let fq = q.clone();
                let filters = view! {
                    <FilterForm action="/otps" label="Filters" submit="Search" reset="Clear">
                        <TextField
                            id="f-destination"
                            name="destination"
                            label="Destination"
                            value=fq.destination.clone()
                            placeholder="+14155550100 or name@example.com"
                            error=err("destination")
                        />
                        <TextField
                            id="f-request_id"
                            name="request_id"
                            label="Request ID"
                            value=fq.request_id.clone()
                            placeholder="OTP…"
                            error=err("request_id")
                        />
                        <TextField
                            id="f-reference"
                            name="reference"
                            label="Reference"
                            value=fq.reference.clone()
                            error=err("reference")
                        />
                        <TextField
                            id="f-service"
                            name="service"
                            label="Service"
                            value=fq.service.clone()
                            error=err("service")
                        />
                        <SelectField
                            id="f-status"
                            name="status"
                            label="Status"
                            options=status_options()
                            any=Some("Any")
                            selected=fq.status.clone()
                            error=err("status")
                        />
                        <SelectField
                            id="f-channel"
                            name="channel"
                            label="Channel"
                            options=channel_options()
                            any=Some("Any")
                            selected=fq.channel.clone()
                            error=err("channel")
                        />
                        <TextField
                            id="f-country"
                            name="country"
                            label="Country"
                            value=fq.country.clone()
                            placeholder="US"
                            error=err("country")
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
                        let total = if p.total >= COUNT_CAP {
                            format!("More than {COUNT_CAP} OTPs match")
                        } else if p.total == 1 {
                            "1 OTP matches".to_owned()
                        } else {
                            format!("{} OTPs match", p.total)
                        };
                        let csv = format!("/console/otps.csv?{}", q.to_query_string(&[]));
                        let list_head = (!p.rows.is_empty())
                            .then(|| {
                                view! {
                                    <div class="list-head">
                                        <p data-testid="otp-total">{total}</p>
                                        <ExportCsv
                                            href=csv
                                            total=(p.total < COUNT_CAP).then_some(p.total)
                                        />
                                    </div>
                                }
                            });
                        let pager = (!p.rows.is_empty())
                            .then(|| {
                                view! {
                                    <Pager
                                        path="/otps"
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
                                    label="OTPs"
                                    headers=headers(
                                        &[
                                            "Created",
                                            "Request ID",
                                            "Destination",
                                            "Country",
                                            "Channel",
                                            "Service",
                                            "Status",
                                            "Reference",
                                        ],
                                    )
                                    rows=p.rows
                                    row=|r: crate::server_fns::otps::SdrView| {
                                        view! {
                                            <tr data-request-id=r.request_id.clone()>
                                                <td class="nowrap">{short_time(&r.date_created)}</td>
                                                <td>
                                                    <OtpLink request_id=r.request_id.clone() />
                                                </td>
                                                <td>{r.destination()}</td>
                                                <td>{r.country_code.clone().unwrap_or_default()}</td>
                                                <td>{r.workflow.join(" → ")}</td>
                                                <td>{r.service.clone()}</td>
                                                <td>
                                                    <StatusBadge status=r.status.clone() />
                                                </td>
                                                <td>{r.reference.clone().unwrap_or_default()}</td>
                                            </tr>
                                        }
                                    }
                                    empty=|| {
                                        view! {
                                            <EmptyCard>"No OTPs match these filters."</EmptyCard>
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
