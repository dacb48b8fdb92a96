//! A page whose whole state is in its URL (filters, page position): the query parameters read
//! into the page's query type, so reload and shared links show the same page.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The URL's parameters named in `keys` (others ignored), read by `parse`; follows the URL.
pub fn use_url_query<Q, P>(keys: &'static [&'static str], parse: P) -> Memo<Q>
where
    Q: PartialEq + Send + Sync + 'static,
    P: Fn(Vec<(&str, &str)>) -> Q + Send + Sync + 'static,
{
    let params = use_query_map();
    Memo::new(move |_| {
        params.with(|p| {
            parse(
                keys.iter()
                    .filter_map(|k| p.get_str(k).map(|v| (*k, v)))
                    .collect(),
            )
        })
    })
}
