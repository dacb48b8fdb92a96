//! `smart2fa-bench`: the load generator and the benchmarks of `make bench*`.
#[tokio::main]
async fn main() -> std::process::ExitCode {
    smart2fa::bench::cli::main().await
}
