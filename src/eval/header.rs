//! The fixed part of every rule: `ip_packet_match()` in ip_tables.c.
//!
//! Addresses under their masks, interfaces (exact, or a prefix for `eth+`;
//! a hook without that device compares against the empty name), protocol,
//! and `-f` (second and later fragments). Each test can be negated.
//!
//! [`Head`] packs the address, protocol and fragment tests of a rule, and the
//! port test of its first match when that is `-m tcp`/`-m udp`, into 32
//! bytes, so a walk over thousands of rules reads a dense array instead of
//! each `Rule`; [`header_matches`] is the header test plus the interfaces.

use crate::ext::facts::L4Facts;
use crate::ext::matches::tcp::port_match;
use crate::ext::{Facts, Match};
use crate::ir::addr::Ipv4Net;
use crate::ir::Rule;

/// The address, protocol and fragment tests of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    src: Ipv4Net,
    dst: Ipv4Net,
    proto: u8,
    /// `IPT_INV_*` and `IPT_F_FRAG`, as below.
    bits: u8,
    /// The port test of the rule's first match, when it is tcp or udp.
    ports: Option<PortTest>,
}

/// `--sport`/`--dport` of a tcp or udp match (`tcp_mt`/`udp_mt` in
/// xt_tcpudp.c): given readable ports of a first fragment, a failed port test
/// makes the match say no (never hotdrop), whatever else it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PortTest {
    proto: u8,
    sport: (u16, u16),
    dport: (u16, u16),
    sport_inv: bool,
    dport_inv: bool,
}

const SRC_INV: u8 = 1;
const DST_INV: u8 = 2;
const PROTO_INV: u8 = 4;
const FRAG: u8 = 8;
const FRAG_INV: u8 = 16;
/// The rule tests an interface (`-i` or `-o`), which [`Head::admits`] does not.
const IFACES: u8 = 32;

/// What [`Head`] looks at in a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketHead {
    pub src: u32,
    pub dst: u32,
    pub proto: u8,
    pub frag_off: u16,
    /// (sport, dport) of a first fragment whose TCP or UDP header the
    /// tcp/udp matches can read.
    pub ports: Option<(u16, u16)>,
}

impl PacketHead {
    pub fn of(f: &Facts) -> PacketHead {
        let ports = match f.l4 {
            L4Facts::Tcp { sport, dport, .. } if f.proto == 6 => Some((sport, dport)),
            L4Facts::Udp { sport, dport } if f.proto == 17 => Some((sport, dport)),
            _ => None,
        };
        PacketHead {
            src: f.src,
            dst: f.dst,
            proto: f.proto,
            frag_off: f.frag_off,
            ports: ports.filter(|_| f.frag_off == 0),
        }
    }
}

impl PacketHead {
    /// The packet's `proto << 16 | dport` when its ports are readable (see
    /// [`Head::dport_key`]).
    pub fn dport_key(&self) -> Option<u32> {
        self.ports
            .map(|(_, dport)| u32::from(self.proto) << 16 | u32::from(dport))
    }
}

impl Head {
    pub fn of(r: &Rule) -> Head {
        let bit = |set: bool, b: u8| if set { b } else { 0 };
        Head {
            src: r.src.for_ipv4(),
            dst: r.dst.for_ipv4(),
            proto: r.proto,
            bits: bit(r.src_inv, SRC_INV)
                | bit(r.dst_inv, DST_INV)
                | bit(r.proto_inv, PROTO_INV)
                | bit(r.frag, FRAG)
                | bit(r.frag_inv, FRAG_INV)
                | bit(!r.in_iface.is_any() || !r.out_iface.is_any(), IFACES),
            ports: r.matches.first().and_then(|m| match &m.m {
                Match::Tcp(t) => Some(PortTest {
                    proto: 6,
                    sport: t.sport,
                    dport: t.dport,
                    sport_inv: t.sport_inv,
                    dport_inv: t.dport_inv,
                }),
                Match::Udp(u) => Some(PortTest {
                    proto: 17,
                    sport: u.sport,
                    dport: u.dport,
                    sport_inv: u.sport_inv,
                    dport_inv: u.dport_inv,
                }),
                _ => None,
            }),
        }
    }

    /// [`Head::admits`], and when the rule's first match is tcp or udp and the
    /// packet's ports are readable, that match's port test: `false` means the
    /// rule cannot match, and no match of it would have run or had an effect.
    pub fn may_match(&self, p: &PacketHead) -> bool {
        if !self.admits(p) {
            return false;
        }
        match (self.ports, p.ports) {
            (Some(t), Some((sport, dport))) if t.proto == p.proto => {
                port_match(t.sport, sport, t.sport_inv) && port_match(t.dport, dport, t.dport_inv)
            }
            _ => true,
        }
    }

    /// The (protocol, destination port) every packet this rule can match has,
    /// as `proto << 16 | dport`, when the rule pins both: `-p tcp|udp` (not
    /// negated) with a first tcp/udp match of one `--dport` (not negated).
    /// A packet with readable ports and another key fails [`Head::may_match`]:
    /// another protocol fails `-p`, another port the port test.
    pub fn dport_key(&self) -> Option<u32> {
        let t = self.ports?;
        let pinned = t.dport.0 == t.dport.1 && !t.dport_inv;
        (pinned && self.proto == t.proto && self.bits & PROTO_INV == 0)
            .then_some(u32::from(t.proto) << 16 | u32::from(t.dport.0))
    }

    /// Whether the packet passes every test but the interfaces.
    pub fn admits(&self, p: &PacketHead) -> bool {
        let inv = |b: u8| self.bits & b != 0;
        if self.src.contains(p.src) == inv(SRC_INV) || self.dst.contains(p.dst) == inv(DST_INV) {
            return false;
        }
        if self.proto != 0 && (p.proto == self.proto) == inv(PROTO_INV) {
            return false;
        }
        // NF_INVF(IPT_INV_FRAG, (flags & IPT_F_FRAG) && !isfrag)
        !(inv(FRAG) && (p.frag_off == 0) != inv(FRAG_INV))
    }

    /// Whether the rule tests an interface: [`Head::admits`] leaves that test to
    /// [`iface_miss`].
    pub fn tests_ifaces(&self) -> bool {
        self.bits & IFACES != 0
    }
}

/// [`header_miss`] of a rule whose [`Head`] admits the packet: addresses,
/// protocol and fragment pass, so only `-i` and `-o` can fail (in that order).
pub fn iface_miss(r: &Rule, f: &Facts) -> Option<&'static str> {
    if !r.in_iface.is_any() && r.in_iface.matches(f.in_iface) == r.in_inv {
        return Some("-i");
    }
    if !r.out_iface.is_any() && r.out_iface.matches(f.out_iface) == r.out_inv {
        return Some("-o");
    }
    None
}

pub fn header_matches(r: &Rule, f: &Facts) -> bool {
    if !Head::of(r).admits(&PacketHead::of(f)) {
        return false;
    }
    if !r.in_iface.is_any() && r.in_iface.matches(f.in_iface) == r.in_inv {
        return false;
    }
    r.out_iface.is_any() || r.out_iface.matches(f.out_iface) != r.out_inv
}

/// The first header test the packet fails, named by its option (`-s`, `-d`,
/// `-i`, `-o`, `-p`, `-f`), in `ip_packet_match()`'s order; `None` when the
/// header matches. `iptwalk trace` shows it as the reason a rule was skipped.
pub fn header_miss(r: &Rule, f: &Facts) -> Option<&'static str> {
    if r.src.for_ipv4().contains(f.src) == r.src_inv {
        return Some("-s");
    }
    if r.dst.for_ipv4().contains(f.dst) == r.dst_inv {
        return Some("-d");
    }
    if !r.in_iface.is_any() && r.in_iface.matches(f.in_iface) == r.in_inv {
        return Some("-i");
    }
    if !r.out_iface.is_any() && r.out_iface.matches(f.out_iface) == r.out_inv {
        return Some("-o");
    }
    if r.proto != 0 && (f.proto == r.proto) == r.proto_inv {
        return Some("-p");
    }
    // NF_INVF(IPT_INV_FRAG, (flags & IPT_F_FRAG) && !isfrag)
    if r.frag && (f.frag_off == 0) != r.frag_inv {
        return Some("-f");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::facts::{CtFacts, L4Facts, NoHost};
    use crate::ir::{Hook, TableKind};
    use crate::source::SourceFile;

    fn facts(src: u32, dst: u32, in_iface: &'static str, frag_off: u16) -> Facts<'static> {
        Facts {
            hook: Hook::Input,
            table: TableKind::Filter,
            in_iface,
            out_iface: "",
            src,
            dst,
            proto: 6,
            ttl: 64,
            tos: 0,
            frag_off,
            len: 60,
            bytes: &[],
            ihl: 20,
            l4: L4Facts::None,
            l4_truncated: false,
            src_mac: None,
            mac_header: None,
            pkttype: 0,
            mark: 0,
            ct: CtFacts::default(),
            now_ns: 0,
            host: &NoHost,
        }
    }

    fn rule(spec: &str) -> Rule {
        let f = SourceFile::new("t", format!("*filter\n-A INPUT {spec}\nCOMMIT\n"));
        let l = crate::ir::load(&f);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        l.ruleset.tables[0].chains[0].rules[0].clone()
    }

    const A: u32 = 0x0a00_0001; // 10.0.0.1
    const B: u32 = 0xc0a8_0101; // 192.168.1.1

    #[test]
    fn addresses_interfaces_protocol_fragments() {
        assert!(header_matches(
            &rule("-s 10.0.0.0/8"),
            &facts(A, B, "eth0", 0)
        ));
        assert!(!header_matches(
            &rule("! -s 10.0.0.0/8"),
            &facts(A, B, "eth0", 0)
        ));
        assert!(header_matches(
            &rule("-d 192.168.1.1 -i eth+"),
            &facts(A, B, "eth0", 0)
        ));
        assert!(!header_matches(&rule("-i eth1"), &facts(A, B, "eth0", 0)));
        assert!(header_matches(&rule("! -i eth1"), &facts(A, B, "eth0", 0)));
        assert!(
            !header_matches(&rule("-o eth0"), &facts(A, B, "eth0", 0)),
            "no output device on INPUT"
        );
        assert!(header_matches(&rule("-p tcp"), &facts(A, B, "eth0", 0)));
        assert!(!header_matches(&rule("! -p tcp"), &facts(A, B, "eth0", 0)));
        assert!(!header_matches(&rule("-f"), &facts(A, B, "eth0", 0)));
        assert!(header_matches(&rule("-f"), &facts(A, B, "eth0", 3)));
        assert!(header_matches(&rule("! -f"), &facts(A, B, "eth0", 0)));
        assert!(!header_matches(&rule("! -f"), &facts(A, B, "eth0", 3)));
    }

    /// Rules the prefilter must get right: inverted addresses, protocols and
    /// ports, fragments, tcp/udp first or behind another match, interfaces,
    /// jumps and gotos into user chains, and a tcp option that hotdrops.
    const WALK_RULES: &str = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:u - [0:0]\n:v - [0:0]\n\
-A FORWARD -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j DROP\n\
-A FORWARD ! -s 10.0.0.0/8 -p udp -m udp ! --dport 53 -j u\n\
-A FORWARD -p tcp -m tcp --sport 1000:2000 --tcp-flags SYN,ACK SYN -j v\n\
-A FORWARD -f -j LOG\n\
-A FORWARD ! -f -d 192.168.1.0/24 -p tcp -m comment --comment x -m tcp --dport 80 -j ACCEPT\n\
-A FORWARD -p tcp -m tcp --dport 443 --tcp-option 8 -j ACCEPT\n\
-A FORWARD -i eth1 ! -p udp -g v\n\
-A FORWARD -p udp -m udp --sport 53 -j ACCEPT\n\
-A u -p udp -m udp --dport 1:100 -j RETURN\n\
-A u -d 192.168.0.0/16 -j ACCEPT\n\
-A v -p tcp -m tcp ! --sport 1500 -j DROP\n\
-A v -j RETURN\n\
COMMIT\n";

    fn packet(i: u32) -> Facts<'static> {
        const ADDRS: [u32; 4] = [A, B, 0xc0a8_0202, 0x0101_0101];
        const PORTS: [u16; 6] = [22, 53, 80, 443, 1500, 1700];
        let mut f = facts(
            ADDRS[(i % 4) as usize],
            ADDRS[(i / 4 % 4) as usize],
            ["eth0", "eth1"][(i / 16 % 2) as usize],
            [0, 0, 0, 1, 3][(i / 32 % 5) as usize],
        );
        f.hook = Hook::Forward;
        f.proto = [6, 17, 1][(i / 160 % 3) as usize];
        let (sport, dport) = (PORTS[(i / 480 % 6) as usize], PORTS[(i / 7 % 6) as usize]);
        f.l4 = match (f.frag_off, f.proto, i % 11) {
            (0, _, 0) => L4Facts::None, // a truncated header
            (0, 6, _) => L4Facts::Tcp {
                sport,
                dport,
                flags: [0x02, 0x12, 0x10][(i % 3) as usize],
                seq: 0,
                ack: 0,
                window: 0,
                options: [&[][..], &[8, 2, 1, 1]][(i % 2) as usize],
                header_len: [20, 24][(i % 2) as usize],
            },
            (0, 17, _) => L4Facts::Udp { sport, dport },
            _ => L4Facts::None,
        };
        f.l4_truncated = f.frag_off == 0 && f.proto != 1 && f.l4 == L4Facts::None;
        f
    }

    #[test]
    fn prepared_walk_is_the_plain_walk() {
        use crate::eval::judge::Judge;
        use crate::eval::walk::{walk, walk_into, Fast, Prepared, TableCounters, WalkBuf};
        let l = crate::ir::load(&SourceFile::new("t", WALK_RULES));
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        let table = &l.ruleset.tables[0];
        let prepared = Prepared::new(table);
        let (mut plain_c, mut fast_c) = (
            TableCounters::for_table(table),
            TableCounters::for_table(table),
        );
        let mut buf = WalkBuf::default();
        let mut skipped_by_ports = 0;
        for i in 0..2880 {
            let mut f = packet(i);
            let plain = walk(
                table,
                Hook::Forward,
                &mut Judge::new(&mut f),
                &mut plain_c,
                60,
            );
            let mut f = packet(i);
            let fast = Fast {
                prepared: &prepared,
                head: PacketHead::of(&f),
            };
            let (verdict, decided_by) = walk_into(
                table,
                Some(fast),
                Hook::Forward,
                &mut Judge::new(&mut f),
                &mut fast_c,
                60,
                &mut buf,
            );
            assert_eq!(
                (plain.verdict, plain.decided_by, &plain.trace),
                (verdict, decided_by, &buf.trace),
                "packet {i}: {:?} {:?}",
                fast.head,
                f.l4
            );
            let rules = &table.chains[1].rules;
            skipped_by_ports += rules
                .iter()
                .filter(|r| Head::of(r).admits(&fast.head) && !Head::of(r).may_match(&fast.head))
                .count();
        }
        assert_eq!(plain_c, fast_c);
        assert!(skipped_by_ports > 1000, "{skipped_by_ports}");
        assert!(fast_c.rules.iter().flatten().all(|c| c.0 > 0), "{fast_c:?}");
    }
}
