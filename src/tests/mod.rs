//! In-crate HTTP tests: the real app on port 0 against a fresh database, on SQLite always and
//! on PostgreSQL when `SMART2FA_TEST_DATABASE_URL` names a server (always in CI).
pub(crate) mod harness;

mod accounts_api;
mod accounts_store;
mod api_auth;
mod api_keys;
mod audit;
#[cfg(feature = "bench")]
mod bench;
mod callbacks;
mod cli;
mod console;
mod console_channels;
mod console_otps;
mod console_settings;
mod console_templates;
mod console_usage;
mod crash;
mod fake_cpaas;
mod fraud;
mod hardening_rest;
mod health;
mod limits_api;
mod metrics;
mod openapi;
mod otp_api;
mod otp_flows;
mod providers;
mod sandbox;
mod settings;
mod smtp;
mod smtp_delivery;
mod store;
mod subaccounts;
mod templates;
mod usage;
mod usage_api;
mod users;

/// Generates `sqlite::name` and `postgres::name` tests from `async fn name(Backend)`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::server::db::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::tests::harness::postgres_available() {
                        super::$name($crate::server::db::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}
pub(crate) use both_backends;
