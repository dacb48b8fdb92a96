//! One page per file.
pub mod audit;
pub mod channels;
pub mod coming_soon;
pub mod countries;
pub mod defaults;
pub mod developers;
pub mod home;
pub mod limits;
pub mod login;
pub mod not_found;
pub mod otps;
pub mod sdr;
pub mod send;
pub mod subaccounts;
pub mod templates;
pub mod usage;
pub mod users;
