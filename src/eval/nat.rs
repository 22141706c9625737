//! NAT in the replay engine: the nat table's request becomes a binding of the conntrack entry,
//! and every packet of a bound connection has its header rewritten at the NAT hooks.
//!
//! As `nf_nat_inet_fn` (nf_nat_core.c): for a connection's first packet the nat table runs; a
//! NAT target's range is bound with `nf_nat_setup_info`, and if no rule bound the manip, the
//! null binding is made (`nf_nat_alloc_null_binding`). Then, for every packet of a tracked
//! connection, `nf_nat_packet` rewrites the destination at PREROUTING/OUTPUT and the source at
//! POSTROUTING/INPUT, so replies are de-NATed. The binding logic itself is in
//! [`crate::conntrack::nat`]; here the targets' requests are resolved against the host model
//! (MASQUERADE and REDIRECT addresses, NETMAP's host bits) and the packet facts are rewritten.

use super::host::Host;
use crate::conntrack::{self, Dir, Manip, NatRange};
use crate::ext::facts::{Facts, L4Facts, NatRequest};
use crate::ir::Hook;
use crate::packet::Summary;

/// `HOOK2MANIP`: which half of the tuple a hook's NAT rewrites.
pub fn manip_of(hook: Hook) -> Manip {
    match hook {
        Hook::Prerouting | Hook::Output => Manip::Dst,
        _ => Manip::Src,
    }
}

/// The first address of an interface, as `inet_select_addr` / `ifa_list` give it; `None` when
/// it has none.
fn iface_addr(host: &Host, name: &str) -> Option<u32> {
    host.interfaces
        .iter()
        .find(|i| i.name == name)
        .and_then(|i| i.addrs.first())
        .map(|a| a.addr)
}

/// The kernel's range for a target's request at this packet; `None` when the target drops the
/// packet (MASQUERADE or REDIRECT without an address).
pub fn range_for(req: &NatRequest, facts: &Facts, host: &Host) -> Option<NatRange> {
    let addrs = if req.masquerade {
        // nf_nat_masquerade_ipv4: inet_select_addr(out, nexthop, RT_SCOPE_UNIVERSE), which
        // falls back to any other interface's universe-scope address (never loopback's).
        let a = iface_addr(host, facts.out_iface).or_else(|| {
            host.interfaces
                .iter()
                .filter(|i| i.name != "lo")
                .find_map(|i| i.addrs.first().map(|a| a.addr))
        })?;
        Some((a, a))
    } else if req.redirect {
        // nf_nat_redirect_ipv4: 127.0.0.1 for local packets, else the incoming interface's
        // primary address, and NF_DROP when it has none.
        let a = if facts.hook == Hook::Output {
            0x7f00_0001
        } else {
            iface_addr(host, facts.in_iface)?
        };
        Some((a, a))
    } else if req.netmap {
        // netmap_tg4: keep the host bits of the current address.
        let (net, last) = req.addrs?;
        let mask = !(net ^ last);
        let cur = if req.dnat { facts.dst } else { facts.src };
        let a = (cur & !mask) | (net & mask);
        Some((a, a))
    } else {
        req.addrs
    };
    Some(NatRange {
        addrs,
        ports: req.ports,
        random_all: req.random || req.random_fully,
        persistent: req.persistent,
    })
}

/// Makes the binding of a first packet at `hook` (the target's, or the null binding); `None`
/// when the packet is dropped. Returns whether the kernel would have drawn a random port.
pub fn bind(
    ct: &mut conntrack::Table,
    id: conntrack::ConnId,
    req: Option<&NatRequest>,
    facts: &Facts,
    host: &Host,
) -> Option<bool> {
    let m = manip_of(facts.hook);
    let mut random = false;
    if let Some(req) = req {
        let range = range_for(req, facts, host)?;
        random |= ct
            .nat_setup(id, &range, m, facts.now_ns)
            .is_some_and(|b| b.random_port);
    }
    if !ct.nat_initialized(id, m) {
        if let Some(null) = ct.nat_null_range(id, m) {
            random |= ct
                .nat_setup(id, &null, m, facts.now_ns)
                .is_some_and(|b| b.random_port);
        }
    }
    Some(random)
}

/// The header quoted by an ICMP error, as `nf_nat_icmp_reply_translation` rewrote it: the new
/// source and destination (address, port or ICMP id) of the quoted packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quote {
    pub src: Option<(u32, Option<u16>)>,
    pub dst: Option<(u32, Option<u16>)>,
}

/// `nf_nat_packet`: rewrites the facts of a packet of direction `dir` at `hook`. `quote` is
/// given for an ICMP error RELATED to the connection: `nf_nat_icmp_reply_translation` then
/// rewrites the quoted packet too, with the other direction's tuple for the opposite manip
/// (`nf_nat_ipv4_manip_pkt(.., &ct->tuplehash[!dir].tuple, !manip)`), which is the same
/// address and port the outer header gets, written into the other half.
pub fn apply(
    ct: &conntrack::Table,
    id: conntrack::ConnId,
    dir: Dir,
    facts: &mut Facts,
    quote: Option<&mut Quote>,
) {
    let m = manip_of(facts.hook);
    let Some((addr, port)) = ct.nat_target(id, dir, m) else {
        return;
    };
    if let Some(q) = quote {
        match m {
            Manip::Src => q.dst = Some((addr, port)),
            Manip::Dst => q.src = Some((addr, port)),
        }
    }
    match m {
        Manip::Src => facts.src = addr,
        Manip::Dst => facts.dst = addr,
    }
    if let Some(p) = port {
        match (&mut facts.l4, m) {
            (L4Facts::Tcp { sport, .. }, Manip::Src)
            | (L4Facts::Udp { sport, .. }, Manip::Src)
            | (L4Facts::Ports { sport, .. }, Manip::Src) => *sport = p,
            (L4Facts::Tcp { dport, .. }, Manip::Dst)
            | (L4Facts::Udp { dport, .. }, Manip::Dst)
            | (L4Facts::Ports { dport, .. }, Manip::Dst) => *dport = p,
            _ => {}
        }
    }
}

/// The header as the facts now say, in the summary notation (for the oracle's `at_filter` and
/// `egress`, given when it differs from the captured record's summary: after NAT, or when the
/// record was a fragment and the rules saw the reassembled datagram). `quote` is what NAT did
/// to the header an ICMP error quotes.
/// The header text NAT left at this point, when it differs in flow from `summary`, the text
/// of the bytes at `original` (address and length of the slice the record's summary was made
/// from: an identity, not a borrow); `None` when it is the same flow. A packet NAT did not
/// touch, whose facts still stand on those very bytes, is known unchanged without printing:
/// most packets, so most records skip the formatting.
pub fn changed_header(
    facts: &Facts,
    quote: &Quote,
    original: (usize, usize),
    summary: &str,
) -> Option<String> {
    let same_bytes = (facts.bytes.as_ptr() as usize, facts.bytes.len()) == original;
    if same_bytes && untouched(facts, quote) {
        return None;
    }
    let h = header(facts, quote);
    other_flow(&h, summary).then_some(h)
}

/// Whether `facts` still hold what their bytes say: addresses, ports, and no rewritten quote.
fn untouched(facts: &Facts, quote: &Quote) -> bool {
    let b = facts.bytes;
    let be32 = |at: usize| {
        b.get(at..at + 4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    };
    if be32(12) != Some(facts.src) || be32(16) != Some(facts.dst) || *quote != Quote::default() {
        return false;
    }
    let ihl = usize::from(facts.ihl);
    match facts.l4 {
        L4Facts::Tcp { sport, dport, .. }
        | L4Facts::Udp { sport, dport }
        | L4Facts::Ports { sport, dport } => {
            let be16 = |at: usize| b.get(at..at + 2).map(|w| u16::from_be_bytes([w[0], w[1]]));
            // Ports `header` cannot write back (no room) leave the text as it is.
            b.len() < ihl + 4 || (be16(ihl) == Some(sport) && be16(ihl + 2) == Some(dport))
        }
        _ => true,
    }
}

pub fn header(facts: &Facts, quote: &Quote) -> String {
    let mut bytes = facts.bytes.to_vec();
    let ihl = usize::from(facts.ihl);
    if let Some(h) = bytes.get_mut(12..20) {
        h[..4].copy_from_slice(&facts.src.to_be_bytes());
        h[4..].copy_from_slice(&facts.dst.to_be_bytes());
    }
    if matches!(facts.l4, L4Facts::Icmp { .. }) {
        rewrite_quote(bytes.get_mut(ihl + 8..).unwrap_or(&mut []), quote);
    }
    let ports = match facts.l4 {
        L4Facts::Tcp { sport, dport, .. }
        | L4Facts::Udp { sport, dport }
        | L4Facts::Ports { sport, dport } => Some((sport, dport)),
        _ => None,
    };
    if let (Some((s, d)), Some(l4)) = (ports, bytes.get_mut(ihl..ihl + 4)) {
        l4[..2].copy_from_slice(&s.to_be_bytes());
        l4[2..].copy_from_slice(&d.to_be_bytes());
    }
    Summary::of_ip(&bytes).text()
}

/// Writes `q` into the quoted IP header `inner` (and its ports, or the id of a quoted ICMP
/// query: `icmp_manip_pkt` only touches those types); a quote too short is left alone.
fn rewrite_quote(inner: &mut [u8], q: &Quote) {
    let Some(&first) = inner.first() else { return };
    let ihl = usize::from(first & 0x0f) * 4;
    let proto = inner.get(9).copied();
    for (part, addr_at, port_at) in [(q.src, 12, 0), (q.dst, 16, 2)] {
        let Some((a, port)) = part else { continue };
        if let Some(h) = inner.get_mut(addr_at..addr_at + 4) {
            h.copy_from_slice(&a.to_be_bytes());
        }
        let at = match proto {
            Some(1) if matches!(inner.get(ihl), Some(0 | 8 | 13..=18)) => ihl + 4,
            Some(1) => continue,
            _ => ihl + port_at,
        };
        if let (Some(p), Some(b)) = (port, inner.get_mut(at..at + 2)) {
            b.copy_from_slice(&p.to_be_bytes());
        }
    }
}

/// Whether two summaries name different flows (the oracle's `flow_key`: protocol, addresses
/// and ports or ICMP id; TCP flags and the `frag` mark do not count, but a fragment without
/// its ICMP header has no id).
pub fn other_flow(a: &str, b: &str) -> bool {
    fn key(s: &str) -> (Option<&str>, Option<&str>, bool) {
        let mut w = s.split(' ');
        (w.next(), w.next(), s.contains(" type="))
    }
    key(a) != key(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::facts::NoHost;
    use crate::ir::addr;
    use crate::ir::TableKind;

    fn ip(s: &str) -> u32 {
        u32::from(s.parse::<std::net::Ipv4Addr>().unwrap())
    }

    fn facts<'p>(bytes: &'p [u8], hook: Hook, out: &'p str) -> Facts<'p> {
        Facts {
            hook,
            table: TableKind::Nat,
            in_iface: "eth1",
            out_iface: out,
            src: ip("192.168.1.5"),
            dst: ip("1.1.1.1"),
            proto: 17,
            ttl: 64,
            tos: 0,
            frag_off: 0,
            len: 28,
            bytes,
            ihl: 20,
            l4: L4Facts::Udp {
                sport: 5000,
                dport: 53,
            },
            l4_truncated: false,
            src_mac: None,
            mac_header: None,
            pkttype: 0,
            mark: 0,
            ct: Default::default(),
            now_ns: 0,
            host: &NoHost,
        }
    }

    fn udp_bytes() -> Vec<u8> {
        let mut b = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0];
        b.extend_from_slice(&[192, 168, 1, 5, 1, 1, 1, 1]);
        b.extend_from_slice(&[0x13, 0x88, 0, 53, 0, 8, 0, 0]);
        b
    }

    #[test]
    fn masquerade_takes_the_out_interface_address_and_netmap_keeps_host_bits() {
        let host = Host::oracle(
            &["10.0.0.104".parse().unwrap()],
            &[addr::parse_one("192.168.1.0/24").unwrap()],
        );
        let b = udp_bytes();
        let f = facts(&b, Hook::Postrouting, "eth0");
        let masq = NatRequest {
            dnat: false,
            addrs: None,
            ports: None,
            masquerade: true,
            redirect: false,
            netmap: false,
            random: false,
            random_fully: false,
            persistent: false,
        };
        let r = range_for(&masq, &f, &host).unwrap();
        assert_eq!(r.addrs, Some((ip("10.0.0.104"), ip("10.0.0.104"))));
        // eth1 has no address of its own: inet_select_addr falls back to eth0's.
        let f1 = facts(&b, Hook::Postrouting, "eth1");
        assert_eq!(range_for(&masq, &f1, &host).unwrap().addrs, r.addrs);
        let netmap = NatRequest {
            netmap: true,
            masquerade: false,
            addrs: Some((ip("10.9.0.0"), ip("10.9.255.255"))),
            ..masq
        };
        let r = range_for(&netmap, &f, &host).unwrap();
        assert_eq!(r.addrs, Some((ip("10.9.1.5"), ip("10.9.1.5"))));
        // REDIRECT on an interface without an address drops (eth1 in the oracle's host).
        let redir = NatRequest {
            dnat: true,
            redirect: true,
            masquerade: false,
            ..masq
        };
        let mut pre = facts(&b, Hook::Prerouting, "");
        assert_eq!(range_for(&redir, &pre, &host), None);
        pre.in_iface = "eth0";
        let r = range_for(&redir, &pre, &host).unwrap();
        assert_eq!(r.addrs, Some((ip("10.0.0.104"), ip("10.0.0.104"))));
    }

    #[test]
    fn header_changes_are_summarised() {
        let b = udp_bytes();
        let mut f = facts(&b, Hook::Postrouting, "eth0");
        assert_eq!(
            header(&f, &Quote::default()),
            "udp 192.168.1.5:5000>1.1.1.1:53"
        );
        f.src = ip("10.0.0.104");
        f.l4 = L4Facts::Udp {
            sport: 1024,
            dport: 53,
        };
        assert_eq!(
            header(&f, &Quote::default()),
            "udp 10.0.0.104:1024>1.1.1.1:53"
        );
        assert!(!other_flow(
            "udp 1.1.1.1:5>2.2.2.2:6 frag",
            "udp 1.1.1.1:5>2.2.2.2:6"
        ));
        assert!(other_flow(
            "tcp 1.1.1.1:5>2.2.2.2:6 S",
            "tcp 1.1.1.1:5>2.2.2.2:7 S"
        ));
        assert!(other_flow(
            "icmp 1.1.1.1>2.2.2.2 frag",
            "icmp 1.1.1.1>2.2.2.2 type=8 code=0"
        ));
    }

    #[test]
    fn quoted_headers_get_the_translation() {
        // ICMP port unreachable 8.8.8.8 > 10.0.0.104 quoting udp 10.0.0.104:6000 > 8.8.8.8:53.
        let mut b = vec![
            0x45, 0, 0, 56, 0, 0, 0, 0, 64, 1, 0, 0, 8, 8, 8, 8, 10, 0, 0, 104,
        ];
        b.extend_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 104]);
        b.extend_from_slice(&[8, 8, 8, 8, 0x17, 0x70, 0, 53, 0, 8, 0, 0]);
        let mut f = facts(&b, Hook::Prerouting, "");
        f.proto = 1;
        f.src = ip("8.8.8.8");
        f.dst = ip("192.168.1.5");
        f.l4 = L4Facts::Icmp { kind: 3, code: 3 };
        let q = Quote {
            src: Some((ip("192.168.1.5"), Some(5000))),
            dst: None,
        };
        assert_eq!(
            header(&f, &q),
            "icmp 8.8.8.8>192.168.1.5 type=3 code=3 [quotes udp 192.168.1.5:5000>8.8.8.8:53]"
        );
        // A quote cut inside its IP header is left as it is.
        let mut short = b.clone();
        short.truncate(36);
        let f2 = Facts { bytes: &short, ..f };
        assert!(header(&f2, &q).starts_with("icmp 8.8.8.8>192.168.1.5 type=3 code=3"));
    }
}
