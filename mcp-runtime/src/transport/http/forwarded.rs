//! Who the client is behind trusted proxies: `X-Forwarded-For`, read from the nearest hop outwards.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address: the peer's, or, when the peer is a trusted proxy, the hop of `X-Forwarded-For`
/// the trusted proxies vouch for.
///
/// The hops (every `X-Forwarded-For` header, in order) are walked from the nearest: trusted proxies are
/// passed, and the first hop that is not one is the client. A hop is read as an address with or without a
/// port (`192.0.2.7:4711`, `[2001:db8::7]:443`, `2001:db8::7`). A hop that is not an address (`unknown`,
/// an obfuscated name, garbage) is not a trusted proxy either, so the walk stops there; and since it names
/// no one, the client is the peer: nothing left of it can be believed, because a trusted proxy vouches only
/// for the hop it appended, and the hops a client sends are appended to. When every hop is a trusted proxy,
/// the farthest is the client.
pub(super) fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| in_network(ip, net));
    if !is_trusted(peer) {
        return peer;
    }
    let values = headers.get_all("x-forwarded-for").iter();
    // A value that is not text is one unreadable hop, not a hop to skip.
    let hops: Vec<Option<IpAddr>> =
        values.flat_map(|v| v.to_str().map_or_else(|_| vec![None], |v| v.split(',').map(hop).collect())).collect();
    let mut farthest = None;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if is_trusted(*ip) => farthest = Some(*ip),
            Some(ip) => return *ip,
            None => return peer,
        }
    }
    farthest.unwrap_or(peer)
}

/// One `X-Forwarded-For` hop as an address: bare, `v4:port`, `[v6]` or `[v6]:port`; `None` otherwise.
fn hop(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    let port = |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let ok = after.is_empty() || after.strip_prefix(':').is_some_and(port);
        return ok.then(|| v6.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)).flatten();
    }
    let (v4, p) = text.split_once(':')?;
    port(p).then(|| v4.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)).flatten()
}

/// Whether `ip` is in `net`; an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack socket
/// reports) is in the IPv4 networks its IPv4 address is in.
fn in_network(ip: IpAddr, net: &IpNet) -> bool {
    match (ip, net) {
        (IpAddr::V6(v6), IpNet::V4(v4net)) => v6.to_ipv4_mapped().is_some_and(|v4| v4net.contains(&v4)),
        _ => net.contains(&ip),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_client_address_comes_from_trusted_proxies_only() {
        let trusted = vec![crate::config::parse_cidr("10.0.0.0/8").unwrap(), crate::config::parse_cidr("::1").unwrap()];
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 198.51.100.7, 10.1.2.3"));
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(client_address(ip("10.0.0.1"), &h, &trusted), ip("198.51.100.7"), "the last untrusted hop");
        assert_eq!(
            client_address(ip("192.0.2.1"), &h, &trusted),
            ip("192.0.2.1"),
            "an untrusted peer is believed only itself"
        );
        assert_eq!(client_address(ip("::1"), &HeaderMap::new(), &trusted), ip("::1"));
        let net = |s: &str| crate::config::parse_cidr(s).unwrap();
        assert!(in_network(ip("::ffff:10.9.9.9"), &net("10.0.0.0/8")));
        assert!(!in_network(ip("11.0.0.1"), &net("10.0.0.0/8")));
        assert!(in_network(ip("10.200.0.1"), &net("10.1.2.3/8")), "host bits in the block are ignored");
        assert!(!in_network(ip("10.9.9.9"), &net("::ffff:10.0.0.0/104")), "an IPv4 address is not in IPv6 blocks");
        assert!(in_network(ip("2001:db8::1"), &net("::/0")) && !in_network(ip("192.0.2.1"), &net("::/0")));
    }

    #[test]
    fn an_unreadable_forwarded_hop_does_not_promote_the_one_before_it() {
        let trusted = vec![crate::config::parse_cidr("10.0.0.0/8").unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let client = |xff: &[&str]| {
            let mut h = HeaderMap::new();
            for v in xff {
                h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
            }
            client_address(ip("10.0.0.1"), &h, &trusted)
        };
        // The spoofed first hop is what a client sent; the proxy appended the real address with a port.
        assert_eq!(client(&["6.6.6.6, 198.51.100.7:4711"]), ip("198.51.100.7"));
        assert_eq!(client(&["6.6.6.6, [2001:db8::7]:443, 10.2.2.2"]), ip("2001:db8::7"));
        assert_eq!(client(&["6.6.6.6, [2001:db8::7]"]), ip("2001:db8::7"));
        assert_eq!(client(&["6.6.6.6", "198.51.100.7"]), ip("198.51.100.7"), "headers are read in order");
        for unreadable in ["6.6.6.6, unknown", "6.6.6.6, 198.51.100.7:port", "6.6.6.6, [2001:db8::7", "6.6.6.6,"] {
            assert_eq!(client(&[unreadable]), ip("10.0.0.1"), "{unreadable}: the peer, not the spoofed hop");
        }
        assert_eq!(client(&["6.6.6.6, unknown, 10.3.3.3"]), ip("10.0.0.1"));
        assert_eq!(client(&["10.5.5.5, 10.3.3.3"]), ip("10.5.5.5"), "all trusted: the farthest");
        assert_eq!(hop("192.0.2.1:80"), Some(ip("192.0.2.1")));
        assert_eq!(hop("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(hop("192.0.2.1:123456"), None);
        assert_eq!(hop("[192.0.2.1]:80"), None);
    }
}
