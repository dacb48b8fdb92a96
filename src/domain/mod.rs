//! Pure types and rules shared by the server and the browser: identifiers, roles, email
//! addresses, account states and the stable error codes of the API.
pub mod account;
pub mod audit;
pub mod code;
pub mod dates;
pub mod delivery;
#[cfg(feature = "ssr")]
pub mod destination;
pub mod email;
pub mod errors;
pub mod fraud;
pub mod ids;
pub mod limit;
pub mod otp;
#[cfg(feature = "ssr")]
pub mod phone;
pub mod problem;
pub mod protection;
pub mod provider;
pub mod role;
pub mod settings;
pub mod template;
pub mod timeline;
pub mod url;
pub mod usage;
pub mod voice;

pub use account::AccountStatus;
pub use code::CodeType;
pub use email::EmailAddress;
pub use errors::{ConsoleError, ErrorCode};
pub use ids::{AccountSid, ApiKeySid, OtpSid, UserSid};
pub use otp::{Channel, Otp, OtpStatus, Transition, Workflow};
pub use problem::Problem;
pub use provider::Secret;
pub use role::Role;
