//! Which provider delivers an account's channel. Every account uses the sandbox until another
//! provider is configured. Tests register their own providers for an account here.
use super::sandbox::Sandbox;
use super::Provider;
use crate::domain::{AccountSid, Channel};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Providers registered for an account: for one channel, or (`None`) for all of them.
type Registered = HashMap<(AccountSid, Option<Channel>), Arc<dyn Provider>>;

pub struct ProviderRegistry {
    default: Arc<dyn Provider>,
    registered: RwLock<Registered>,
}

impl Default for ProviderRegistry {
    fn default() -> Self {
        Self {
            default: Arc::new(Sandbox),
            registered: RwLock::new(HashMap::new()),
        }
    }
}

impl ProviderRegistry {
    /// The provider for an account's channel.
    pub fn resolve(&self, account: &AccountSid, channel: Channel) -> Arc<dyn Provider> {
        let registered = self.registered.read().unwrap_or_else(|e| e.into_inner());
        registered
            .get(&(account.clone(), Some(channel)))
            .or_else(|| registered.get(&(account.clone(), None)))
            .cloned()
            .unwrap_or_else(|| self.default.clone())
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
}
