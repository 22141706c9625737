//! `iptables -L -v -n --line-numbers` text for a table (`iptwalk list`).
//!
//! The layout is legacy iptables 1.8.9's: `list_entries` in iptables/iptables.c
//! walks the chains, `print_header` and `print_rule_details`,
//! `print_fragment`, `print_ifaces` and `print_ipv4_addresses` in
//! iptables/xshared.c print the fixed columns, `xtables_print_num` in
//! libxtables/xtables.c the counters, and each extension its own text after
//! the destination column ([`crate::ext::Match::list`]). Only the numeric
//! form (`-n`) exists here: names would need the host's resolver and
//! services database, which an offline tool does not have.
//!
//! Invariant: the output is byte-for-byte what `iptables-legacy -L -v -n
//! --line-numbers` (plus `-x` when [`ListOptions::exact`]) prints for the
//! same table in the kernel, trailing spaces included.

use crate::ext::Target;
use crate::ir::iface::Iface;
use crate::ir::net::IpNet;
use crate::ir::rule::{Rule, RuleTarget};
use crate::ir::ruleset::{Chain, Table};
use crate::syntax::ast::Counters;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, Default)]
pub struct ListOptions<'a> {
    /// `-x`: exact counters instead of the K/M/G/T abbreviations.
    pub exact: bool,
    /// Only this chain (`iptables -L CHAIN`).
    pub chain: Option<&'a str>,
}

/// Why a listing could not be printed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// iptables' own words for `-L CHAIN` with an unknown chain.
    #[error("No chain/target/match by that name.")]
    NoSuchChain(String),
}

/// The listing of one table, chains separated by an empty line.
pub fn list_table(table: &Table, opts: ListOptions) -> Result<String, ListError> {
    let mut out = String::new();
    let mut found = false;
    for chain in &table.chains {
        if opts.chain.is_some_and(|c| c != chain.name) {
            continue;
        }
        if found {
            out.push('\n');
        }
        header(&mut out, table, chain, opts);
        for (i, rule) in chain.rules.iter().enumerate() {
            rule_line(&mut out, i + 1, rule, opts);
        }
        found = true;
    }
    match opts.chain {
        Some(c) if !found => Err(ListError::NoSuchChain(c.to_string())),
        _ => Ok(out),
    }
}

/// `print_header`: the chain line and the column titles.
fn header(out: &mut String, table: &Table, chain: &Chain, opts: ListOptions) {
    let _ = write!(out, "Chain {}", chain.name);
    match chain.policy {
        Some(p) => {
            // FMT_NOTABLE: the numbers are not padded here.
            let _ = write!(out, " (policy {} ", p.name());
            num(out, chain.counters.packets, opts.exact, false);
            out.push_str("packets, ");
            num(out, chain.counters.bytes, opts.exact, false);
            out.push_str("bytes)\n");
        }
        None => {
            let _ = writeln!(out, " ({} references)", table.references(&chain.name));
        }
    }
    let _ = write!(out, "{:<4} ", "num");
    if opts.exact {
        let _ = write!(out, "{:>8} {:>10} ", "pkts", "bytes");
    } else {
        let _ = write!(out, "{:>5} {:>5} ", "pkts", "bytes");
    }
    let _ = write!(out, "{:<9} ", "target");
    out.push_str(" prot opt");
    let _ = write!(out, " {:<6} {:<6} ", "in", "out");
    let _ = writeln!(out, " {:<19}  {:<19} ", "source", "destination");
}

/// `xtables_print_num`: padded to the column unless `table` is false (the
/// policy line). Without `-x`, numbers above 99999 are divided by 1000
/// (rounding half up) until they fit in four digits, with K, M, G or T. The
/// `+ 500` is unsigned 64-bit arithmetic in C and wraps: the kernel lists a
/// counter within 500 of 2^64 as `0K`.
fn num(out: &mut String, n: u64, exact: bool, table: bool) {
    if exact {
        let _ = if table {
            write!(out, "{n:>8} ")
        } else {
            write!(out, "{n} ")
        };
        return;
    }
    if n <= 99999 {
        let _ = if table {
            write!(out, "{n:>5} ")
        } else {
            write!(out, "{n} ")
        };
        return;
    }
    let mut n = n;
    for unit in ["K", "M", "G"] {
        n = n.wrapping_add(500) / 1000;
        if n <= 9999 {
            return suffixed(out, n, unit, table);
        }
    }
    suffixed(out, n.wrapping_add(500) / 1000, "T", table);
}

fn suffixed(out: &mut String, n: u64, unit: &str, table: bool) {
    let _ = if table {
        write!(out, "{n:>4}{unit} ")
    } else {
        write!(out, "{n}{unit} ")
    };
}

/// `print_firewall`: the fixed columns, `[goto] `, the matches' and the
/// target's text.
fn rule_line(out: &mut String, n: usize, r: &Rule, opts: ListOptions) {
    let _ = write!(out, "{n:<4} ");
    let Counters { packets, bytes } = r.counters;
    num(out, packets, opts.exact, true);
    num(out, bytes, opts.exact, true);
    let _ = write!(out, "{:<9} ", target_column(&r.target));
    // -n prints the protocol as a number (`print_rule_details`, FMT_NUMERIC).
    let _ = write!(out, "{}{:<4} ", bang(r.proto_inv), r.proto);
    out.push(if r.frag_inv { '!' } else { '-' });
    out.push(if r.frag { 'f' } else { '-' });
    out.push(' ');
    let _ = write!(out, " {:<6} ", iface(&r.in_iface, r.in_inv));
    let _ = write!(out, "{:<6} ", iface(&r.out_iface, r.out_inv));
    let _ = write!(out, "{}{:<19} ", bang(r.src_inv), addr(&r.src));
    let _ = write!(out, "{}{:<19} ", bang(r.dst_inv), addr(&r.dst));
    if matches!(r.target, RuleTarget::Goto(_)) {
        out.push_str("[goto] ");
    }
    let ctx = r.ctx();
    for m in &r.matches {
        m.m.list(&ctx, out);
    }
    if let RuleTarget::Ext(t) = &r.target {
        t.list(&ctx, out);
    }
    out.push('\n');
}

fn bang(inv: bool) -> char {
    if inv {
        '!'
    } else {
        ' '
    }
}

/// The target column: what `iptc_get_target` returns, i.e. the name in the
/// kernel's entry. `-j NOTRACK` is loaded as the CT target (libxt_CT.c gives
/// the NOTRACK alias `.real_name = "CT"`), so the kernel calls it CT.
fn target_column(t: &RuleTarget) -> &str {
    match t {
        RuleTarget::None => "",
        RuleTarget::Verdict(v) => v.name(),
        RuleTarget::Jump(c) | RuleTarget::Goto(c) => c,
        RuleTarget::Ext(Target::Notrack(_)) => "CT",
        RuleTarget::Ext(t) => t.name(),
    }
}

/// `print_ifaces`: `*` for any interface. The kernel keeps the name as typed,
/// so `-i +` (which matches all and saves as nothing) still lists as `+`.
fn iface(i: &Iface, inv: bool) -> String {
    let name = match (i.name.as_str(), i.wildcard) {
        ("", true) => "+".to_string(),
        ("", false) => "*".to_string(),
        (n, true) => format!("{n}+"),
        (n, false) => n.to_string(),
    };
    if inv {
        format!("!{name}")
    } else {
        name
    }
}

/// `ipv4_addr_to_string` with FMT_NUMERIC: the address, then the mask as
/// `xtables_ipmask_to_numeric` prints it (nothing for /32, `/len` when
/// contiguous, `/a.b.c.d` otherwise).
fn addr(n: &IpNet) -> String {
    match (n, n.prefix_len()) {
        (IpNet::V4(n), Some(32)) => {
            let [a, b, c, d] = n.addr.to_be_bytes();
            format!("{a}.{b}.{c}.{d}")
        }
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kmg(n: u64, exact: bool) -> String {
        let mut s = String::new();
        num(&mut s, n, exact, true);
        s
    }

    /// What iptables-legacy 1.8.9 printed for this table (kernel 6.18):
    /// NOTRACK as target CT, negations, a wildcard interface, a host and a
    /// non-contiguous mask, `-f`/`! -f`, a goto, a rule without a target.
    #[test]
    fn fixed_columns_as_iptables_legacy_prints_them() {
        let text = "*raw\n:X - [0:0]\n-A PREROUTING -j NOTRACK\n-A OUTPUT -p tcp -j CT --notrack\n\
            -A OUTPUT -g X\n-A PREROUTING -s 1.2.3.4 -d 1.2.3.0/255.0.255.0 ! -i eth+ ! -p 47 -f\n\
            -A OUTPUT\n-A OUTPUT ! -f -p 200\n-A OUTPUT -j X\nCOMMIT\n";
        let loaded = crate::ir::load(&crate::source::SourceFile::new("raw.v4", text));
        assert!(!loaded.has_errors());
        let table = &loaded.ruleset.tables[0];
        let head = "num   pkts bytes target     prot opt in     out     source               destination         \n";
        let want = [
            "Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\n",
            head,
            "1        0     0 CT         0    --  *      *       0.0.0.0/0            0.0.0.0/0            NOTRACK\n",
            "2        0     0           !47   -f  !eth+  *       1.2.3.4              1.0.3.0/255.0.255.0 \n",
            "\nChain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n",
            head,
            "1        0     0 CT         6    --  *      *       0.0.0.0/0            0.0.0.0/0            CT notrack\n",
            "2        0     0 X          0    --  *      *       0.0.0.0/0            0.0.0.0/0           [goto] \n",
            "3        0     0            0    --  *      *       0.0.0.0/0            0.0.0.0/0           \n",
            "4        0     0            200  !f  *      *       0.0.0.0/0            0.0.0.0/0           \n",
            "5        0     0 X          0    --  *      *       0.0.0.0/0            0.0.0.0/0           \n",
            "\nChain X (2 references)\n",
            head,
        ]
        .concat();
        assert_eq!(list_table(table, ListOptions::default()), Ok(want));
        let one = ListOptions {
            exact: true,
            chain: Some("X"),
        };
        let exact_head = "num      pkts      bytes target     prot opt in     out     source               destination         \n";
        assert_eq!(
            list_table(table, one),
            Ok(format!("Chain X (2 references)\n{exact_head}"))
        );
        let missing = ListOptions {
            exact: false,
            chain: Some("Y"),
        };
        assert!(list_table(table, missing).is_err());
    }

    #[test]
    fn counters_abbreviate_like_xtables_print_num() {
        assert_eq!(kmg(99999, false), "99999 ");
        assert_eq!(kmg(100000, false), " 100K ");
        assert_eq!(kmg(9_999_499, false), "9999K ");
        assert_eq!(kmg(9_999_500, false), "  10M ");
        assert_eq!(kmg(1_234_567_890, false), "1235M ");
        assert_eq!(kmg(u64::MAX, false), "   0K ");
        assert_eq!(kmg(u64::MAX - 500, false), "18446744T ");
        assert_eq!(kmg(123_456_789, true), "123456789 ");
        assert_eq!(kmg(7, true), "       7 ");
    }
}
