//! Console server functions: thin adapters from the browser to `server::services`, each
//! checking the session and role on the server. Stable endpoints under `/api/`.
pub mod audit;
pub mod auth;
pub mod developers;
#[cfg(feature = "ssr")]
pub mod export;
pub mod fraud;
pub mod limits;
pub mod otps;
pub mod providers;
pub mod settings;
pub mod subaccounts;
pub mod templates;
pub mod usage;
pub mod users;

#[cfg(feature = "ssr")]
pub(crate) mod ctx;
