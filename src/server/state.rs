//! Shared application state handed to every handler and server function.
use super::clock::Clock;
use super::config::Settings;
use super::db::Db;
use super::secrets::Secrets;
use super::throttle::Throttle;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub inner: Arc<Inner>,
}

pub struct Inner {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    pub secrets: Secrets,
    /// Failed API authentications per client address.
    pub api_auth_throttle: Throttle,
    /// Failed console logins per email and per client address.
    pub login_user_throttle: Throttle,
    pub login_address_throttle: Throttle,
    /// API credentials that authenticated in the last few seconds.
    pub auth_cache: super::auth::cache::AuthCache,
    /// Wakes the delivery workers when new jobs were committed.
    pub wake: tokio::sync::Notify,
    /// Told after delivery jobs ran (sandbox outbox readers that wait look again).
    pub delivered: tokio::sync::Notify,
    /// This process's name when it leases jobs.
    pub worker_id: String,
    /// Replaces every account's provider (tests use it to inject failures).
    pub provider_override:
        std::sync::RwLock<Option<std::sync::Arc<dyn crate::server::providers::Provider>>>,
}

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        db: Db,
        clock: Arc<dyn Clock>,
        settings: Settings,
        secrets: Secrets,
    ) -> Self {
        let window = std::time::Duration::from_secs(settings.api_auth.window_secs);
        let login_window = std::time::Duration::from_secs(settings.login.window_secs);
        let inner = Inner {
            api_auth_throttle: Throttle::new(window.as_millis() as i64),
            login_user_throttle: Throttle::new(login_window.as_millis() as i64),
            login_address_throttle: Throttle::new(login_window.as_millis() as i64),
            wake: tokio::sync::Notify::new(),
            delivered: tokio::sync::Notify::new(),
            auth_cache: super::auth::cache::AuthCache::new(
                settings.api_auth.cache_secs as i64 * 1000,
            ),
            worker_id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            provider_override: std::sync::RwLock::new(None),
            db,
            clock,
            settings,
            secrets,
        };
        Self {
            leptos_options,
            inner: Arc::new(inner),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    pub fn wake_workers(&self) {
        // Wake one idle worker task (or leave it a permit when all are busy: the next to finish
        // a pass claims again at once). Waking all of them made every send cost several claims.
        self.inner.wake.notify_one();
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }
}
