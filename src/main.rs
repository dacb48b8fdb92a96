//! The `smart2fa` command: serve (default), migrate, demo, and account/user bootstrap.
#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    smart2fa::server::cli::main(smart2fa::site::mount).await
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The binary is only built with `ssr`; the browser side is the library's `hydrate()`.
}
