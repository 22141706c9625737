//! The fixed part of every rule: `ip_packet_match()` in ip_tables.c.
//!
//! Addresses under their masks, interfaces (exact, or a prefix for `eth+`;
//! a hook without that device compares against the empty name), protocol,
//! and `-f` (second and later fragments). Each test can be negated.
//!
//! [`Head`] packs the address, protocol and fragment tests of a rule into 20
//! bytes, so a walk over thousands of rules reads a dense array instead of
//! each `Rule`; [`header_matches`] is the same test plus the interfaces.

use crate::ext::Facts;
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
}

const SRC_INV: u8 = 1;
const DST_INV: u8 = 2;
const PROTO_INV: u8 = 4;
const FRAG: u8 = 8;
const FRAG_INV: u8 = 16;

/// What [`Head`] looks at in a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketHead {
    pub src: u32,
    pub dst: u32,
    pub proto: u8,
    pub frag_off: u16,
}

impl PacketHead {
    pub fn of(f: &Facts) -> PacketHead {
        PacketHead {
            src: f.src,
            dst: f.dst,
            proto: f.proto,
            frag_off: f.frag_off,
        }
    }
}

impl Head {
    pub fn of(r: &Rule) -> Head {
        let bit = |set: bool, b: u8| if set { b } else { 0 };
        Head {
            src: r.src,
            dst: r.dst,
            proto: r.proto,
            bits: bit(r.src_inv, SRC_INV)
                | bit(r.dst_inv, DST_INV)
                | bit(r.proto_inv, PROTO_INV)
                | bit(r.frag, FRAG)
                | bit(r.frag_inv, FRAG_INV),
        }
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
}

pub fn header_matches(r: &Rule, f: &Facts) -> bool {
    if !Head::of(r).admits(&PacketHead::of(f)) {
        return false;
    }
    if !r.in_iface.is_any() && r.in_iface.matches(f.in_iface) == r.in_inv {
        return false;
    }
    !(!r.out_iface.is_any() && r.out_iface.matches(f.out_iface) == r.out_inv)
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
}
