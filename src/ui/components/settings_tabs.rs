//! The sections of Settings, as tabs above each settings page.
use leptos::prelude::*;
use leptos_router::components::A;

/// The sections of Settings, in order: path and label.
pub const SETTINGS_TABS: [(&str, &str); 5] = [
    ("/settings", "Channels"),
    ("/settings/defaults", "Defaults"),
    ("/settings/templates", "Templates"),
    ("/settings/countries", "Countries"),
    ("/settings/fraud", "Fraud guard"),
];

/// Tabs to the sections of Settings; the current one is marked by the router (`aria-current`).
#[component]
pub fn SettingsTabs() -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Settings">
            {SETTINGS_TABS
                .iter()
                .map(|(href, label)| {
                    view! {
                        <A href=*href exact=true>
                            {*label}
                        </A>
                    }
                })
                .collect_view()}
        </nav>
    }
}
