//! Login: email + password. Works as a plain HTML form before (or without) the WASM. When the
//! email and password open several accounts (one email may be a user of several), the page
//! asks which: a choice of those accounts (with JavaScript), or their SID (without).
use crate::server_fns::auth::{login_error_message, Login, LoginStep, LOGIN_ERROR_CHOOSE};
use crate::ui::components::form::{alert, TextField};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let error = move || match login.value().get() {
        Some(Err(e)) => Some(e.message),
        Some(Ok(_)) => None,
        None => query
            .read()
            .get("error")
            .and_then(|k| login_error_message(&k))
            .map(str::to_owned),
    };
    let choices = move || match login.value().get() {
        Some(Ok(LoginStep::ChooseAccount(choices))) => choices,
        _ => Vec::new(),
    };
    // Without JavaScript the answer was a redirect: ask for the account's SID instead.
    let ask_sid = move || {
        login.value().get().is_none()
            && query.read().get("error").as_deref() == Some(LOGIN_ERROR_CHOOSE)
    };
    view! {
        <Title text="Sign in" />
        <main class="centered">
            <div class="card narrow login">
                <p class="brand big">"smart2fa"</p>
                <h1>"Sign in to the console"</h1>
                <ActionForm action=login>
                    <TextField
                        id="email"
                        name="email"
                        label="Email"
                        kind="email"
                        autocomplete="username"
                        required=true
                        autofocus=true
                    />
                    <TextField
                        id="password"
                        name="password"
                        label="Password"
                        kind="password"
                        autocomplete="current-password"
                        required=true
                    />
                    {move || {
                        let choices = choices();
                        (!choices.is_empty())
                            .then(|| {
                                let radios = choices
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, c)| {
                                        let id = format!("account-{}", c.sid);
                                        let label_for = id.clone();
                                        view! {
                                            <label for=label_for class="radio">
                                                <input
                                                    type="radio"
                                                    id=id
                                                    name="account"
                                                    value=c.sid.clone()
                                                    required=true
                                                    checked=i == 0
                                                />
                                                {c.name}
                                                " "
                                                <code class="muted small">{c.sid}</code>
                                            </label>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <fieldset data-testid="choose-account">
                                        <legend>
                                            "This email and password open several accounts. Which one?"
                                        </legend>
                                        {radios}
                                    </fieldset>
                                }
                            })
                    }}
                    {move || {
                        ask_sid()
                            .then(|| {
                                view! {
                                    <TextField
                                        id="account"
                                        name="account"
                                        label="Account SID"
                                        placeholder="AC…"
                                        required=true
                                    />
                                }
                            })
                    }}
                    {move || error().map(alert)}
                    <button type="submit" class="primary" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <p class="muted small">
                    "First run? The demo login is printed by the command that started smart2fa."
                </p>
            </div>
        </main>
    }
}
