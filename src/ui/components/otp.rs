//! Small pieces the OTP pages share: status badges and times.
use leptos::prelude::*;
use leptos_router::components::A;

/// A status as people read it: `max_attempts` → `max attempts`.
pub fn status_label(status: &str) -> String {
    status.replace('_', " ")
}

/// A status as a coloured badge (final states look final).
#[component]
pub fn StatusBadge(#[prop(into)] status: String) -> impl IntoView {
    let label = status_label(&status);
    view! {
        <span class=format!("badge status-{status}") data-status=status.clone()>
            {label}
        </span>
    }
}

/// `2026-11-26T16:05:03.120Z` → `2026-11-26 16:05:03 UTC`.
pub fn short_time(rfc3339: &str) -> String {
    match rfc3339.split_once('T') {
        Some((day, rest)) => {
            let clock: String = rest.chars().take(8).collect();
            format!("{day} {clock} UTC")
        }
        None => rfc3339.to_owned(),
    }
}

/// An OTP's request id, linking to its detail page.
#[component]
pub fn OtpLink(
    #[prop(into)] request_id: String,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <A href=format!("/otps/{request_id}")>
            <code data-testid=testid>{request_id.clone()}</code>
        </A>
    }
}
