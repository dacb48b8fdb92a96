//! Provider instances: the sandbox, the server's default providers, and the providers accounts
//! configured, built from their setups (SMTP connection pools are kept per provider and
//! settings). Tests register their own providers for an account here.
use super::cpaas::{Cpaas, Flavor};
use super::http_gateway::HttpGateway;
use super::sandbox::Sandbox;
use super::smtp::Smtp;
use super::webhook::Webhook;
use super::Provider;
use crate::domain::provider::{ProviderConfig, ProviderSetup, SmtpConfig};
use crate::domain::{AccountSid, Channel, Secret};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// Providers registered for an account: for one channel, or (`None`) for all of them.
type Registered = HashMap<(AccountSid, Option<Channel>), Arc<dyn Provider>>;

/// An SMTP provider built from this name and these settings.
type BuiltSmtp = ((String, SmtpConfig), Arc<dyn Provider>);

pub struct ProviderRegistry {
    sandbox: Arc<dyn Provider>,
    registered: RwLock<Registered>,
    /// Built SMTP providers (their connection pools) by provider sid, with the name and
    /// settings each was built from.
    smtp: Mutex<HashMap<String, BuiltSmtp>>,
    defaults: Vec<ProviderSetup>,
    http: reqwest::Client,
    /// A PEM certificate trusted besides the public roots (an on-premises CA).
    extra_root: Option<Vec<u8>>,
    /// How long a provider call may take.
    timeout: std::time::Duration,
    /// Providers may connect to loopback, private and link-local addresses (SMTP; the HTTP
    /// client carries its own guard).
    allow_private: bool,
    /// Accounts' providers (with their parent's), read recently.
    setups: Mutex<HashMap<AccountSid, ReadSetups>>,
}

/// An account's providers and when they were read.
type ReadSetups = (std::time::Instant, Arc<Vec<ProviderSetup>>);

/// How long an account's providers are read from memory before the database is asked again
/// (changes through another instance take effect within it).
const SETUPS_FOR: std::time::Duration = std::time::Duration::from_secs(5);

impl ProviderRegistry {
    pub fn new(
        http: reqwest::Client,
        defaults: Vec<ProviderSetup>,
        extra_root: Option<Vec<u8>>,
        timeout: std::time::Duration,
        allow_private: bool,
    ) -> Self {
        Self {
            sandbox: Arc::new(Sandbox),
            registered: RwLock::new(HashMap::new()),
            smtp: Mutex::new(HashMap::new()),
            defaults,
            http,
            extra_root,
            timeout,
            allow_private,
            setups: Mutex::new(HashMap::new()),
        }
    }

    /// An account's providers read less than a few seconds ago.
    pub fn cached_setups(&self, account: &AccountSid) -> Option<Arc<Vec<ProviderSetup>>> {
        let setups = self.setups.lock().unwrap_or_else(|e| e.into_inner());
        setups
            .get(account)
            .filter(|(at, _)| at.elapsed() < SETUPS_FOR)
            .map(|(_, s)| s.clone())
    }

    pub fn cache_setups(&self, account: &AccountSid, setups: Arc<Vec<ProviderSetup>>) {
        let mut all = self.setups.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() > 10_000 {
            all.clear();
        }
        all.insert(account.clone(), (std::time::Instant::now(), setups));
    }

    /// A provider changed: read every account's providers afresh (sub-accounts inherit theirs).
    pub fn forget_setups(&self) {
        self.setups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn sandbox(&self) -> Arc<dyn Provider> {
        self.sandbox.clone()
    }

    /// The operator's default providers.
    pub fn defaults(&self) -> &[ProviderSetup] {
        &self.defaults
    }

    /// A provider registered for an account's channel (tests), if any.
    pub fn registered(&self, account: &AccountSid, channel: Channel) -> Option<Arc<dyn Provider>> {
        let registered = self.registered.read().unwrap_or_else(|e| e.into_inner());
        registered
            .get(&(account.clone(), Some(channel)))
            .or_else(|| registered.get(&(account.clone(), None)))
            .cloned()
    }

    /// Delivers an account's channel (`None`: every channel) through `provider` from now on.
    pub fn register(
        &self,
        account: &AccountSid,
        channel: Option<Channel>,
        provider: Arc<dyn Provider>,
    ) {
        self.registered
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert((account.clone(), channel), provider);
    }

    /// The provider a setup describes. A webhook signs with the account's `secret`.
    pub fn instance(
        &self,
        setup: &ProviderSetup,
        secret: Option<&Secret>,
    ) -> Result<Arc<dyn Provider>, String> {
        let name = setup.name.clone();
        let http = self.http.clone();
        let timeout = self.timeout;
        Ok(match &setup.config {
            ProviderConfig::Sandbox => self.sandbox(),
            ProviderConfig::Twilio(c) => Arc::new(Cpaas {
                flavor: Flavor::Twilio,
                name,
                config: c.clone(),
                http,
                timeout,
            }),
            ProviderConfig::Restcomm(c) => Arc::new(Cpaas {
                flavor: Flavor::Restcomm,
                name,
                config: c.clone(),
                http,
                timeout,
            }),
            ProviderConfig::Http(c) => Arc::new(HttpGateway {
                name,
                config: c.clone(),
                http,
                timeout,
            }),
            ProviderConfig::Webhook(c) => Arc::new(Webhook {
                name,
                config: c.clone(),
                secret: secret.cloned().unwrap_or_default(),
                http,
                timeout,
            }),
            ProviderConfig::Smtp(c) => {
                // Rebuilt whenever what it was built from changed: a change's timestamp is no
                // version (two changes within a millisecond share one).
                let mut built = self.smtp.lock().unwrap_or_else(|e| e.into_inner());
                let key = setup.sid.to_string();
                let from = (name, c.clone());
                match built.get(&key) {
                    Some((built_from, p)) if *built_from == from => p.clone(),
                    _ => {
                        let p: Arc<dyn Provider> = Arc::new(Smtp::new(
                            from.0.clone(),
                            c.clone(),
                            self.extra_root.as_deref(),
                            self.allow_private,
                            timeout,
                        )?);
                        built.insert(key, (from, p.clone()));
                        p
                    }
                }
            }
        })
    }
}
