//! The use cases. REST handlers and console server functions are thin adapters over these;
//! neither holds SQL or business rules.
pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod demo;
pub mod error;
pub mod fraud;
pub mod limits;
pub mod otp;
pub mod paging;
pub mod providers;
pub mod scope;
pub mod settings;
pub mod templates;
pub mod usage;
pub mod users;

pub use error::{ServiceError, ServiceResult};
pub use scope::AccountScope;
