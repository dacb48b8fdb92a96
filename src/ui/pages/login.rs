//! Login: email + password. Works as a plain HTML form before (or without) the WASM.
use crate::server_fns::auth::{login_error_message, Login};
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
        Some(Ok(())) => None,
        None => query
            .read()
            .get("error")
            .and_then(|k| login_error_message(&k))
            .map(str::to_owned),
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
