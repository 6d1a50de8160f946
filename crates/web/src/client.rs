//! Where a request comes from. The peer's address is the client's, unless the peer is a proxy the
//! operator trusts (`serve --trusted-proxy CIDR`): then the client is the last address in
//! `Forwarded` (RFC 7239) or `X-Forwarded-For` that is not itself a trusted proxy. Headers from an
//! untrusted peer are ignored, so no client can choose the address its limits and its audit rows
//! are kept under.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::extract::connect_info::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::AppState;

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    /// Parses CIDRs (`10.0.0.0/8`, `::1/128`) or single addresses (`127.0.0.1`).
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<Self, String> {
        Self::parse_option("--trusted-proxy", list)
    }

    /// [`Self::parse`] for the command-line option `option` (named in the error).
    pub fn parse_option<S: AsRef<str>>(option: &str, list: &[S]) -> Result<Self, String> {
        let mut nets = Vec::with_capacity(list.len());
        for item in list {
            let item = item.as_ref().trim();
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{option} {item:?} is not an address or a CIDR"))?;
            nets.push(net);
        }
        Ok(Self(Arc::new(nets)))
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        let ip = canonical(*ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client's address, given the peer's address and the request's headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(&peer) {
            return peer;
        }
        let hops = forwarded_for(headers);
        // From the nearest hop outward: the first address that is not a trusted proxy is the
        // client. An unreadable hop ends the walk at the last address vouched for.
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) => {
                    client = canonical(*ip);
                    if !self.contains(&client) {
                        return client;
                    }
                }
                None => return client,
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) count as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The forwarding chain, client first: `Forwarded`'s `for=` values when that header is present,
/// otherwise `X-Forwarded-For`. `None` marks a hop that is not an address (`unknown`, an
/// obfuscated identifier, garbage).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node_addr(v.trim().trim_matches('"')))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| node_addr(v.trim()))
        .collect()
}

/// An address from a forwarding header: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711` or a bare IPv6 address.
fn node_addr(v: &str) -> Option<IpAddr> {
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = v.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    v.strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

/// The client's address, as [`TrustedProxies::client`] decides it; `None` only when the server
/// was not started with connection info (in-process tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    pub fn of(parts: &Parts, trusted: &TrustedProxies) -> Self {
        Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| trusted.client(c.0.ip(), &parts.headers)),
        )
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, &state.trusted_proxies))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            if let Ok(v) = v.parse() {
                h.append(*k, v);
            }
        }
        h
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let t = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap_or_default();
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(t.client(ip("198.51.100.7"), &h), ip("198.51.100.7"));
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.2"), &h), ip("10.0.0.2"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let t = TrustedProxies::parse(&["10.0.0.0/8", "127.0.0.1"]).unwrap_or_default();
        // The client may prepend anything; only the hop the trusted proxy added counts.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.5")]);
        assert_eq!(t.client(ip("10.0.0.2"), &h), ip("203.0.113.9"));
        let h = headers(&[(
            "forwarded",
            "for=1.2.3.4, for=\"[2001:db8::17]:4711\";proto=https",
        )]);
        assert_eq!(t.client(ip("127.0.0.1"), &h), ip("2001:db8::17"));
        // Forwarded wins over X-Forwarded-For when both are present.
        let h = headers(&[
            ("forwarded", "for=192.0.2.60:443"),
            ("x-forwarded-for", "192.0.2.61"),
        ]);
        assert_eq!(t.client(ip("10.1.1.1"), &h), ip("192.0.2.60"));
        // No header: the proxy itself.
        assert_eq!(t.client(ip("10.1.1.1"), &HeaderMap::new()), ip("10.1.1.1"));
        // An unreadable hop stops at the last vouched-for address.
        let h = headers(&[("x-forwarded-for", "203.0.113.9, garbage")]);
        assert_eq!(t.client(ip("10.1.1.1"), &h), ip("10.1.1.1"));
        // IPv4-mapped peers count as IPv4.
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(t.client(ip("::ffff:10.0.0.2"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn a_bad_cidr_is_named() {
        let e = TrustedProxies::parse(&["10.0.0.0/33"])
            .err()
            .unwrap_or_default();
        assert!(e.contains("10.0.0.0/33"), "{e}");
    }
}
