//! Shared pieces of the console.
pub mod chart;
pub mod confirm;
pub mod create_once;
pub mod export;
pub mod form;
pub mod layout;
pub mod otp;
pub mod pager;
pub mod query;
pub mod settings_tabs;
pub mod table;
pub mod usage;
