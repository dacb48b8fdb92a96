//! smart2fa: a self-hosted, multi-tenant one-time-password service with an admin console.
//!
//! The split at a glance: `domain` and `ui` compile for the server and the browser;
//! `server` (REST API, database, workers) exists only with the `ssr` feature; `server_fns`
//! are declared for both sides (the browser gets the client stubs).
// Leptos views of the larger pages nest deeply; the release WASM build needs more room.
#![recursion_limit = "512"]

pub mod domain;
pub mod server_fns;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod site;

/// Benchmarks and the load generator (`smart2fa-bench`): not part of what an operator runs.
#[cfg(all(feature = "ssr", feature = "bench"))]
pub mod bench;

/// The product's tests against real databases, servers and the console.
#[cfg(all(test, feature = "ssr"))]
mod tests;

/// Entry point of the WASM bundle: hydrates the server-rendered console.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(ui::App);
}
