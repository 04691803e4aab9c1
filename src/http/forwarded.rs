//! The browser's address for per-address throttling. Behind a proxy or load balancer every
//! request comes from the proxy, so one address would stand for all users; when the peer is a
//! trusted proxy, the client is the last address its `X-Forwarded-For` chain names before the
//! trusted hops (the entries to the left of that are the client's own word and are ignored).
//!
//! Configured with `--trusted-proxy` (docs/configuration.md, "Flags and environment").

use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The address to throttle: `peer`, or, when `peer` is in `trusted`, the right-most address of
/// `forwarded_for` (every `X-Forwarded-For` header, in order) that is not itself trusted.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpNet]) -> IpAddr {
    // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`; ranges are written as IPv4.
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&ip.to_canonical()));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let hops = forwarded_for.iter().flat_map(|h| h.split(',')).rev();
    for hop in hops {
        // A hop that cannot be read was not written by a trusted proxy: stop at the last one.
        let Some(ip) = parse_hop(hop.trim()) else {
            break;
        };
        client = ip.to_canonical();
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// `192.0.2.1`, `2001:db8::1`, or either with a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// A proxy given on the command line: an address or a CIDR range.
pub fn parse_trusted(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not an IP address or CIDR range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| parse_trusted(s).unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("198.51.100.9"), &["203.0.113.7"], &trusted),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &["203.0.113.7"], &[]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn the_client_is_the_last_hop_before_the_trusted_ones() {
        let trusted = nets(&["10.0.0.0/8", "192.0.2.1"]);
        // The client claims 1.2.3.4; the first proxy saw 203.0.113.7; a second proxy is trusted.
        let chain = ["1.2.3.4, 203.0.113.7", "192.0.2.1"];
        assert_eq!(
            client_address(ip("10.0.0.2"), &chain, &trusted),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &["[2001:db8::5]:443"], &trusted),
            ip("2001:db8::5")
        );
        assert_eq!(
            client_address(ip("::ffff:10.0.0.2"), &["203.0.113.7"], &trusted),
            ip("203.0.113.7"),
            "an IPv4-mapped peer is its IPv4 address"
        );
    }

    #[test]
    fn garbage_or_no_header_leaves_the_last_trusted_hop() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &[], &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &["203.0.113.7, nonsense, 10.1.1.1"],
                &trusted
            ),
            ip("10.1.1.1")
        );
        assert!(parse_trusted("10.0.0.0/33").is_err());
        assert!(parse_trusted("example.com").is_err());
    }
}
