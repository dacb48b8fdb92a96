//! Typed settings: defaults < optional TOML file < `SMART2FA_*` environment variables
//! (nested keys with `__`, e.g. `SMART2FA_AUTH__REFUSE_AFTER=50`), plus the usual
//! `DATABASE_URL` and `LEPTOS_SITE_ADDR`.
pub use crate::server::auth::client_addr::IpCidr;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Local use: secrets are generated once and kept in the data directory.
    Development,
    /// Secrets must be given; cookies are `Secure` by default.
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

/// SQLite durability: `normal` keeps every commit across a process crash (may lose the last
/// commits on a power cut); `full` also survives a power cut, at several times the cost per commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Normal,
    Full,
}

/// How failed API authentications from one client address are slowed down, then refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiAuthThrottle {
    /// Failures within the window before each further attempt is delayed.
    pub slow_after: u32,
    /// Failures within the window before attempts are refused with 429.
    pub refuse_after: u32,
    pub window_secs: u64,
    /// Delay added per failure beyond `slow_after`, capped at `max_delay_ms`.
    pub delay_step_ms: u64,
    pub max_delay_ms: u64,
    /// Seconds a successful authentication is remembered (0: check the database every time).
    pub cache_secs: u64,
}

/// Console login throttling: failures per user (email) and per client address in a window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginThrottle {
    pub per_user: u32,
    pub per_address: u32,
    pub window_secs: u64,
    /// Passwords checked (argon2, ~19 MiB and tens of milliseconds each) at the same time; a
    /// login beyond it answers 429 at once instead of queueing. 0: the number of CPU cores.
    pub concurrent_password_checks: usize,
}

impl LoginThrottle {
    /// `concurrent_password_checks`, with 0 meaning the number of CPU cores.
    pub fn password_check_permits(&self) -> usize {
        match self.concurrent_password_checks {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub environment: Environment,
    /// Where the embedded database and generated secrets live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `<data_dir>/smart2fa.db`.
    pub database_url: Option<String>,
    pub site_addr: SocketAddr,
    pub log_format: LogFormat,
    /// A `tracing` filter, e.g. `info,smart2fa=debug`.
    pub log_level: String,
    /// 64+ bytes (hex or base64) signing session cookies. Required in production.
    pub session_secret: Option<String>,
    /// 32+ bytes (hex or base64) keying the HMAC of OTP codes. Required in production.
    pub code_hash_key: Option<String>,
    /// Console sessions end after this much inactivity.
    pub session_inactivity_minutes: i64,
    /// Mark the session cookie `Secure`; defaults to true in production.
    pub cookie_secure: Option<bool>,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy): the last
    /// entry across every header line, or with `trusted_proxies` the last one that is not a
    /// trusted proxy (see `auth::client_addr`).
    pub trust_forwarded_for: bool,
    /// Addresses or networks (`10.0.0.0/8`) of the proxies in front of the server. When set,
    /// `X-Forwarded-For` is believed only from these peers, and their own entries are skipped.
    /// Needs `trust_forwarded_for = true`.
    pub trusted_proxies: Vec<IpCidr>,
    pub db_max_connections: u32,
    pub sqlite_synchronous: SqliteSynchronous,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_grace_secs: u64,
    /// Run the delivery workers and expiry sweeper in this process (turn off for API-only instances).
    pub workers_enabled: bool,
    /// Concurrent delivery tasks in this process.
    pub worker_tasks: usize,
    /// How long a worker holds a claimed job before another may take it over (after a crash).
    pub job_lease_secs: u64,
    pub api_auth: ApiAuthThrottle,
    pub login: LoginThrottle,
    /// Let tenants' URLs (callbacks, gateways, webhooks, provider APIs, SMTP hosts) point at
    /// loopback, private or link-local addresses: on-premises targets, and tests.
    pub allow_private_outbound: bool,
    /// The address providers reach this server at (delivery receipts, voice documents), e.g.
    /// `https://otp.example.com`; default `http://` + the listen address.
    pub public_url: Option<String>,
    /// Providers for accounts (and their sub-accounts) that configured none for a channel.
    pub default_providers: Vec<DefaultProvider>,
    /// Destination countries each phone channel may send to, for accounts (and their
    /// sub-accounts) that set none: `[allowed_countries] sms = ["GB", "IE"]`. Unset: all.
    pub allowed_countries: AllowedCountriesConfig,
    /// Seconds a provider call may take before it counts as a transient failure (retried).
    pub provider_timeout_secs: u64,
    /// A PEM file of certificates to trust besides the public roots when connecting to
    /// providers (an on-premises SMTP server or gateway with a private CA).
    pub tls_extra_roots: Option<PathBuf>,
    /// Audit-log entries older than this many days are pruned (0: kept forever).
    pub audit_retention_days: u32,
    /// Seconds an API request may take before it is answered 503 with `Retry-After`.
    pub request_timeout_secs: u64,
    /// The bearer token Prometheus scrapes `GET /metrics` with; unset (the default), the route
    /// answers 404. Env `SMART2FA_METRICS_TOKEN`.
    pub metrics_token: Option<String>,
}

/// `[allowed_countries]`: ISO 3166 alpha-2 codes per phone channel (or `["all"]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AllowedCountriesConfig {
    #[serde(default)]
    pub sms: Option<Vec<String>>,
    #[serde(default)]
    pub call: Option<Vec<String>>,
}

/// A server-wide provider (`[[default_providers]]` in smart2fa.toml): the fields of
/// `POST /2fa/providers`, with secrets inline (keep the file private).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultProvider {
    pub kind: String,
    pub name: String,
    pub channels: Vec<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    pub config: serde_json::Value,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            data_dir: PathBuf::from("data"),
            database_url: None,
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            log_format: LogFormat::Human,
            log_level: "info,sqlx=warn,tower_sessions=warn".into(),
            session_secret: None,
            code_hash_key: None,
            session_inactivity_minutes: 8 * 60,
            cookie_secure: None,
            trust_forwarded_for: false,
            trusted_proxies: Vec::new(),
            db_max_connections: 16,
            sqlite_synchronous: SqliteSynchronous::Normal,
            max_body_bytes: 64 * 1024,
            shutdown_grace_secs: 20,
            workers_enabled: true,
            job_lease_secs: 30,
            worker_tasks: 4,
            api_auth: ApiAuthThrottle {
                slow_after: 10,
                refuse_after: 30,
                window_secs: 15 * 60,
                delay_step_ms: 200,
                max_delay_ms: 2000,
                cache_secs: 5,
            },
            login: LoginThrottle {
                per_user: 5,
                per_address: 20,
                window_secs: 15 * 60,
                concurrent_password_checks: 0,
            },
            allow_private_outbound: false,
            public_url: None,
            default_providers: Vec::new(),
            allowed_countries: AllowedCountriesConfig::default(),
            provider_timeout_secs: 15,
            tls_extra_roots: None,
            audit_retention_days: 400,
            request_timeout_secs: 30,
            metrics_token: None,
        }
    }
}

impl Settings {
    /// Where providers reach this server, without a trailing slash.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_owned(),
            _ => format!("http://{}", self.site_addr),
        }
    }

    /// Loads settings from defaults, the file named by `SMART2FA_CONFIG` (or `smart2fa.toml` in
    /// the working directory when present) and the environment.
    pub fn load() -> anyhow::Result<Self> {
        let file = std::env::var("SMART2FA_CONFIG").unwrap_or_else(|_| "smart2fa.toml".into());
        Self::figment(Some(PathBuf::from(file)))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
    }

    pub fn figment(file: Option<PathBuf>) -> Figment {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            fig = fig.merge(Toml::file(file));
        }
        fig.merge(Env::prefixed("SMART2FA_").split("__").ignore(&["config"]))
            .merge(Env::raw().only(&["database_url"]))
            .merge(
                Env::raw()
                    .only(&["leptos_site_addr"])
                    .map(|_| "site_addr".into()),
            )
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!("sqlite://{}", self.data_dir.join("smart2fa.db").display()),
        }
    }

    pub fn cookie_secure(&self) -> bool {
        self.cookie_secure
            .unwrap_or(self.environment == Environment::Production)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn layers_defaults_file_and_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "smart2fa.toml",
                "data_dir = \"/srv/otp\"\nlog_level = \"debug\"\n[login]\nper_user = 3\n[allowed_countries]\ncall = [\"US\", \"CA\"]\n",
            )?;
            jail.set_env("SMART2FA_LOG_LEVEL", "warn");
            jail.set_env("SMART2FA_API_AUTH__REFUSE_AFTER", "99");
            jail.set_env(
                "SMART2FA_TRUSTED_PROXIES",
                "[\"10.0.0.0/8\", \"192.0.2.7\"]",
            );
            jail.set_env("LEPTOS_SITE_ADDR", "127.0.0.1:4010");
            jail.set_env("DATABASE_URL", "postgres://u@localhost/db");
            let s: Settings = Settings::figment(Some("smart2fa.toml".into())).extract()?;
            assert_eq!(s.data_dir, PathBuf::from("/srv/otp"));
            assert_eq!(s.log_level, "warn");
            assert_eq!(s.login.per_user, 3);
            assert_eq!(s.login.per_address, 20);
            assert_eq!(
                s.allowed_countries.call,
                Some(vec!["US".into(), "CA".into()])
            );
            assert_eq!(s.allowed_countries.sms, None);
            assert_eq!(s.api_auth.refuse_after, 99);
            assert_eq!(
                s.trusted_proxies,
                [
                    IpCidr::parse("10.0.0.0/8").unwrap(),
                    IpCidr::parse("192.0.2.7").unwrap()
                ]
            );
            assert_eq!(s.site_addr.port(), 4010);
            assert_eq!(s.database_url(), "postgres://u@localhost/db");
            Ok(())
        });
    }

    #[test]
    fn defaults_point_at_embedded_sqlite() {
        let s = Settings::default();
        assert_eq!(s.database_url(), "sqlite://data/smart2fa.db");
        assert!(!s.cookie_secure());
        assert_eq!(s.site_addr.to_string(), "127.0.0.1:3000");
    }

    #[test]
    fn rejects_bad_values_loudly() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SMART2FA_ENVIRONMENT", "staging");
            assert!(Settings::figment(None).extract::<Settings>().is_err());
            jail.set_env("SMART2FA_ENVIRONMENT", "development");
            jail.set_env("SMART2FA_TRUSTED_PROXIES", "[\"10.0.0.0/99\"]");
            let err = Settings::figment(None)
                .extract::<Settings>()
                .unwrap_err()
                .to_string();
            assert!(err.contains("10.0.0.0/99"), "{err}");
            Ok(())
        });
    }

    /// The example in the repository (the README points at it) is a valid configuration, and
    /// its default providers are valid providers.
    #[test]
    fn the_example_configuration_is_valid() {
        use crate::domain::provider::{ProviderConfig, ProviderKind};
        figment::Jail::expect_with(|jail| {
            jail.create_file("smart2fa.toml", include_str!("../../smart2fa.example.toml"))?;
            jail.set_env("SMART2FA_PROVIDER_TIMEOUT_SECS", "7");
            let s: Settings = Settings::figment(Some("smart2fa.toml".into())).extract()?;
            assert_eq!(s.public_base(), "https://otp.example.com");
            assert_eq!(s.provider_timeout_secs, 7, "the environment wins");
            let providers = crate::server::services::providers::defaults(&s.default_providers)
                .map_err(|e| e.to_string())?;
            let kinds: Vec<ProviderKind> = providers.iter().map(|p| p.kind()).collect();
            assert_eq!(
                kinds,
                [ProviderKind::Twilio, ProviderKind::Http, ProviderKind::Smtp]
            );
            let ProviderConfig::Http(gateway) = &providers[1].config else {
                panic!("an http gateway")
            };
            assert_eq!(gateway.headers[0].0, "Authorization");
            assert_eq!(providers[1].countries, ["GB"]);
            assert_eq!(providers[2].priority, 100, "the default priority");
            Ok(())
        });
    }
}
