//! Paging on the wire: `Page` (0-based) and `PageSize` (1–1000, default 50) in, and the paging
//! fields of every list answer out (`page, pageSize, numPages, total, totalCapped, …,
//! nextPageUri`), whose links keep the list's filters (and `accountSid` when acting for a
//! sub-account). By offset, `Page × PageSize` reaches at most [`PageRequest::MAX_OFFSET`];
//! lists that continue by position (`AfterSid`) go deeper through `nextPageUri`.
use super::api_error::ApiError;
use super::input::{invalid, Loose};
use crate::domain::url::query_string;
use crate::domain::Problem;
use crate::server::services::paging::{PageRequest, COUNT_CAP};
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
    /// Page and size of a list read by offset: `Page × PageSize` at most
    /// [`PageRequest::MAX_OFFSET`].
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        self.checked(None)
    }

    /// Page and size of a list that also continues by position: with `after` (an `AfterSid`
    /// was given) the page number only labels the page, so it may go past the offset cap.
    pub fn parse_positional(&self, after: bool) -> Result<PageRequest, ApiError> {
        self.checked(Some(after))
    }

    fn checked(&self, positional: Option<bool>) -> Result<PageRequest, ApiError> {
        let req = PageRequest {
            page: self.page.int("Page", (0, 1_000_000))?.unwrap_or(0),
            size: self
                .page_size
                .int("PageSize", (1, PageRequest::MAX_SIZE))?
                .unwrap_or(PageRequest::DEFAULT_SIZE),
        };
        if req.offset() <= PageRequest::MAX_OFFSET || positional == Some(true) {
            return Ok(req);
        }
        let deeper = match positional {
            Some(_) => "follow nextPageUri, which continues after the previous page's last item (AfterSid), or narrow the filters",
            None => "narrow the filters",
        };
        Err(invalid(
            "Page",
            Problem::sentence(format!(
                "Page × PageSize is {} here; paging by Page reaches at most item {}: {deeper}.",
                req.offset(),
                PageRequest::MAX_OFFSET
            )),
        ))
    }
}

/// The paging fields of every list answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub page: i64,
    pub page_size: i64,
    /// Pages of `total` items (a floor when `totalCapped`).
    pub num_pages: i64,
    /// How many items match; when `totalCapped`, at least this many.
    pub total: i64,
    /// More items match than were counted (lists count up to 10 000): `total` and `numPages`
    /// are floors and `lastPageUri` is null; `nextPageUri` continues while pages are full.
    pub total_capped: bool,
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
        Self::counted(req, total, false, returned, path, query)
    }

    /// Like [`Page::of`], for a total that may be a floor (`capped`: more than
    /// [`COUNT_CAP`] items match).
    pub fn counted(
        req: PageRequest,
        total: i64,
        capped: bool,
        returned: usize,
        path: &str,
        query: &[(String, String)],
    ) -> Page {
        debug_assert!(!capped || total >= COUNT_CAP);
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
            total_capped: capped,
            start,
            end: (start + returned as i64 - 1).max(start),
            uri: at(req.page),
            first_page_uri: at(0),
            previous_page_uri: (req.page > 0).then(|| at(req.page - 1)),
            // Past the count, a full page may have a next one.
            next_page_uri: (req.page + 1 < num_pages || (capped && returned as i64 == req.size))
                .then(|| at(req.page + 1)),
            last_page_uri: (num_pages > 0 && !capped).then(|| at(num_pages - 1)),
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
