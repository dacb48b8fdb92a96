//! Small pieces the OTP pages share: status badges, times, and field errors.
use crate::domain::ConsoleError;
use leptos::prelude::*;

/// A status as a coloured badge (final states look final).
#[component]
pub fn StatusBadge(#[prop(into)] status: String) -> impl IntoView {
    let label = status.replace('_', " ");
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

/// The error of `result` if it concerns `field`, as an alert next to that field.
pub fn field_error<T>(result: Option<Result<T, ConsoleError>>, field: &str) -> Option<AnyView> {
    match result {
        Some(Err(e)) if e.field.as_deref() == Some(field) => {
            Some(view! { <p class="error field-error" role="alert">{e.message}</p> }.into_any())
        }
        _ => None,
    }
}
