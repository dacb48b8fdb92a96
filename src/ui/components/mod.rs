//! Shared pieces of the console.
pub mod chart;
pub mod create_once;
pub mod export;
pub mod layout;
pub mod otp;
pub mod usage;
