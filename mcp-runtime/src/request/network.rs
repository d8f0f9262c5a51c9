//! The network a client's address stands for, wherever callers are told apart by address.

use std::net::IpAddr;

use ipnet::Ipv6Net;

/// The network `ip` stands for when clients are told apart by address (anonymous budgets, the
/// failed-authentication throttle): an IPv4 address is itself (IPv4-mapped IPv6 too), an IPv6 address
/// stands for its /64, since one host is commonly given a whole /64 and could otherwise take a fresh
/// address, and a fresh budget, for every request.
pub(crate) fn client_network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Net::new_assert(v6, 64).network()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_stand_for_their_64() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(client_network(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_network(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), ip("2001:db8:1:2::"));
        assert_ne!(client_network(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_network(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_network(ip("192.0.2.7")), ip("192.0.2.7"));
    }
}
