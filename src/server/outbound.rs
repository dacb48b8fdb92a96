//! Connections this service makes to addresses others gave it (status callbacks now; provider
//! APIs and webhooks next): one shared HTTP client, built once at start and handed to whoever
//! connects out.
use std::time::Duration;

#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
}

impl Outbound {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("smart2fa/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}
