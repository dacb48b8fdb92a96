//! Developers: the Account SID, rotating the auth token (shown once), and a curl example.
use crate::server_fns::auth::CurrentUser;
use crate::server_fns::developers::RotateAuthToken;
use crate::ui::components::layout::WithUser;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DevelopersPage() -> impl IntoView {
    let rotate = ServerAction::<RotateAuthToken>::new();
    let (confirming, set_confirming) = signal(false);
    view! {
        <Title text="Developers"/>
        <h1>"Developers"</h1>
        <WithUser children=move |user| view! { <Credentials user rotate confirming set_confirming/> }/>
    }
}

/// Credentials and the curl example, for the signed-in user's account and role.
#[component]
fn Credentials(
    user: CurrentUser,
    rotate: ServerAction<RotateAuthToken>,
    confirming: ReadSignal<bool>,
    set_confirming: WriteSignal<bool>,
) -> impl IntoView {
    let may_rotate = user.role.manages_credentials();
    let sid = user.account_sid.to_string();
    let curl = format!(
        "curl -u {sid}:$AUTH_TOKEN {}/2fa/accounts/{sid}",
        user.api_base
    );
    view! {
        <section class="card">
            <h2>"API credentials"</h2>
            <dl class="facts">
                <dt>"Account SID"</dt>
                <dd><code>{sid.clone()}</code></dd>
                <dt>"Auth token"</dt>
                <dd>"Shown only when the account is created or the token is rotated; smart2fa keeps only a hash."</dd>
            </dl>
            {move || match rotate.value().get() {
                Some(Ok(token)) => view! {
                    <div class="notice success" role="status">
                        <p>"New auth token. Copy it now: it will not be shown again."</p>
                        <code class="secret" data-testid="new-token">{token}</code>
                    </div>
                }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                None => ().into_any(),
            }}
            {may_rotate.then(|| view! {
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button class="danger" on:click=move |_| set_confirming.set(true)>"Rotate auth token…"</button>
                    }
                >
                    <div class="confirm">
                        <p>"The current token stops working immediately. Every integration using it must be updated."</p>
                        <button class="danger" on:click=move |_| { rotate.dispatch(RotateAuthToken {}); set_confirming.set(false); }>
                            "Rotate now"
                        </button>
                        <button on:click=move |_| set_confirming.set(false)>"Keep the current token"</button>
                    </div>
                </Show>
            })}
            {(!may_rotate).then(|| view! {
                <p class="muted">"Only admins and developers can rotate the auth token (your role: " {user.role.label()} ")."</p>
            })}
        </section>
        <section class="card">
            <h2>"Try the API"</h2>
            <p>"With your auth token in " <code>"$AUTH_TOKEN"</code> ":"</p>
            <pre class="code">{curl}</pre>
        </section>
        <section class="card empty">
            <h2>"API keys"</h2>
            <p>"Named API keys (create, revoke) are coming soon."</p>
        </section>
    }
}
