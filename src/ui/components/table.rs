//! The console's data table: a `<table class="data">` named for screen readers, its header
//! row, a row per item and optional foot rows; or, when there is no item, what the page says
//! instead (its empty state).
use leptos::prelude::*;

/// A column heading.
pub enum Header {
    /// Plain text (empty for a column of actions).
    Text(String),
    /// A number column's heading (right-aligned like its numbers).
    Num(String),
    /// A heading cell of its own (`<th>` with attributes of its own).
    Cell(AnyView),
}

impl From<&str> for Header {
    fn from(text: &str) -> Self {
        Header::Text(text.to_owned())
    }
}

impl From<String> for Header {
    fn from(text: String) -> Self {
        Header::Text(text)
    }
}

/// Plain text headings.
pub fn headers(texts: &[&str]) -> Vec<Header> {
    texts.iter().map(|t| Header::from(*t)).collect()
}

#[component]
pub fn DataTable<R, F, V>(
    /// The table's accessible name (`aria-label`).
    #[prop(into)]
    label: String,
    headers: Vec<Header>,
    rows: Vec<R>,
    /// One item as a `<tr>`.
    row: F,
    /// Shown instead of the table when there is no row.
    #[prop(optional, into)]
    empty: ViewFnOnce,
    /// Classes besides `data`.
    #[prop(optional)]
    class: Option<&'static str>,
    #[prop(optional)] testid: Option<&'static str>,
    /// `<tr>`s for the table's foot (totals).
    #[prop(optional)]
    foot: Option<Children>,
) -> impl IntoView
where
    R: 'static,
    F: Fn(R) -> V + 'static,
    V: IntoView + 'static,
{
    if rows.is_empty() {
        return empty.run();
    }
    let class = match class {
        Some(c) => format!("data {c}"),
        None => "data".to_owned(),
    };
    let headers = headers
        .into_iter()
        .map(|h| match h {
            Header::Text(t) => view! { <th>{t}</th> }.into_any(),
            Header::Num(t) => view! { <th class="num">{t}</th> }.into_any(),
            Header::Cell(cell) => cell,
        })
        .collect_view();
    let body = rows.into_iter().map(row).collect_view();
    view! {
        <table class=class aria-label=label data-testid=testid>
            <thead>
                <tr>{headers}</tr>
            </thead>
            <tbody>{body}</tbody>
            {foot.map(|f| view! { <tfoot>{f()}</tfoot> })}
        </table>
    }
    .into_any()
}

/// What a list says when it has nothing to show, as a card of its own.
#[component]
pub fn EmptyCard(
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="card empty" data-testid=testid>
            <p>{children()}</p>
        </div>
    }
}
