//! The host model: which addresses are the host's, which interface a packet
//! arrives on and leaves by, and what the routing decision does with it.
//!
//! The default model is the kernel oracle's (../shared/oracle/README.md):
//! local addresses as /32 on `eth0`, 127.0.0.0/8 on `lo`, the default route
//! via `eth0`, the `--lan` networks via `eth1`. `--host FILE` (TOML) describes
//! other hosts. Routing follows `ip_route_input_slow()` in net/ipv4/route.c
//! for the cases a capture can show: local delivery, limited broadcast,
//! martian sources and destinations, multicast without membership, forwarding.

use crate::ext::facts::{addrtype, HostFacts};
use crate::ir::addr::{self, Ipv4Net};
use serde::Deserialize;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub addrs: Vec<IfAddr>,
    pub mac: [u8; 6],
    /// The neighbour's MAC on this link: the source of frames whose capture carries none
    /// (the oracle's fixed peers, 02:00:00:00:0N:20).
    pub peer_mac: Option<[u8; 6]>,
}

/// An interface address and its prefix mask (the prefix decides the subnet
/// broadcast address; the oracle's /32 addresses have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfAddr {
    pub addr: u32,
    pub mask: u32,
}

impl IfAddr {
    /// Local to this host: the address itself (the whole 127/8 on lo).
    fn is_local(self, a: u32) -> bool {
        if self == LO_ADDR {
            LOOPBACK.contains(a)
        } else {
            a == self.addr
        }
    }

    fn broadcast(self) -> Option<u32> {
        (self.mask.count_ones() < 31).then_some(self.addr | !self.mask)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub dest: Ipv4Net,
    pub dev: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub interfaces: Vec<Interface>,
    pub routes: Vec<Route>,
}

/// What routing does with a packet that arrived from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputRoute<'h> {
    /// To this host: PREROUTING → INPUT.
    Local,
    /// Forward out of `dev`: PREROUTING → FORWARD → POSTROUTING.
    Forward { dev: &'h str },
    /// Dropped by routing after PREROUTING (martian, multicast without
    /// membership, no route).
    Drop(&'static str),
}

pub(super) const LOOPBACK: Ipv4Net = Ipv4Net {
    addr: 0x7f00_0000,
    mask: 0xff00_0000,
};
pub(super) const LO_ADDR: IfAddr = IfAddr {
    addr: 0x7f00_0001,
    mask: 0xff00_0000,
};

impl Host {
    /// The kernel oracle's host: `local` addresses (as /32 on eth0) and the
    /// `lan` networks behind eth1.
    pub fn oracle(local: &[Ipv4Addr], lan: &[Ipv4Net]) -> Host {
        let mut eth0 = Interface {
            name: "eth0".into(),
            addrs: Vec::new(),
            mac: [2, 0, 0, 0, 0, 0x10],
            peer_mac: Some([2, 0, 0, 0, 0, 0x20]),
        };
        for ip in local
            .iter()
            .filter(|ip| !LOOPBACK.contains(u32::from(**ip)))
        {
            eth0.addrs.push(IfAddr {
                addr: u32::from(*ip),
                mask: u32::MAX,
            });
        }
        let lo = Interface {
            name: "lo".into(),
            addrs: vec![LO_ADDR],
            mac: [0; 6],
            peer_mac: None,
        };
        let mut interfaces = vec![lo, eth0];
        let mut routes = vec![Route {
            dest: Ipv4Net::new(0xa9fe_0001, u32::MAX),
            dev: "eth0".into(),
        }];
        if !lan.is_empty() {
            interfaces.push(Interface {
                name: "eth1".into(),
                addrs: Vec::new(),
                mac: [2, 0, 0, 0, 1, 0x10],
                peer_mac: Some([2, 0, 0, 0, 1, 0x20]),
            });
            routes.push(Route {
                dest: Ipv4Net::new(0xa9fe_0101, u32::MAX),
                dev: "eth1".into(),
            });
            routes.extend(lan.iter().map(|n| Route {
                dest: *n,
                dev: "eth1".into(),
            }));
        }
        routes.push(Route {
            dest: Ipv4Net::ANY,
            dev: "eth0".into(),
        });
        Host { interfaces, routes }
    }

    pub fn is_local(&self, ip: u32) -> bool {
        self.interfaces
            .iter()
            .flat_map(|i| &i.addrs)
            .any(|a| a.is_local(ip))
    }

    /// Longest-prefix route for `dst` (local addresses go out by `lo`).
    pub fn route(&self, dst: u32) -> Option<&str> {
        if self.is_local(dst) {
            return Some("lo");
        }
        self.routes
            .iter()
            .filter(|r| r.dest.contains(dst))
            .max_by_key(|r| r.dest.mask.count_ones())
            .map(|r| r.dev.as_str())
    }

    /// The interface a packet from `src` arrives on: the one that leads back
    /// to its source (the oracle injects it on that side).
    pub fn ingress(&self, src: u32) -> &str {
        self.routes
            .iter()
            .filter(|r| r.dest.contains(src))
            .max_by_key(|r| r.dest.mask.count_ones())
            .map_or("eth0", |r| r.dev.as_str())
    }

    /// `ip_route_input_slow` for a packet arriving from the wire.
    pub fn input_route(&self, src: u32, dst: u32) -> InputRoute<'_> {
        self.input_route_with(src, dst, |d| self.route(d))
    }

    /// [`Host::input_route`] with `route` answering [`Host::route`] (from an index).
    pub fn input_route_with<'h>(
        &'h self,
        src: u32,
        dst: u32,
        route: impl FnOnce(u32) -> Option<&'h str>,
    ) -> InputRoute<'h> {
        let is_multicast = |a: u32| a >> 28 == 0xe;
        let zeronet = |a: u32| a >> 24 == 0;
        if dst == u32::MAX || (src == 0 && dst == 0) {
            return InputRoute::Local; // limited broadcast: brd_input
        }
        // Every IPv4 host is a member of 224.0.0.1 (all systems, joined by
        // ip_mc_up on each interface); other groups need a socket to join.
        if dst == 0xe000_0001 {
            return InputRoute::Local;
        }
        if is_multicast(dst) {
            return InputRoute::Drop("multicast destination without group membership");
        }
        if is_multicast(src) || src == u32::MAX || zeronet(src) || LOOPBACK.contains(src) {
            return InputRoute::Drop("martian source");
        }
        if zeronet(dst) || LOOPBACK.contains(dst) {
            return InputRoute::Drop("martian destination");
        }
        if self.addr_type(dst, None) & (addrtype::LOCAL | addrtype::BROADCAST) != 0 {
            return InputRoute::Local;
        }
        match route(dst) {
            Some(dev) => InputRoute::Forward { dev },
            None => InputRoute::Drop("no route to host"),
        }
    }

    /// The Ethernet header a frame arriving on `dev` carries (what LOG prints as `MAC=`):
    /// to the interface's MAC, from the captured source MAC, EtherType IPv4. A capture
    /// without one (other link types), or with a multicast source, gets the neighbour's MAC,
    /// as the oracle injects it; lo's header is all zeros but the EtherType.
    pub fn mac_header(&self, dev: &str, src: Option<[u8; 6]>) -> Option<[u8; 14]> {
        let i = self.interfaces.iter().find(|i| i.name == dev)?;
        let src = match src {
            _ if dev == "lo" => i.mac,
            Some(m) if m[0] & 1 == 0 => m,
            _ => i.peer_mac.unwrap_or([0; 6]),
        };
        let mut h = [0u8; 14];
        h[..6].copy_from_slice(&i.mac);
        h[6..12].copy_from_slice(&src);
        h[12..].copy_from_slice(&[8, 0]);
        Some(h)
    }

    /// Reads `--host FILE`.
    pub fn from_toml(text: &str) -> Result<Host, String> {
        let spec: HostSpec = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut interfaces = vec![Interface {
            name: "lo".into(),
            addrs: vec![LO_ADDR],
            mac: [0; 6],
            peer_mac: None,
        }];
        for i in spec.interface {
            let addrs = i
                .addresses
                .iter()
                .map(|a| parse_ifaddr(a))
                .collect::<Result<Vec<_>, _>>()?;
            let mac = match &i.mac {
                Some(m) => {
                    parse_mac(m).ok_or_else(|| format!("interface {}: bad MAC `{m}`", i.name))?
                }
                None => [2, 0, 0, 0, 0, interfaces.len() as u8],
            };
            interfaces.push(Interface {
                name: i.name,
                addrs,
                mac,
                peer_mac: None,
            });
        }
        let mut routes = Vec::new();
        for r in spec.route {
            let dest = if r.dest == "default" {
                Ipv4Net::ANY
            } else {
                parse_net(&r.dest)?
            };
            if !interfaces.iter().any(|i| i.name == r.dev) {
                return Err(format!("route {}: no interface named `{}`", r.dest, r.dev));
            }
            routes.push(Route { dest, dev: r.dev });
        }
        Ok(Host { interfaces, routes })
    }
}

impl HostFacts for Host {
    /// `__inet_dev_addr_type`: zeronet and 255.255.255.255 are BROADCAST,
    /// 224/4 MULTICAST, then the local table (the host's addresses LOCAL,
    /// subnet broadcast addresses BROADCAST), else UNICAST.
    fn addr_type(&self, a: u32, dev: Option<&str>) -> u16 {
        if a >> 24 == 0 || a == u32::MAX {
            return addrtype::BROADCAST;
        }
        if a >> 28 == 0xe {
            return addrtype::MULTICAST;
        }
        for i in self
            .interfaces
            .iter()
            .filter(|i| dev.is_none_or(|d| d == i.name))
        {
            for n in &i.addrs {
                if n.broadcast() == Some(a) {
                    return addrtype::BROADCAST;
                }
                if n.is_local(a) {
                    return addrtype::LOCAL;
                }
            }
        }
        addrtype::UNICAST
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostSpec {
    #[serde(default)]
    interface: Vec<IfaceSpec>,
    #[serde(default)]
    route: Vec<RouteSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IfaceSpec {
    name: String,
    #[serde(default)]
    addresses: Vec<String>,
    mac: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSpec {
    dest: String,
    dev: String,
}

fn parse_net(s: &str) -> Result<Ipv4Net, String> {
    addr::parse_one(s).map_err(|e| format!("{s}: {e}"))
}

/// `10.0.0.1/24`: the address keeps its host part.
fn parse_ifaddr(s: &str) -> Result<IfAddr, String> {
    let (a, len) = s.split_once('/').unwrap_or((s, "32"));
    let addr: Ipv4Addr = a.parse().map_err(|_| format!("{s}: not an IPv4 address"))?;
    let len: u32 = len
        .parse()
        .ok()
        .filter(|l| *l <= 32)
        .ok_or_else(|| format!("{s}: bad prefix length"))?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Ok(IfAddr {
        addr: u32::from(addr),
        mask,
    })
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<u8> = s
        .split(':')
        .map(|p| u8::from_str_radix(p, 16).ok())
        .collect::<Option<_>>()?;
    parts.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> u32 {
        u32::from(s.parse::<Ipv4Addr>().unwrap())
    }

    fn oracle_host() -> Host {
        Host::oracle(
            &["10.0.0.104".parse().unwrap()],
            &[addr::parse_one("192.168.1.0/24").unwrap()],
        )
    }

    #[test]
    fn oracle_topology() {
        let h = oracle_host();
        assert!(h.is_local(ip("10.0.0.104")) && h.is_local(ip("127.0.0.5")));
        assert!(!h.is_local(ip("10.0.0.105")));
        assert_eq!(h.route(ip("8.8.8.8")), Some("eth0"));
        assert_eq!(h.route(ip("192.168.1.7")), Some("eth1"));
        assert_eq!(h.route(ip("10.0.0.104")), Some("lo"));
        assert_eq!(h.ingress(ip("192.168.1.7")), "eth1");
        assert_eq!(h.ingress(ip("203.0.113.1")), "eth0");
        assert_eq!(
            h.input_route(ip("8.8.8.8"), ip("10.0.0.104")),
            InputRoute::Local
        );
        assert_eq!(
            h.input_route(ip("8.8.8.8"), ip("255.255.255.255")),
            InputRoute::Local
        );
        assert_eq!(
            h.input_route(ip("8.8.8.8"), ip("192.168.1.7")),
            InputRoute::Forward { dev: "eth1" }
        );
        assert!(matches!(
            h.input_route(ip("127.0.0.1"), ip("10.0.0.104")),
            InputRoute::Drop(_)
        ));
        assert!(matches!(
            h.input_route(ip("8.8.8.8"), ip("224.0.0.251")),
            InputRoute::Drop(_)
        ));
    }

    #[test]
    fn addr_types() {
        let h = oracle_host();
        assert_eq!(h.addr_type(ip("10.0.0.104"), None), addrtype::LOCAL);
        assert_eq!(
            h.addr_type(ip("127.255.255.255"), None),
            addrtype::BROADCAST
        );
        assert_eq!(h.addr_type(ip("127.0.0.9"), None), addrtype::LOCAL);
        assert_eq!(h.addr_type(ip("8.8.8.8"), None), addrtype::UNICAST);
        assert_eq!(h.addr_type(ip("239.1.1.1"), None), addrtype::MULTICAST);
    }

    #[test]
    fn toml_host() {
        let h = Host::from_toml(
            "[[interface]]\nname = \"wan\"\naddresses = [\"198.51.100.2/24\"]\n\
             [[route]]\ndest = \"default\"\ndev = \"wan\"\n",
        )
        .unwrap();
        assert!(h.is_local(ip("198.51.100.2")));
        assert_eq!(h.addr_type(ip("198.51.100.255"), None), addrtype::BROADCAST);
        assert_eq!(h.route(ip("1.1.1.1")), Some("wan"));
        assert!(Host::from_toml("[[route]]\ndest = \"default\"\ndev = \"nope\"\n").is_err());
        assert!(Host::from_toml("bogus = 1\n").is_err());
    }
}

/// The oracle's own classification and interfaces, checked on every packet
/// of its kernel-truth scenarios (skipped when ../shared is absent).
#[cfg(test)]
mod oracle_tests {
    use super::*;
    use std::path::PathBuf;

    fn addrs(summary: &str) -> Option<(u32, u32)> {
        let pair = summary.split_whitespace().nth(1)?;
        let (a, b) = pair.split_once('>')?;
        let ip = |s: &str| s.split(':').next()?.parse::<Ipv4Addr>().ok().map(u32::from);
        Some((ip(a)?, ip(b)?))
    }

    #[test]
    fn paths_and_interfaces_agree_with_the_kernel_oracle() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/oracle");
        let Ok(groups) = std::fs::read_dir(&root) else {
            eprintln!("skipped: {} not found", root.display());
            return;
        };
        let mut checked = 0;
        for group in groups
            .flatten()
            .filter(|g| g.file_name().to_string_lossy().starts_with("scenarios"))
        {
            for dir in std::fs::read_dir(group.path()).unwrap().flatten() {
                let read =
                    |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
                let local: Vec<Ipv4Addr> = read("local.txt")
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect();
                let lan: Vec<Ipv4Net> = read("lan.txt")
                    .lines()
                    .filter_map(|l| addr::parse_one(l.trim()).ok())
                    .collect();
                let host = Host::oracle(&local, &lan);
                let kernel: serde_json::Value = serde_json::from_str(&read("kernel.json")).unwrap();
                for p in kernel["packets"].as_array().unwrap() {
                    let Some((src, dst)) = p["summary"].as_str().and_then(addrs) else {
                        continue;
                    };
                    let path = p["path"].as_str().unwrap();
                    let ours = if host.is_local(src) {
                        "local-out".to_string()
                    } else {
                        format!("wire-in:{}", host.ingress(src))
                    };
                    assert_eq!(ours, path, "{}: {}", dir.path().display(), p["summary"]);
                    // Interfaces of packets that reached a filter hook without NAT.
                    if p.get("at_filter").is_none() {
                        if let Some(out) = p["iface"]["out"].as_str() {
                            assert_eq!(
                                host.route(dst),
                                Some(out),
                                "{}: {}",
                                dir.path().display(),
                                p["summary"]
                            );
                        }
                        if p["hook"] == "INPUT" && path != "local-out" {
                            assert_eq!(
                                host.input_route(src, dst),
                                InputRoute::Local,
                                "{}",
                                p["summary"]
                            );
                        }
                        if p["hook"] == "FORWARD" {
                            assert!(
                                matches!(host.input_route(src, dst), InputRoute::Forward { .. }),
                                "{}",
                                p["summary"]
                            );
                        }
                    }
                    checked += 1;
                }
            }
        }
        eprintln!("{checked} packets classified as the kernel oracle did");
    }
}
