//! Shared pieces of the console.
pub mod layout;
pub mod otp;
