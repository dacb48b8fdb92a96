//! Authentication: HTTP Basic for the REST API, sessions for the console, and the
//! cross-site request forgery guard for state-changing console requests.
pub mod api;
pub mod cache;
pub mod client_addr;
pub mod console;
pub mod csrf;
pub mod session_store;

pub use api::{ApiCaller, ApiOrigin};
pub use client_addr::client_addr;
