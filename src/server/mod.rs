//! Everything that runs only on the server: configuration, database, services, REST API,
//! authentication and the HTTP application.
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod health;
pub mod metrics;
pub mod outbound;
pub mod providers;
pub mod rest;
pub mod secrets;
pub mod security_headers;
pub mod seed;
pub mod services;
pub mod signals;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod workers;
