//! Lists are read a page at a time.

/// Page `page` (0-based) of `size` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: i64,
    pub size: i64,
}

impl PageRequest {
    pub const DEFAULT_SIZE: i64 = 50;
    pub const MAX_SIZE: i64 = 1000;

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
    pub total: i64,
}
