//! The client address used for throttling and the audit log.
//!
//! - By default: the peer address of the connection.
//! - `trust_forwarded_for = true`: the last `X-Forwarded-For` entry, read across every header
//!   line in order (a proxy may add a line of its own instead of appending to the first), i.e.
//!   the address the proxy directly in front of us appended. Only for servers that nothing but
//!   that proxy can reach: any peer is believed.
//! - `trust_forwarded_for = true` with `trusted_proxies`: the header is believed only when the
//!   peer is one of them; walking the entries from the last one leftwards, every address that
//!   is itself a trusted proxy is skipped and the first other one is the client (when all are
//!   trusted, the first entry).
use crate::server::config::Settings;
use axum::extract::ConnectInfo;
use http::request::Parts;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

/// The client address, as described in the module documentation.
pub fn client_addr(parts: &Parts, settings: &Settings) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    from_forwarded(parts, settings, peer)
        .or(peer)
        .map(|ip| canonical(ip).to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn from_forwarded(parts: &Parts, settings: &Settings, peer: Option<IpAddr>) -> Option<IpAddr> {
    if !settings.trust_forwarded_for {
        return None;
    }
    let proxies = &settings.trusted_proxies;
    if !proxies.is_empty() && !peer.is_some_and(|p| proxies.iter().any(|c| c.contains(p))) {
        return None;
    }
    // Every entry of every line, in order; an unreadable line or entry ends the trust there.
    let mut hops: Vec<Option<IpAddr>> = Vec::new();
    for line in parts.headers.get_all("x-forwarded-for") {
        match line.to_str() {
            Ok(text) => hops.extend(text.split(',').map(parse_hop)),
            Err(_) => hops.push(None),
        }
    }
    if proxies.is_empty() {
        return hops.pop().flatten();
    }
    let mut client = None;
    for hop in hops.iter().rev() {
        let ip = (*hop)?;
        client = Some(ip);
        if !proxies.iter().any(|c| c.contains(ip)) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<IpAddr>()
        .ok()
        .or_else(|| raw.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            raw.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse().ok())
        })
}

/// IPv4-mapped IPv6 addresses count as their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// An address or network (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`) in `trusted_proxies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpCidr {
    addr: IpAddr,
    prefix: u8,
}

impl IpCidr {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = || format!("{text:?} is not an IP address or network like 10.0.0.0/8");
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
            if prefix == 0 {
                0
            } else {
                bits >> (width - prefix)
            }
        }
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(net.into(), self.prefix, 128) == masked(ip.into(), self.prefix, 128)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpCidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for IpCidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpCidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        IpCidr::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, lines: &[&str]) -> Parts {
        let mut req = http::Request::builder();
        for line in lines {
            req = req.header("x-forwarded-for", *line);
        }
        let (mut parts, _) = req.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 4000)));
        parts
    }

    fn settings(trust: bool, proxies: &[&str]) -> Settings {
        Settings {
            trust_forwarded_for: trust,
            trusted_proxies: proxies.iter().map(|p| IpCidr::parse(p).unwrap()).collect(),
            ..Settings::default()
        }
    }

    #[test]
    fn the_peer_unless_forwarded_for_is_trusted() {
        let p = parts("10.0.0.2", &["198.51.100.1"]);
        assert_eq!(client_addr(&p, &settings(false, &[])), "10.0.0.2");
        assert_eq!(client_addr(&p, &settings(true, &[])), "198.51.100.1");
    }

    /// A client's own `X-Forwarded-For` line comes first; the proxy adds its line after it.
    #[test]
    fn the_last_hop_across_every_header_line() {
        let p = parts("10.0.0.2", &["1.1.1.1, 2.2.2.2", "203.0.113.9"]);
        assert_eq!(client_addr(&p, &settings(true, &[])), "203.0.113.9");
        let p = parts("10.0.0.2", &["1.1.1.1", "203.0.113.9, [2001:db8::1]:443"]);
        assert_eq!(client_addr(&p, &settings(true, &[])), "2001:db8::1");
        // A last entry that is not an address: the peer.
        let p = parts("10.0.0.2", &["1.1.1.1", "unknown"]);
        assert_eq!(client_addr(&p, &settings(true, &[])), "10.0.0.2");
    }

    #[test]
    fn trusted_proxies_are_skipped_from_the_right() {
        let s = settings(true, &["10.0.0.0/8", "192.0.2.7"]);
        // Through two of our proxies: the first address left of them is the client.
        let p = parts("10.0.0.2", &["6.6.6.6, 203.0.113.9", "192.0.2.7"]);
        assert_eq!(client_addr(&p, &s), "203.0.113.9");
        // From a peer that is not a trusted proxy: the header is ignored.
        let p = parts("198.51.100.20", &["203.0.113.9"]);
        assert_eq!(client_addr(&p, &s), "198.51.100.20");
        // Every hop trusted: the first one.
        let p = parts("10.0.0.2", &["10.1.1.1, 10.2.2.2"]);
        assert_eq!(client_addr(&p, &s), "10.1.1.1");
        // IPv4-mapped peers count as IPv4.
        let p = parts("::ffff:10.0.0.2", &["203.0.113.9"]);
        assert_eq!(client_addr(&p, &s), "203.0.113.9");
    }

    #[test]
    fn networks_parse_and_match() {
        let net = IpCidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.255.1.2".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        let v6 = IpCidr::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(IpCidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "example.com", "10.0.0.0/x", ""] {
            assert!(IpCidr::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            IpCidr::parse("192.0.2.7").unwrap().to_string(),
            "192.0.2.7/32"
        );
    }
}
