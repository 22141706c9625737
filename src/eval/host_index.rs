//! The host questions every packet asks, answered from tables built once: is an address
//! the host's, which interface leads back to a source (named in the record's `path`), and
//! which route a destination takes.
//! [`Host`]'s own methods scan its interfaces and routes each time, which cost more per
//! packet than conntrack's hash probe.

use super::host::{Host, LOOPBACK, LO_ADDR};
use crate::ir::addr::Ipv4Net;

/// [`Host::is_local`] and the `path` [`Host::ingress`] gives, over precomputed tables.
#[derive(Debug, Clone)]
pub struct HostIndex {
    /// The interfaces' addresses other than lo's, sorted.
    local: Vec<u32>,
    /// Some interface holds lo's 127.0.0.1/8, so all of 127/8 is local.
    loopback: bool,
    /// The routes, in the order [`Host::ingress`] prefers them: longest prefix first, and
    /// among prefixes of one length the one listed last (the one `max_by_key` returns); each
    /// with the `path` text of packets arriving on its device and its index in
    /// [`Host::routes`].
    routes: Vec<(Ipv4Net, &'static str, usize)>,
}

/// Up to this many local addresses, [`HostIndex::is_local`] scans them.
const SCANNED: usize = 8;

/// A record's `path` for a packet from the wire that arrives on `dev`.
fn wire_path(dev: &str) -> &'static str {
    match dev {
        "eth1" => "wire-in:eth1",
        "eth0" => "wire-in:eth0",
        _ => "wire-in",
    }
}

impl HostIndex {
    pub fn new(host: &Host) -> HostIndex {
        let addrs = host.interfaces.iter().flat_map(|i| &i.addrs);
        let mut local: Vec<u32> = addrs
            .clone()
            .filter(|a| **a != LO_ADDR)
            .map(|a| a.addr)
            .collect();
        local.sort_unstable();
        local.dedup();
        let mut routes: Vec<(usize, Ipv4Net, &'static str)> = host
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.dest, wire_path(&r.dev)))
            .collect();
        routes.sort_by_key(|(i, net, _)| std::cmp::Reverse((net.mask.count_ones(), *i)));
        HostIndex {
            local,
            loopback: addrs.clone().any(|a| *a == LO_ADDR),
            routes: routes
                .into_iter()
                .map(|(i, net, path)| (net, path, i))
                .collect(),
        }
    }

    /// [`Host::is_local`].
    pub fn is_local(&self, ip: u32) -> bool {
        // Asked twice for every packet, of a host that has a handful of addresses: a scan
        // of a few is cheaper than a binary search's loop; many are searched.
        let listed = if self.local.len() <= SCANNED {
            self.local.contains(&ip)
        } else {
            self.local.binary_search(&ip).is_ok()
        };
        listed || (self.loopback && LOOPBACK.contains(ip))
    }

    /// The `path` text of a packet from `src` that comes from the wire: it names the
    /// interface the packet arrives on ([`Host::ingress`]).
    pub fn wire_path(&self, src: u32) -> &'static str {
        self.routes
            .iter()
            .find(|(net, _, _)| net.contains(src))
            .map_or(wire_path("eth0"), |(_, path, _)| path)
    }

    /// The route [`Host::route`] and [`Host::ingress`] pick for `addr`: the first
    /// in preference order that contains it.
    fn route_of<'h>(&self, host: &'h Host, addr: u32) -> Option<&'h str> {
        let (_, _, i) = self.routes.iter().find(|(net, _, _)| net.contains(addr))?;
        host.routes.get(*i).map(|r| r.dev.as_str())
    }

    /// [`Host::ingress`] of `host` (the one this index was made of).
    pub fn ingress<'h>(&self, host: &'h Host, src: u32) -> &'h str {
        self.route_of(host, src).unwrap_or("eth0")
    }

    /// [`Host::route`] of `host` (the one this index was made of).
    pub fn route<'h>(&self, host: &'h Host, dst: u32) -> Option<&'h str> {
        if self.is_local(dst) {
            return Some("lo");
        }
        self.route_of(host, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::host::{IfAddr, Interface, Route};
    use std::net::Ipv4Addr;

    /// Addresses around every address, network and boundary the host names.
    fn probes(host: &Host) -> Vec<u32> {
        let mut out = vec![0, 1, u32::MAX, 0x7f00_0001, 0x7fff_ffff, 0x8000_0000];
        let nets = host
            .routes
            .iter()
            .map(|r| (r.dest.addr, r.dest.mask))
            .chain(
                host.interfaces
                    .iter()
                    .flat_map(|i| &i.addrs)
                    .map(|a| (a.addr, a.mask)),
            );
        for (addr, mask) in nets {
            for a in [addr, addr | !mask] {
                out.extend([a.wrapping_sub(1), a, a.wrapping_add(1)]);
            }
        }
        out
    }

    fn same_answers(host: &Host) {
        let index = HostIndex::new(host);
        for ip in probes(host) {
            assert_eq!(index.is_local(ip), host.is_local(ip), "is_local {ip:#x}");
            assert_eq!(index.wire_path(ip), wire_path(host.ingress(ip)), "{ip:#x}");
            assert_eq!(index.ingress(host, ip), host.ingress(ip), "ingress {ip:#x}");
            assert_eq!(index.route(host, ip), host.route(ip), "route {ip:#x}");
        }
    }

    #[test]
    fn answers_like_the_host() {
        let lan = [
            Ipv4Net::new(0x0a01_0000, 0xffff_0000),
            Ipv4Net::new(0x0a00_0000, 0xff00_0000),
        ];
        same_answers(&Host::oracle(&[], &[]));
        // More addresses than are scanned: binary search.
        let many: Vec<Ipv4Addr> = (1..=SCANNED as u8 + 4)
            .map(|i| Ipv4Addr::new(192, 0, 2, i * 3))
            .collect();
        same_answers(&Host::oracle(&many, &lan));
        same_answers(&Host::oracle(&[Ipv4Addr::new(192, 0, 2, 1)], &lan));
        same_answers(&Host::oracle(
            &[Ipv4Addr::new(10, 1, 0, 1), Ipv4Addr::new(127, 0, 0, 9)],
            &lan[..1],
        ));
        // Overlapping routes of one length on two devices: the later one wins, as in
        // `Host::ingress`; a host without lo has no 127/8.
        let two = |name: &str, addr| Interface {
            name: name.into(),
            addrs: vec![IfAddr {
                addr,
                mask: u32::MAX,
            }],
            mac: [2, 0, 0, 0, 0, 1],
            peer_mac: None,
        };
        let host = Host {
            interfaces: vec![two("eth0", 0x0a00_0001), two("eth1", 0x0a00_0002)],
            routes: vec![
                Route {
                    dest: Ipv4Net::new(0x0a00_0000, 0xffff_0000),
                    dev: "eth0".into(),
                },
                Route {
                    dest: Ipv4Net::new(0x0a00_0000, 0xffff_0000),
                    dev: "eth1".into(),
                },
                Route {
                    dest: Ipv4Net::new(0x0a00_0000, 0xff00_0000),
                    dev: "eth9".into(),
                },
            ],
        };
        same_answers(&host);
        assert_eq!(host.ingress(0x0a00_0505), "eth1");
        assert_eq!(HostIndex::new(&host).wire_path(0x0a00_0505), "wire-in:eth1");
        assert!(!HostIndex::new(&host).is_local(0x7f00_0001));
    }
}
