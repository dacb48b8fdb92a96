//! Lists are read a page at a time: by offset up to [`PageRequest::MAX_OFFSET`] (deeper pages
//! continue by position), and counted up to [`COUNT_CAP`].

pub use crate::server::db::COUNT_CAP;

/// Page `page` (0-based) of `size` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: i64,
    pub size: i64,
}

impl PageRequest {
    pub const DEFAULT_SIZE: i64 = 50;
    pub const MAX_SIZE: i64 = 1000;
    /// How deep paging by offset goes (`Page × PageSize`): a database skips every row before
    /// the offset, so deeper pages continue after a known item instead (`AfterSid`).
    pub const MAX_OFFSET: i64 = 10_000;

    pub fn offset(&self) -> i64 {
        self.page * self.size
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 0,
            size: Self::DEFAULT_SIZE,
        }
    }
}

/// One page of a list and how many items the whole list has.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    /// Exact unless `capped`.
    pub total: i64,
    /// More than [`COUNT_CAP`] items match and they were not all counted: `total` is a floor.
    pub capped: bool,
}
