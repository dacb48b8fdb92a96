//! The application state every handler, server function and worker gets: the services and
//! what they share, built once at start.
use super::auth::cache::AuthCache;
use super::auth::console::PasswordGate;
use super::clock::Clock;
use super::config::Settings;
use super::db::Db;
use super::outbound::Outbound;
use super::providers::ProviderRegistry;
use super::secrets::Secrets;
use super::services::otp::OtpService;
use super::signals::Signals;
use super::throttle::Throttle;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    clock: Arc<dyn Clock>,
    settings: Settings,
    secrets: Secrets,
    otp: OtpService,
    providers: Arc<ProviderRegistry>,
    outbound: Outbound,
    signals: Arc<Signals>,
    guards: Guards,
    /// This process's name when it leases jobs.
    worker_id: String,
    /// Status callbacks in flight per account.
    callback_slots: super::workers::callbacks::Slots,
}

/// What protects the sign-in paths.
pub struct Guards {
    /// Failed API authentications per client address and credential sid.
    pub api_auth_throttle: Throttle,
    /// Failed console logins per email and per client address.
    pub login_user_throttle: Throttle,
    pub login_address_throttle: Throttle,
    /// How many console passwords may be checked at once.
    pub password_gate: PasswordGate,
    /// API credentials that authenticated in the last few seconds.
    pub auth_cache: AuthCache,
}

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        db: Db,
        clock: Arc<dyn Clock>,
        settings: Settings,
        secrets: Secrets,
    ) -> anyhow::Result<Self> {
        if !settings.trusted_proxies.is_empty() && !settings.trust_forwarded_for {
            anyhow::bail!(
                "trusted_proxies is set but trust_forwarded_for is not: set trust_forwarded_for = true to read X-Forwarded-For from those proxies"
            );
        }
        let window = std::time::Duration::from_secs(settings.api_auth.window_secs);
        let login_window = std::time::Duration::from_secs(settings.login.window_secs);
        let guards = Guards {
            api_auth_throttle: Throttle::new(window.as_millis() as i64),
            login_user_throttle: Throttle::new(login_window.as_millis() as i64),
            login_address_throttle: Throttle::new(login_window.as_millis() as i64),
            password_gate: PasswordGate::new(settings.login.password_check_permits()),
            auth_cache: AuthCache::new(settings.api_auth.cache_secs as i64 * 1000),
        };
        let signals = Arc::new(Signals::default());
        let countries = super::services::settings::ServerCountries::parse(
            settings.allowed_countries.sms.as_deref(),
            settings.allowed_countries.call.as_deref(),
        )?;
        let outbound = Outbound::new(settings.allow_private_outbound)?;
        let defaults = super::services::providers::defaults(&settings.default_providers)?;
        let extra_root = match &settings.tls_extra_roots {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                anyhow::anyhow!("tls_extra_roots: cannot read {}: {e}", path.display())
            })?),
            None => None,
        };
        let providers = Arc::new(ProviderRegistry::new(
            outbound.client().clone(),
            defaults,
            extra_root,
            std::time::Duration::from_secs(settings.provider_timeout_secs.max(1)),
            settings.allow_private_outbound,
        ));
        let otp = OtpService::new(
            db.clone(),
            clock.clone(),
            secrets.code_hash_key.clone(),
            signals.clone(),
        )
        .with_server_countries(countries)
        .with_providers(providers.clone());
        let inner = Inner {
            otp,
            providers,
            outbound,
            signals,
            guards,
            worker_id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            callback_slots: Default::default(),
            db,
            clock,
            settings,
            secrets,
        };
        Ok(Self {
            leptos_options,
            inner: Arc::new(inner),
        })
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn secrets(&self) -> &Secrets {
        &self.inner.secrets
    }

    /// The OTP use cases.
    pub fn otp(&self) -> &OtpService {
        &self.inner.otp
    }

    /// Which provider delivers an account's channel.
    pub fn providers(&self) -> &ProviderRegistry {
        &self.inner.providers
    }

    /// What the provider use cases need besides the database.
    pub fn provider_keys(&self) -> crate::server::services::providers::Keys<'_> {
        crate::server::services::providers::Keys {
            seal_key: self.otp().code_key(),
            outbound: self.outbound(),
            registry: self.providers(),
        }
    }

    /// The HTTP client for connections out (callbacks, providers).
    pub fn outbound(&self) -> &Outbound {
        &self.inner.outbound
    }

    pub fn signals(&self) -> &Signals {
        &self.inner.signals
    }

    pub fn guards(&self) -> &Guards {
        &self.inner.guards
    }

    pub fn callback_slots(&self) -> &super::workers::callbacks::Slots {
        &self.inner.callback_slots
    }

    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }
}
