//! Home: the last 24 hours per channel, 30 days of OTPs stacked by channel, the latest
//! failures, and the account at a glance.
use crate::domain::Channel;
use crate::server_fns::usage::{load_home_summary, FailedOtp, HomeSummary};
use crate::ui::components::chart::{color_of, StackedChart};
use crate::ui::components::form::alert;
use crate::ui::components::layout::WithUser;
use crate::ui::components::otp::{short_time, OtpLink};
use crate::ui::components::table::{headers, DataTable, EmptyCard};
use crate::ui::components::usage::{chart_data, count, percent};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn HomePage() -> impl IntoView {
    let summary = Resource::new(|| (), |_| load_home_summary());
    view! {
        <Title text="Home" />
        <WithUser children=|user| view! { <h1>{user.account_name.clone()}</h1> } />
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match summary.await {
                    Ok(s) => dashboard(s).into_any(),
                    Err(e) => alert(e.message),
                }
            })}
        </Suspense>
        <WithUser children=|user| {
            view! {
                <section class="grid two">
                    <div class="card">
                        <h2>"Your account"</h2>
                        <dl class="facts">
                            <dt>"Account SID"</dt>
                            <dd>
                                <code data-testid="account-sid">
                                    {user.account_sid.to_string()}
                                </code>
                            </dd>
                            <dt>"Signed in as"</dt>
                            <dd>{user.email.clone()}</dd>
                            <dt>"Role"</dt>
                            <dd>{user.role.label()}</dd>
                        </dl>
                    </div>
                    <div class="card">
                        <h2>"Getting started"</h2>
                        <ol class="steps">
                            <li>
                                "Open " <a href="/developers">"Developers"</a>
                                " for your API credentials and a curl example."
                            </li>
                            <li>
                                "Every API call uses HTTP Basic authentication: your Account SID and auth token."
                            </li>
                            <li>
                                "The list of API error codes is at "
                                <a href="/2fa/errors">"/2fa/errors"</a> "."
                            </li>
                        </ol>
                    </div>
                </section>
            }
        } />
    }
}

fn dashboard(s: HomeSummary) -> impl IntoView {
    let cards = s
        .cards
        .iter()
        .map(|c| {
            let ch = c.channel.clone();
            let name = Channel::parse(&ch).map_or("Other", Channel::label);
            view! {
                <div class="card stat" data-channel=ch.clone()>
                    <h2>
                        <span class="dot" style=format!("background:{}", color_of(&ch))></span>
                        {name}
                    </h2>
                    <dl class="figures">
                        <div>
                            <dt>"Sent"</dt>
                            <dd data-testid=format!("{ch}-sent")>{count(c.sent)}</dd>
                        </div>
                        <div>
                            <dt>"Verified"</dt>
                            <dd data-testid=format!("{ch}-verified")>{count(c.verified)}</dd>
                        </div>
                        <div>
                            <dt>"Conversion"</dt>
                            <dd data-testid=format!("{ch}-conversion")>{percent(c.conversion)}</dd>
                        </div>
                        <div>
                            <dt>"Failed"</dt>
                            <dd data-testid=format!("{ch}-failed") class:bad=c.failed != 0>
                                {count(c.failed)}
                            </dd>
                        </div>
                    </dl>
                </div>
            }
        })
        .collect_view();
    let total = s.chart.totals.count;
    let chart = if total == 0 {
        view! {
            <EmptyCard testid="home-chart-empty">
                "No OTPs in the last 30 days. Send one from " <A href="/send">"Send test OTP"</A>
                " or the API, and it shows here."
            </EmptyCard>
        }
        .into_any()
    } else {
        view! {
            <div class="card">
                <div class="list-head">
                    <h2>"Last 30 days"</h2>
                    <A href="/usage">"Open usage reports →"</A>
                </div>
                <StackedChart
                    id="home-chart"
                    data=chart_data(&s.chart, false)
                    label=format!("{} OTPs in the last 30 days, per day and channel", count(total))
                />
            </div>
        }
        .into_any()
    };
    let any_failure = !s.failures.is_empty();
    let failures = view! {
        <DataTable
            label="Latest failed OTPs"
            headers=headers(&["Created", "Request ID", "Destination", "Channel", "Service"])
            rows=s.failures
            row=|f: FailedOtp| {
                view! {
                    <tr data-request-id=f.request_id.clone()>
                        <td class="nowrap">{short_time(&f.date_created)}</td>
                        <td>
                            <OtpLink request_id=f.request_id.clone() />
                        </td>
                        <td>{f.destination}</td>
                        <td>{f.channel}</td>
                        <td>{f.service}</td>
                    </tr>
                }
            }
            empty=|| {
                view! {
                    <p class="muted" data-testid="no-failures">
                        "No failed OTPs. Deliveries that fail on every channel show here."
                    </p>
                }
            }
        />
        {any_failure
            .then(|| {
                view! {
                    <p>
                        <A href="/otps?status=failed">"All failed OTPs →"</A>
                    </p>
                }
            })}
    };
    view! {
        <h2 class="section">"Last 24 hours"</h2>
        <section class="grid three" aria-label="Last 24 hours per channel">
            {cards}
        </section>
        {chart}
        <div class="card">
            <h2>"Latest failures"</h2>
            {failures}
        </div>
    }
}
