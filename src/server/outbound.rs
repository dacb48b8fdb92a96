//! Connections this service makes to addresses others gave it (status callbacks, provider APIs,
//! gateways, webhooks, SMTP servers): one shared HTTP client, built once at start and handed to
//! whoever connects out, and one guard. A tenant must not make us reach loopback, private,
//! link-local, unique-local or unspecified addresses (an internal port scanner): such URLs are
//! refused when written, and again when connecting (the client's resolver drops such addresses,
//! so a name that resolves differently later — DNS rebinding — still cannot get through). The
//! operator setting `allow_private_outbound` lifts this for on-premises targets and tests.
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_private: bool,
}

/// Why an address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("must be an http(s) URL with a host")]
    NotAUrl,
    #[error("points at a private, loopback or link-local address ({0}); this server does not connect there")]
    Private(IpAddr),
    #[error("names a host that does not resolve ({0})")]
    Unresolvable(String),
}

/// Is this an address a tenant must not make us connect to?
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let [b0, b1, ..] = a.octets();
            a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || b0 == 0
                // Carrier-grade NAT 100.64.0.0/10.
                || (b0 == 100 && (64..128).contains(&b1))
        }
        IpAddr::V6(a) => {
            let first = a.segments()[0];
            a.is_loopback()
                || a.is_unspecified()
                // Unique-local fc00::/7 and link-local fe80::/10.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || a.to_ipv4_mapped().is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// The client's resolver: the addresses of a name, without the internal ones.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                all.into_iter().filter(|a| !is_internal(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves only to internal addresses").into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

impl Outbound {
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("smart2fa/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            client: builder.build()?,
            allow_private,
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// May we connect to this host (and port)? Literal addresses are judged as they are; names
    /// are resolved, and every address they resolve to must be public.
    pub async fn check_host(&self, host: &str, port: u16) -> Result<(), Refused> {
        if self.allow_private {
            return Ok(());
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return if is_internal(ip) {
                Err(Refused::Private(ip))
            } else {
                Ok(())
            };
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|_| Refused::Unresolvable(bare.to_owned()))?
            .collect();
        if addrs.is_empty() {
            return Err(Refused::Unresolvable(bare.to_owned()));
        }
        match addrs.iter().find(|a| is_internal(a.ip())) {
            Some(a) => Err(Refused::Private(a.ip())),
            None => Ok(()),
        }
    }

    /// May we connect to this http(s) URL?
    pub async fn check_url(&self, url: &str) -> Result<(), Refused> {
        let parsed = reqwest::Url::parse(url).map_err(|_| Refused::NotAUrl)?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Refused::NotAUrl);
        }
        let host = parsed.host_str().ok_or(Refused::NotAUrl)?;
        let port = parsed.port_or_known_default().unwrap_or(443);
        self.check_host(host, port).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn urls_to_internal_hosts_are_refused_unless_allowed() {
        let guarded = Outbound::new(false).unwrap();
        assert_eq!(
            guarded.check_url("http://127.0.0.1:3000/healthz").await,
            Err(Refused::Private("127.0.0.1".parse().unwrap()))
        );
        assert!(matches!(
            guarded.check_url("http://localhost/x").await,
            Err(Refused::Private(_))
        ));
        assert!(matches!(
            guarded.check_url("http://[::ffff:10.0.0.1]/").await,
            Err(Refused::Private(_))
        ));
        assert_eq!(
            guarded.check_url("ftp://example.com").await,
            Err(Refused::NotAUrl)
        );
        assert_eq!(guarded.check_url("https://93.184.216.34/").await, Ok(()));
        let open = Outbound::new(true).unwrap();
        assert_eq!(open.check_url("http://127.0.0.1:3000/").await, Ok(()));
    }

    #[tokio::test]
    async fn the_client_will_not_connect_to_internal_addresses() {
        // A name that resolves to loopback: the resolver leaves nothing to connect to.
        let guarded = Outbound::new(false).unwrap();
        let err = guarded
            .client()
            .get("http://localhost:9/")
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect() || err.is_request(), "{err:?}");
    }
}
