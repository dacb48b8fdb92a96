//! One OTP's session detail record: every field, the delivery attempts per channel, the whole
//! timeline (never the code), and Cancel while it is active (admins, developers, support).
use crate::server_fns::otps::AttemptView;
use crate::server_fns::otps::{otp_detail, CancelOtp, SdrDetail};
use crate::ui::components::form::alert;
use crate::ui::components::otp::{short_time, StatusBadge};
use crate::ui::components::table::{headers, DataTable};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn SdrPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let cancel = ServerAction::<CancelOtp>::new();
    let detail = Resource::new(
        move || (id.get(), cancel.version().get()),
        |(id, _)| otp_detail(id),
    );
    let (confirming, set_confirming) = signal(false);

    view! {
        <Title text="OTP" />
        <p class="crumbs">
            <A href="/otps">"← OTPs"</A>
        </p>
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => {
                        view! {
                            <h1>"OTP"</h1>
                            {alert(e.message)}
                        }
                            .into_any()
                    }
                    Ok(d) => view! { <Detail d cancel confirming set_confirming /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(
    d: SdrDetail,
    cancel: ServerAction<CancelOtp>,
    confirming: ReadSignal<bool>,
    set_confirming: WriteSignal<bool>,
) -> impl IntoView {
    let s = d.sdr;
    let active = s.is_active();
    let request_id = s.request_id.clone();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let time = |v: &Option<String>| v.as_deref().map(short_time).unwrap_or_else(|| "—".into());
    let limits = match &s.limits {
        serde_json::Value::Object(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| format!("{k} = {}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "—".into(),
    };
    let facts: Vec<(&str, String)> = vec![
        ("Service", s.service.clone()),
        ("Destination", s.destination()),
        ("Country", opt(&s.country_code)),
        ("Channel", s.channel.clone()),
        ("Workflow", s.workflow.join(" → ")),
        ("From", opt(&s.from)),
        ("Language", s.language.clone()),
        (
            "Code",
            format!("{} {} characters (never shown)", s.code_length, s.code_type),
        ),
        ("Reference", opt(&s.reference)),
        (
            "Attempts",
            format!(
                "{} of {} used, {} left",
                s.verify_attempts, s.max_attempts, s.attempts_left
            ),
        ),
        ("Limits charged", limits),
        ("Price", format!("{} {}", s.price, s.price_unit)),
        ("Created", short_time(&s.date_created)),
        ("Expires", short_time(&s.expires_at)),
        ("Sent", time(&s.sent_at)),
        ("Delivered", time(&s.delivered_at)),
        ("Verified", time(&s.verified_at)),
        ("Canceled", time(&s.canceled_at)),
        ("Cancel reason", opt(&s.cancel_reason)),
        ("Updated", short_time(&s.date_updated)),
    ];
    view! {
        <Title text=format!("OTP {}", s.request_id) />
        <div class="page-head">
            <h1>
                <code data-testid="request-id">{s.request_id.clone()}</code>
            </h1>
            <StatusBadge status=s.status.clone() />
        </div>
        {move || cancel.value().get().and_then(|r| r.err()).map(|e| alert(e.message))}
        {active
            .then(|| {
                view! {
                    <Show
                        when=move || confirming.get()
                        fallback=move || {
                            view! {
                                <button class="danger" on:click=move |_| set_confirming.set(true)>
                                    "Cancel OTP…"
                                </button>
                            }
                        }
                    >
                        <div class="confirm" role="group" aria-label="Confirm cancel">
                            <p>"Cancel this OTP? Its code stops working immediately."</p>
                            <button
                                class="danger"
                                on:click={
                                    let id = request_id.clone();
                                    move |_| {
                                        cancel
                                            .dispatch(CancelOtp {
                                                request_id: id.clone(),
                                            });
                                        set_confirming.set(false);
                                    }
                                }
                            >
                                "Cancel OTP"
                            </button>
                            <button on:click=move |_| set_confirming.set(false)>"Keep it"</button>
                        </div>
                    </Show>
                }
            })}
        <section class="grid two">
            <div class="card">
                <h2>"Details"</h2>
                <dl class="facts">
                    {facts
                        .into_iter()
                        .map(|(k, v)| {
                            view! {
                                <dt>{k}</dt>
                                <dd>{v}</dd>
                            }
                        })
                        .collect_view()}
                </dl>
            </div>
            <div class="card">
                <h2>"Timeline"</h2>
                <ol class="timeline" aria-label="Timeline">
                    {d
                        .events
                        .into_iter()
                        .map(|e| {
                            view! {
                                <li data-event=e.kind.clone()>
                                    <span class="when">{short_time(&e.at)}</span>
                                    <strong>{e.kind.replace('_', " ")}</strong>
                                    {(!e.details.is_empty())
                                        .then(|| {
                                            view! {
                                                <span class="details">
                                                    {e
                                                        .details
                                                        .into_iter()
                                                        .map(|(k, v)| format!("{k}: {v}"))
                                                        .collect::<Vec<_>>()
                                                        .join(" · ")}
                                                </span>
                                            }
                                        })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            </div>
        </section>
        <section class="card">
            <h2>"Delivery attempts"</h2>
            <DataTable
                label="Delivery attempts"
                headers=headers(&["When", "Channel", "Provider", "Provider id", "Status", "Error"])
                rows=d.attempts
                row=|a: AttemptView| {
                    view! {
                        <tr>
                            <td class="nowrap">{short_time(&a.date_created)}</td>
                            <td>{a.channel}</td>
                            <td>{a.provider}</td>
                            <td>
                                <code>{a.provider_sid.unwrap_or_default()}</code>
                            </td>
                            <td>{a.status}</td>
                            <td>{a.error.unwrap_or_default()}</td>
                        </tr>
                    }
                }
                empty=|| view! { <p class="muted">"No delivery attempt (yet)."</p> }
            />
        </section>
    }
}
