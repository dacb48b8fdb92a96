//! The OTP use cases: send, verify, cancel, expire; the session detail record, search and the
//! sandbox outbox. Typed commands in, domain results or an [`OtpError`] out; every status
//! change is a transition the database's OTP store applies.
pub mod cancel;
pub mod detail;
pub mod error;
pub mod expire;
pub mod fraud;
pub mod outbox;
pub mod progress;
pub mod protection;
pub mod receipts;
pub mod search;
pub mod send;
pub mod verify;
pub mod voice;

pub use error::{OtpError, OtpField, OtpResult};

use crate::server::clock::{Clock, Millis};
use crate::server::db::Db;
use crate::server::services::settings::ServerCountries;
use crate::server::signals::Signals;
use std::sync::Arc;

/// What the OTP use cases work with: the database, the clock, the key of the codes' HMACs and
/// seals, and the in-process wake-ups. Built once at start.
#[derive(Clone)]
pub struct OtpService {
    db: Db,
    clock: Arc<dyn Clock>,
    code_key: Arc<Vec<u8>>,
    signals: Arc<Signals>,
    /// The operator's allowed countries for accounts that set none.
    server_countries: Arc<ServerCountries>,
    /// Which providers deliver an account's channels (the fraud guard's mode follows them).
    providers: Option<Arc<crate::server::providers::ProviderRegistry>>,
}

impl OtpService {
    pub fn new(db: Db, clock: Arc<dyn Clock>, code_key: Vec<u8>, signals: Arc<Signals>) -> Self {
        Self {
            db,
            clock,
            code_key: Arc::new(code_key),
            signals,
            server_countries: Arc::default(),
            providers: None,
        }
    }

    /// With the operator's allowed countries for accounts that set none.
    pub fn with_server_countries(mut self, countries: ServerCountries) -> Self {
        self.server_countries = Arc::new(countries);
        self
    }

    /// With the providers that deliver accounts' channels.
    pub fn with_providers(
        mut self,
        providers: Arc<crate::server::providers::ProviderRegistry>,
    ) -> Self {
        self.providers = Some(providers);
        self
    }

    /// Does the account deliver `channel` through the sandbox (always so without providers)?
    pub async fn uses_sandbox(
        &self,
        account: &crate::domain::AccountSid,
        channel: crate::domain::Channel,
    ) -> anyhow::Result<bool> {
        match &self.providers {
            None => Ok(true),
            Some(p) => {
                crate::server::services::providers::uses_sandbox(
                    &self.db,
                    &self.code_key,
                    p,
                    account,
                    channel,
                )
                .await
            }
        }
    }

    pub fn server_countries(&self) -> &ServerCountries {
        &self.server_countries
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    /// The key of the codes' HMACs and seals.
    pub(crate) fn code_key(&self) -> &[u8] {
        &self.code_key
    }

    pub fn signals(&self) -> &Signals {
        &self.signals
    }
}
