//! Send test OTP: every option of `/2fa/send`, then the OTP's status live until it is final,
//! the sandbox message as the user receives it, and a verify box answering like `/2fa/verify`.
//! Admins and developers only (support staff see why not).
use crate::server_fns::otps::{check_destination, test_otp_state, SendTestOtp, VerifyTestOtp};
use crate::ui::components::layout::WithUser;
use crate::ui::components::otp::{field_error, short_time, StatusBadge};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

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
        <Title text="Send test OTP"/>
        <h1>"Send test OTP"</h1>
        <WithUser children=move |u| if u.role.manages_credentials() {
            view! { <SendForm send/> }.into_any()
        } else {
            view! {
                <p class="card empty">"Only admins and developers can send test OTPs (your role: " {u.role.label()} "). You can still search OTPs and cancel them."</p>
            }.into_any()
        }/>
        {move || send.value().get().map(|r| match r {
            Err(e) if e.field.is_some() => ().into_any(),
            Err(e) => view! { <p class="error" role="alert">{format!("{} — {}", e.code.code(), e.message)}</p> }.into_any(),
            Ok(a) => view! {
                <section class="card" aria-label="Sent">
                    <p data-testid="send-answer">{format!("{} — {}", a.code, a.message)}</p>
                    {a.request_id.map(|id| view! {
                        <p>"Request ID: " <A href=format!("/otps/{id}")><code data-testid="sent-request-id">{id.clone()}</code></A></p>
                    })}
                </section>
            }.into_any(),
        })}
        {move || progress.get().flatten().map(|r| match r {
            Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            Ok(p) => {
                let id = p.sdr.request_id.clone();
                view! {
                    <div class="grid two">
                        <section class="card" aria-label="Status">
                            <h2>"Status"</h2>
                            <p><StatusBadge status=p.sdr.status.clone()/> " "
                                <span class="muted small">{format!("{} attempt(s) left · expires {}", p.sdr.attempts_left, short_time(&p.sdr.expires_at))}</span>
                            </p>
                            <h2>"Sandbox message"</h2>
                            {if p.messages.is_empty() {
                                view! { <p class="muted">"Not delivered yet…"</p> }.into_any()
                            } else {
                                p.messages.into_iter().map(|m| view! {
                                    <blockquote class="sandbox-message" data-testid="sandbox-message">
                                        <span class="muted small">{format!("{} to {}", m.channel, if m.channel == "email" { m.email_to.or(m.to) } else { m.to.or(m.email_to) }.unwrap_or_default())}</span>
                                        {m.subject.map(|s| view! { <strong>{s}</strong> })}
                                        <p>{m.text}</p>
                                    </blockquote>
                                }).collect_view().into_any()
                            }}
                        </section>
                        <section class="card" aria-label="Verify">
                            <h2>"Verify a code"</h2>
                            <ActionForm action=verify>
                                <input type="hidden" name="request_id" value=id/>
                                <div class="field">
                                    <label for="verify-code">"Code"</label>
                                    <input id="verify-code" name="code" type="text" autocomplete="off" required/>
                                </div>
                                <button type="submit" class="primary small-btn">"Verify"</button>
                            </ActionForm>
                            {move || verify.value().get().map(|r| match r {
                                Ok(status) => view! { <p class="notice success" data-testid="verify-answer" role="status">{format!("200 — OK: {status}")}</p> }.into_any(),
                                Err(e) => view! { <p class="error" data-testid="verify-answer" role="alert">{format!("{} — {}", e.code.code(), e.message)}</p> }.into_any(),
                            })}
                        </section>
                    </div>
                }.into_any()
            }
        })}
    }
}

#[component]
fn SendForm(send: ServerAction<SendTestOtp>) -> impl IntoView {
    let err = move |field: &'static str| move || field_error(send.value().get(), field);
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
        let name = format!("form[channels][{i}]");
        view! {
            <div class="field">
                <label for=format!("channel{i}")>{label}</label>
                <select id=format!("channel{i}") name=name>
                    {(i > 0).then(|| view! { <option value="">"(none)"</option> })}
                    <option value="sms">"SMS"</option>
                    <option value="call">"Voice call"</option>
                    <option value="email">"Email"</option>
                </select>
            </div>
        }
    };
    let input = move |name: &'static str, label: &'static str, placeholder: &'static str| {
        view! {
            <div class="field">
                <label for=format!("send-{name}")>{label}</label>
                <input id=format!("send-{name}") name=format!("form[{name}]") type="text" placeholder=placeholder/>
                {err(name)}
            </div>
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
                    {err("channels")}
                </fieldset>
                <div class="row">
                    <div class="field">
                        <label for="send-to">"Phone number"</label>
                        <input id="send-to" name="form[to]" type="tel" placeholder="+14155550100"
                            on:input=move |ev| set_typed.set(event_target_value(&ev))/>
                        <Transition>
                            {move || check.get().flatten().map(|r| match r {
                                Ok(d) => view! { <p class="hint ok" data-testid="destination-check">{format!("✓ {}{}", d.e164, d.country.map(|c| format!(" · {c}")).unwrap_or_default())}</p> }.into_any(),
                                Err(e) => view! { <p class="hint bad" data-testid="destination-check">{e.message}</p> }.into_any(),
                            })}
                        </Transition>
                        {err("to")}
                    </div>
                    {input("email_to", "Email address", "name@example.com")}
                    {input("service", "Service", "MyApp")}
                </div>
                <details>
                    <summary>"More options"</summary>
                    <div class="row">
                        {input("from", "From (sender id)", "")}
                        {input("reference", "Reference", "")}
                        {input("language", "Language", "en-US")}
                        <div class="field">
                            <label for="send-voice">"Voice (calls)"</label>
                            <select id="send-voice" name="form[voice]">
                                <option value="">"Default (woman)"</option>
                                <option value="woman">"Woman"</option>
                                <option value="man">"Man"</option>
                            </select>
                            {err("voice")}
                        </div>
                        {input("repeat", "Repeat (calls)", "1")}
                    </div>
                    <div class="row">
                        {input("code_length", "Code length", "6")}
                        <div class="field">
                            <label for="send-code-type">"Code type"</label>
                            <select id="send-code-type" name="form[code_type]">
                                <option value="">"Numeric"</option>
                                <option value="alphanumeric">"Alphanumeric"</option>
                            </select>
                            {err("code_type")}
                        </div>
                        {input("expiry", "Expiry (seconds)", "600")}
                        {input("max_attempts", "Max attempts", "5")}
                    </div>
                    <div class="field checkbox">
                        <label><input type="checkbox" name="form[keep_old_otp_active]" value="true"/>" Keep older OTPs to this destination active"</label>
                    </div>
                    <div class="field">
                        <label for="send-limits">"Limits to charge (one name=key per line)"</label>
                        <textarea id="send-limits" name="form[limits]" rows="2" placeholder="per_ip=203.0.113.7"></textarea>
                        {err("limits")}
                    </div>
                </details>
                <button type="submit" class="primary small-btn" disabled=move || send.pending().get()>"Send"</button>
            </ActionForm>
        </section>
    }
}
