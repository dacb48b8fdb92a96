//! Home: the signed-in account at a glance and how to start using the API.
use crate::ui::components::layout::WithUser;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Home"/>
        <WithUser children=|user| view! {
        <h1>{user.account_name.clone()}</h1>
        <section class="grid two">
            <div class="card">
                <h2>"Your account"</h2>
                <dl class="facts">
                    <dt>"Account SID"</dt>
                    <dd><code data-testid="account-sid">{user.account_sid.to_string()}</code></dd>
                    <dt>"Signed in as"</dt>
                    <dd>{user.email.clone()}</dd>
                    <dt>"Role"</dt>
                    <dd>{user.role.label()}</dd>
                </dl>
            </div>
            <div class="card">
                <h2>"Getting started"</h2>
                <ol class="steps">
                    <li>"Open " <a href="/developers">"Developers"</a> " for your API credentials and a curl example."</li>
                    <li>"Every API call uses HTTP Basic authentication: your Account SID and auth token."</li>
                    <li>"The list of API error codes is at " <a href="/2fa/errors">"/2fa/errors"</a> "."</li>
                </ol>
            </div>
        </section>
        }/>
    }
}
