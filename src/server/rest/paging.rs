//! Paging on the wire: `Page` (0-based) and `PageSize` (1–1000, default 50) in, and the paging
//! fields of every list answer out (`page, pageSize, numPages, total, …, nextPageUri`), whose
//! links keep the list's filters (and `accountSid` when acting for a sub-account).
use super::api_error::ApiError;
use super::input::Loose;
use crate::domain::url::query_string;
use crate::server::services::paging::PageRequest;
use crate::server::services::AccountScope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The paging fields of a list request.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    #[serde(rename = "Page", default)]
    pub page: Loose,
    #[serde(rename = "PageSize", default)]
    pub page_size: Loose,
}

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest {
            page: self.page.int("Page", (0, 1_000_000))?.unwrap_or(0),
            size: self
                .page_size
                .int("PageSize", (1, PageRequest::MAX_SIZE))?
                .unwrap_or(PageRequest::DEFAULT_SIZE),
        })
    }
}

/// The paging fields of every list answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub page: i64,
    pub page_size: i64,
    pub num_pages: i64,
    pub total: i64,
    pub start: i64,
    pub end: i64,
    pub uri: String,
    pub first_page_uri: String,
    pub previous_page_uri: Option<String>,
    pub next_page_uri: Option<String>,
    pub last_page_uri: Option<String>,
}

/// The link to `page` of a list: the path, the filters' query string, the page and its size.
pub fn link(path: &str, query: &[(String, String)], page: i64, size: i64) -> String {
    let mut q = query.to_vec();
    q.push(("Page".into(), page.to_string()));
    q.push(("PageSize".into(), size.to_string()));
    format!("{path}?{}", query_string(&q))
}

impl Page {
    /// The paging fields for `returned` items of `total`; `query` holds the filters to keep.
    pub fn of(
        req: PageRequest,
        total: i64,
        returned: usize,
        path: &str,
        query: &[(String, String)],
    ) -> Page {
        let num_pages = if total == 0 {
            0
        } else {
            (total + req.size - 1) / req.size
        };
        let at = |page: i64| link(path, query, page, req.size);
        let start = req.page * req.size;
        Page {
            page: req.page,
            page_size: req.size,
            num_pages,
            total,
            start,
            end: (start + returned as i64 - 1).max(start),
            uri: at(req.page),
            first_page_uri: at(0),
            previous_page_uri: (req.page > 0).then(|| at(req.page - 1)),
            next_page_uri: (req.page + 1 < num_pages).then(|| at(req.page + 1)),
            last_page_uri: (num_pages > 0).then(|| at(num_pages - 1)),
        }
    }
}

/// `accountSid=<sid>` when `scope` is a sub-account the caller acts for, so a parent following
/// `nextPageUri` stays on its sub-account's data.
pub fn acting_for(scope: &AccountScope, caller: &AccountScope) -> Vec<(String, String)> {
    if scope.sid() == caller.sid() {
        Vec::new()
    } else {
        vec![("accountSid".to_owned(), scope.sid().to_string())]
    }
}
