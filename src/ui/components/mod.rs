//! Shared pieces of the console.
pub mod export;
pub mod layout;
pub mod otp;
