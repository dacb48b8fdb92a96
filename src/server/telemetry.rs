//! `tracing` logs: human-readable by default, JSON with `SMART2FA_LOG_FORMAT=json`.
use super::config::{LogFormat, Settings};
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| EnvFilter::try_new(&settings.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match settings.log_format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Human => registry.with(fmt::layer().with_target(false)).try_init(),
    };
    // Already initialised (tests start several apps in one process): keep the first.
    let _ = result;
}
