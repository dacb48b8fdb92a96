//! Links to a list's neighbouring pages. Each link keeps the page's query (its filters) and
//! changes only the page position, so paging never loses a filter; plain links, so paging works
//! without JavaScript too.
use crate::domain::url::query_string;
use leptos::prelude::*;
use leptos_router::components::A;

/// A page position as a URL parameter: its name and value (`("before", cursor)`).
pub type Position = (&'static str, String);

#[component]
pub fn Pager(
    /// The list's path (`/otps`).
    path: &'static str,
    /// The page's query without its position: kept on both links.
    query: Vec<(&'static str, String)>,
    /// Where the previous (newer) page starts, if there is one.
    #[prop(optional_no_strip)]
    newer: Option<Position>,
    /// Where the next (older) page starts, if there is one.
    #[prop(optional_no_strip)]
    older: Option<Position>,
    #[prop(default = "← Newer")] newer_label: &'static str,
    #[prop(default = "Older →")] older_label: &'static str,
    /// A note after the links (page size, order).
    #[prop(optional, into)]
    note: Option<String>,
) -> impl IntoView {
    let href = move |position: Position| {
        let mut pairs = query.clone();
        pairs.push(position);
        format!("{path}?{}", query_string(&pairs))
    };
    let newer = newer.map(&href);
    let older = older.map(href);
    view! {
        <nav class="pager" aria-label="Pages">
            {newer.map(|h| view! { <A href=h>{newer_label}</A> })}
            {older.map(|h| view! { <A href=h>{older_label}</A> })}
            {note.map(|n| view! { <span class="muted small">{n}</span> })}
        </nav>
    }
}
