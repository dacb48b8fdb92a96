//! Pure types and rules shared by the server and the browser: identifiers, roles, email
//! addresses, account states and the stable error codes of the API.
pub mod account;
pub mod code;
pub mod email;
pub mod errors;
pub mod ids;
pub mod limit;
pub mod otp;
#[cfg(feature = "ssr")]
pub mod phone;
pub mod role;
pub mod template;
pub mod url;

pub use account::AccountStatus;
pub use email::EmailAddress;
pub use errors::{ConsoleError, ErrorCode};
pub use ids::{AccountSid, ApiKeySid, OtpSid, UserSid};
pub use otp::{Channel, OtpStatus};
pub use role::Role;
