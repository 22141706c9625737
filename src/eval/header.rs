//! The fixed part of every rule: `ip_packet_match()` in ip_tables.c.
//!
//! Addresses under their masks, interfaces (exact, or a prefix for `eth+`;
//! a hook without that device compares against the empty name), protocol,
//! and `-f` (second and later fragments). Each test can be negated.

use crate::ext::Facts;
use crate::ir::Rule;

pub fn header_matches(r: &Rule, f: &Facts) -> bool {
    header_miss(r, f).is_none()
}

/// The first header test the packet fails, named by its option (`-s`, `-d`,
/// `-i`, `-o`, `-p`, `-f`), in `ip_packet_match()`'s order; `None` when the
/// header matches. `iptwalk trace` shows it as the reason a rule was skipped.
pub fn header_miss(r: &Rule, f: &Facts) -> Option<&'static str> {
    if r.src.contains(f.src) == r.src_inv {
        return Some("-s");
    }
    if r.dst.contains(f.dst) == r.dst_inv {
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
