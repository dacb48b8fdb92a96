//! Pure types and rules shared by the server and the browser: identifiers, roles, email
//! addresses, account states and the stable error codes of the API.
pub mod account;
pub mod email;
pub mod errors;
pub mod ids;
pub mod role;

pub use account::AccountStatus;
pub use email::EmailAddress;
pub use errors::{ConsoleError, ErrorCode};
pub use ids::{AccountSid, ApiKeySid, UserSid};
pub use role::Role;
