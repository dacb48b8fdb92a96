//! Small pieces the OTP pages share: status badges, times, and field errors.
use crate::domain::ConsoleError;
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
    view! { <span class=format!("badge status-{status}") data-status=status.clone()>{label}</span> }
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

/// The error of `result` if it concerns `field`, as an alert next to that field.
pub fn field_error<T>(result: Option<Result<T, ConsoleError>>, field: &str) -> Option<AnyView> {
    match result {
        Some(Err(e)) if e.field.as_deref() == Some(field) => {
            Some(view! { <p class="error field-error" role="alert">{e.message}</p> }.into_any())
        }
        _ => None,
    }
}
