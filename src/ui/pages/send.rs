//! Send test OTP: every option of `/2fa/send`, then the OTP's status live until it is final,
//! the sandbox message as the user receives it, and a verify box answering like `/2fa/verify`.
//! Admins and developers only (support staff see why not).
use crate::domain::Channel;
use crate::server_fns::otps::{
    check_destination, test_otp_state, AttemptView, SandboxView, SendTestOtp, VerifyTestOtp,
};
use crate::ui::components::form::{
    action_field_error, alert, channel_options, options, Field, FieldError, SelectField, TextField,
};
use crate::ui::components::layout::WithUser;
use crate::ui::components::otp::{short_time, OtpLink, StatusBadge};
use leptos::prelude::*;
use leptos_meta::Title;

/// How often the status is refreshed while the OTP is still active.
const POLL_MS: u64 = 700;

#[component]
pub fn SendPage() -> impl IntoView {
    let send = ServerAction::<SendTestOtp>::new();
    let verify = ServerAction::<VerifyTestOtp>::new();
    // The OTP being followed: set by a successful send.
    let request_id = Memo::new(move |_| {
        send.value()
            .get()
            .and_then(|r| r.ok())
            .and_then(|a| a.request_id)
    });
    let (tick, set_tick) = signal(0u32);
    let progress = Resource::new(
        move || (request_id.get(), tick.get(), verify.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => Some(test_otp_state(id).await),
                None => None,
            }
        },
    );
    // Refresh while the OTP is active (in the browser only).
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let active = progress
                    .get_untracked()
                    .flatten()
                    .and_then(|r| r.ok())
                    .is_some_and(|p| p.sdr.is_active());
                if active {
                    set_tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_millis(POLL_MS),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    // A new send clears the previous verify answer.
    Effect::new(move |_| {
        if request_id.get().is_some() {
            verify.value().set(None);
        }
    });

    view! {
        <Title text="Send test OTP" />
        <h1>"Send test OTP"</h1>
        <WithUser children=move |u| {
            if u.role.manages_credentials() {
                view! { <SendForm send /> }.into_any()
            } else {
                view! {
                    <p class="card empty">
                        "Only admins and developers can send test OTPs (your role: "
                        {u.role.label()} "). You can still search OTPs and cancel them."
                    </p>
                }
                    .into_any()
            }
        } />
        {move || {
            send.value()
                .get()
                .map(|r| match r {
                    Err(e) if e.field.is_some() => ().into_any(),
                    Err(e) => alert(format!("{} — {}", e.code.code(), e.message)),
                    Ok(a) => {
                        view! {
                            <section class="card" aria-label="Sent">
                                <p data-testid="send-answer">
                                    {format!("{} — {}", a.code, a.message)}
                                </p>
                                {a
                                    .request_id
                                    .map(|id| {
                                        view! {
                                            <p>
                                                "Request ID: "
                                                <OtpLink request_id=id testid="sent-request-id" />
                                            </p>
                                        }
                                    })}
                            </section>
                        }
                            .into_any()
                    }
                })
        }}
        {move || {
            progress
                .get()
                .flatten()
                .map(|r| match r {
                    Err(e) => alert(e.message),
                    Ok(p) => {
                        let id = p.sdr.request_id.clone();
                        view! {
                            <div class="grid two">
                                <section class="card" aria-label="Status">
                                    <h2>"Status"</h2>
                                    <p>
                                        <StatusBadge status=p.sdr.status.clone() />
                                        " "
                                        <span class="muted small">
                                            {format!(
                                                "{} attempt(s) left · expires {}",
                                                p.sdr.attempts_left,
                                                short_time(&p.sdr.expires_at),
                                            )}
                                        </span>
                                    </p>
                                    <h2>"Delivery"</h2>
                                    {if !p.messages.is_empty() || p.attempts.is_empty() {
                                        view! { <SandboxMessages messages=p.messages /> }.into_any()
                                    } else {
                                        view! { <Deliveries attempts=p.attempts /> }.into_any()
                                    }}
                                </section>
                                <section class="card" aria-label="Verify">
                                    <h2>"Verify a code"</h2>
                                    <ActionForm action=verify>
                                        <input type="hidden" name="request_id" value=id />
                                        <TextField
                                            id="verify-code"
                                            name="code"
                                            label="Code"
                                            autocomplete="off"
                                            required=true
                                        />
                                        <button type="submit" class="primary small-btn">
                                            "Verify"
                                        </button>
                                    </ActionForm>
                                    {move || {
                                        verify
                                            .value()
                                            .get()
                                            .map(|r| match r {
                                                Ok(status) => {
                                                    view! {
                                                        <p
                                                            class="notice success"
                                                            data-testid="verify-answer"
                                                            role="status"
                                                        >
                                                            {format!("200 — OK: {status}")}
                                                        </p>
                                                    }
                                                        .into_any()
                                                }
                                                Err(e) => {
                                                    view! {
                                                        <p class="error" data-testid="verify-answer" role="alert">
                                                            {format!("{} — {}", e.code.code(), e.message)}
                                                        </p>
                                                    }
                                                        .into_any()
                                                }
                                            })
                                    }}
                                </section>
                            </div>
                        }
                            .into_any()
                    }
                })
        }}
    }
}

#[component]
fn SendForm(send: ServerAction<SendTestOtp>) -> impl IntoView {
    let err = move |field: &'static str| action_field_error(send, field);
    let (typed, set_typed) = signal(String::new());
    let check = Resource::new(
        move || typed.get(),
        |to| async move {
            if to.trim().len() < 4 {
                None
            } else {
                Some(check_destination(to).await)
            }
        },
    );
    let channel_select = |i: usize, label: &'static str| {
        view! {
            <SelectField
                id=format!("channel{i}")
                name=format!("form[channels][{i}]")
                label
                options=channel_options()
                any=(i > 0).then_some("(none)")
            />
        }
    };
    let input = move |name: &'static str, label: &'static str, placeholder: &'static str| {
        view! {
            <TextField
                id=format!("send-{name}")
                name=format!("form[{name}]")
                label
                placeholder
                error=err(name)
            />
        }
    };
    view! {
        <section class="card send-form" aria-label="Send">
            <ActionForm action=send>
                <fieldset class="row">
                    <legend>"Channels, in order (a second or third one is the fallback)"</legend>
                    {channel_select(0, "First")}
                    {channel_select(1, "Then")}
                    {channel_select(2, "Then")}
                    <FieldError error=err("channels") />
                </fieldset>
                <div class="row">
                    <Field id="send-to" label="Phone number" error=err("to")>
                        <input
                            id="send-to"
                            name="form[to]"
                            type="tel"
                            placeholder="+14155550100"
                            on:input=move |ev| set_typed.set(event_target_value(&ev))
                        />
                        <Transition>
                            {move || {
                                check
                                    .get()
                                    .flatten()
                                    .map(|r| match r {
                                        Ok(d) => {
                                            view! {
                                                <p class="hint ok" data-testid="destination-check">
                                                    {format!(
                                                        "✓ {}{}",
                                                        d.e164,
                                                        d.country.map(|c| format!(" · {c}")).unwrap_or_default(),
                                                    )}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        Err(e) => {
                                            view! {
                                                <p class="hint bad" data-testid="destination-check">
                                                    {e.message}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                    })
                            }}
                        </Transition>
                    </Field>
                    {input("email_to", "Email address", "name@example.com")}
                    {input("service", "Service", "MyApp")}
                </div>
                <details>
                    <summary>"More options"</summary>
                    <div class="row">
                        {input("from", "From (sender id)", "")}
                        {input("reference", "Reference", "")}
                        {input("language", "Language", "en-US")}
                        <SelectField
                            id="send-voice"
                            name="form[voice]"
                            label="Voice (calls)"
                            any=Some("Default (woman)")
                            options=options(&[("woman", "Woman"), ("man", "Man")])
                            error=err("voice")
                        /> {input("repeat", "Repeat (calls)", "1")}
                    </div>
                    <div class="row">
                        {input("code_length", "Code length", "6")}
                        <SelectField
                            id="send-code-type"
                            name="form[code_type]"
                            label="Code type"
                            any=Some("Numeric")
                            options=options(&[("alphanumeric", "Alphanumeric")])
                            error=err("code_type")
                        /> {input("expiry", "Expiry (seconds)", "600")}
                        {input("max_attempts", "Max attempts", "5")}
                    </div>
                    <div class="field checkbox">
                        <label>
                            <input type="checkbox" name="form[keep_old_otp_active]" value="true" />
                            " Keep older OTPs to this destination active"
                        </label>
                    </div>
                    <Field
                        id="send-limits"
                        label="Limits to charge (one name=key per line)"
                        error=err("limits")
                    >
                        <textarea
                            id="send-limits"
                            name="form[limits]"
                            rows="2"
                            placeholder="per_ip=203.0.113.7"
                        ></textarea>
                    </Field>
                </details>
                <button
                    type="submit"
                    class="primary small-btn"
                    disabled=move || send.pending().get()
                >
                    "Send"
                </button>
            </ActionForm>
        </section>
    }
}

/// What the sandbox delivered, as the user would read it (before any delivery: that it is on
/// its way).
#[component]
fn SandboxMessages(messages: Vec<SandboxView>) -> impl IntoView {
    if messages.is_empty() {
        return view! { <p class="muted">"Not delivered yet…"</p> }.into_any();
    }
    messages
        .into_iter()
        .map(|m| {
            view! {
                <blockquote class="sandbox-message" data-testid="sandbox-message">
                    <span class="muted small">
                        {format!(
                            "{} to {}",
                            m.channel,
                            if m.channel == "email" {
                                m.email_to.or(m.to)
                            } else {
                                m.to.or(m.email_to)
                            }
                                .unwrap_or_default(),
                        )}
                    </span>
                    {m.subject.map(|s| view! { <strong>{s}</strong> })}
                    <p>{m.text}</p>
                </blockquote>
            }
        })
        .collect_view()
        .into_any()
}

/// Real deliveries: each provider tried, what it answered and what its receipts said.
#[component]
fn Deliveries(attempts: Vec<AttemptView>) -> impl IntoView {
    view! {
        <ul class="deliveries" data-testid="deliveries">
            {attempts
                .into_iter()
                .map(|a| {
                    let channel = Channel::parse(&a.channel).map(|c| c.label()).unwrap_or("?");
                    view! {
                        <li data-status=a
                            .status
                            .clone()>
                            {format!("{channel} through {}: ", a.provider)}
                            <strong>{a.status.clone()}</strong>
                            {a
                                .error
                                .map(|e| {
                                    view! { <span class="error">{format!(" — {e}")}</span> }
                                })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
