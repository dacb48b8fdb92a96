//! Placeholder for console pages whose issue is not built yet.
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ComingSoon(title: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <div class="card empty">
            <p>"This page is coming soon."</p>
            <p class="muted">
                "Meanwhile, everything it will show is reachable through the REST API under /2fa."
            </p>
        </div>
    }
}
