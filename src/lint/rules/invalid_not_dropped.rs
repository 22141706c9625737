//! IPT307 invalid-not-dropped: a stateful INPUT or FORWARD chain that accepts
//! packets in conntrack state INVALID by port or address.
//!
//! Kernel truth: `nf_nat_inet_fn` returns NF_ACCEPT for a packet without a
//! conntrack entry, so INVALID packets get no NAT. Checked with the kernel
//! oracle (Linux 6.18) on this lint's fixture, LAN 192.168.1.0/24 behind
//! eth1: a SYN from 192.168.1.5 left as 10.0.0.104 (MASQUERADE), a lone RST
//! and a FIN/ACK with no connection were INVALID, accepted by
//! `-A FORWARD -i eth1 -o eth0 -j ACCEPT` and left with source 192.168.1.5.

use super::util::{accepts, admits_state, line_of, reachable_chains, rule_span};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::iface::Iface;
use crate::ir::{Rule, RuleTarget, Table, TableKind};
use crate::lint::flow::{meet, surely_reaching};
use crate::lint::rules::shadowed_rule::notation;
use crate::lint::space::{Cube, Dim, IntervalSet, TableView};
use crate::lint::space_ext::MarkView;
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT307",
        name: "invalid-not-dropped",
        severity: Severity::Warning,
        summary: "a stateful INPUT/FORWARD chain accepts INVALID packets (no --ctstate INVALID -j DROP first)",
        docs: "\
What it does: in the filter table's INPUT and FORWARD chains that accept ESTABLISHED
packets (so the ruleset relies on connection tracking), follows the packets conntrack
marks INVALID through the chain and the chains it jumps to, and reports the first ACCEPT
rule that certainly gets some of them: a rule that accepts by port or address, not by
state, with no `-m conntrack --ctstate INVALID -j DROP` before it. Loopback (`lo`) traffic
is left out: the host talking to itself is trusted.

Why it matters: INVALID is what conntrack says of packets that belong to no connection it
can follow: TCP segments outside the window, impossible flag combinations, ICMP errors
about no connection, bad checksums. An ESTABLISHED,RELATED accept does not accept them,
but a later `-p tcp --dport 22 -j ACCEPT` does. And INVALID packets have no conntrack entry,
so they skip the nat table entirely: an INVALID packet accepted in FORWARD leaves without
the source NAT (MASQUERADE/SNAT) its connection has, with the private address of the host
behind the router (the lint says so when such a NAT rule would have matched it).

Example:
    -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A FORWARD -i eth1 -o eth0 -j ACCEPT       <- INVALID packets from the LAN leave un-NATed

Instead: drop them right after the ESTABLISHED accept:
    -A FORWARD -m conntrack --ctstate INVALID -j DROP
or accept only `--ctstate NEW` in the later rules.",
    },
    check,
    whole_ruleset: true,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    let tables = &input.ruleset.tables;
    let Some(filter) = tables.iter().find(|t| t.kind == TableKind::Filter) else {
        return;
    };
    let nat = tables.iter().find(|t| t.kind == TableKind::Nat);
    let view = crate::lint::rules::dnat_not_forwarded::shared_view(
        &tables
            .iter()
            .filter(|t| matches!(t.kind, TableKind::Filter | TableKind::Nat))
            .collect::<Vec<_>>(),
    );
    let view = TableView {
        mark: MarkView::of(filter),
        ..view
    };
    for name in ["INPUT", "FORWARD"] {
        let Some(ci) = filter.chain_index(name) else {
            continue;
        };
        if !stateful(filter, ci) {
            continue;
        }
        let Some(found) = surely_reaching(filter, &view, ci, vec![invalid(&view, name)], accepts)
        else {
            continue;
        };
        // In FORWARD, the first accepting rule whose INVALID packets would
        // otherwise have been source-NATed shows the worst of it.
        let nated = nat
            .filter(|_| name == "FORWARD")
            .and_then(|n| nated(n, &view, &found));
        let (i, example, snat) = match nated {
            Some((i, (r, cubes))) => (i, example(&cubes, &view), Some(r)),
            None => match found.first() {
                Some((_, hit)) => (0, example(hit, &view), None),
                None => continue,
            },
        };
        let rule = found[i].0;
        let others: Vec<_> = found
            .iter()
            .filter(|(r, _)| !std::ptr::eq(*r, rule))
            .cloned()
            .collect();
        out.push(finding(input, name, rule, &example, &others, snat));
    }
}

/// The INVALID packets that enter built-in chain `name`: not from `lo`
/// (trusted), from a device; INPUT packets have no output device (atom 0),
/// forwarded ones have one.
fn invalid(view: &TableView, name: &str) -> Cube {
    let lo = Iface {
        name: "lo".into(),
        wildcard: false,
    };
    let not_lo = view.ifaces.set(&lo, true);
    let device = IntervalSet::full(u32::MAX).subtract(&IntervalSet::from_values([0]));
    let mut c = Cube::full();
    c.restrict(Dim::CtState, IntervalSet::from_values([0]));
    c.restrict(Dim::InIface, not_lo.intersect(&device));
    if name == "INPUT" {
        c.restrict(Dim::OutIface, IntervalSet::from_values([0]));
    } else {
        c.restrict(Dim::OutIface, not_lo.intersect(&device));
    }
    c
}

/// Among the accepting rules, the first whose INVALID packets would have
/// been source-NATed, preferring one where some such packet leaves its own
/// network (a believable example); its index and the NAT rule.
type Nated<'n> = (usize, (&'n Rule, Vec<Cube>));
fn nated<'n>(nat: &'n Table, view: &TableView, found: &[(&Rule, Vec<Cube>)]) -> Option<Nated<'n>> {
    let all: Vec<_> = found
        .iter()
        .enumerate()
        .filter_map(|(i, (_, hit))| source_nat(nat, view, hit).map(|s| (i, s)))
        .collect();
    let realistic = all
        .iter()
        .position(|(_, (_, c))| c.iter().any(leaves_its_net));
    realistic
        .or((!all.is_empty()).then_some(0))
        .map(|k| all[k].clone())
}

/// The chain (with what it jumps to) accepts ESTABLISHED packets.
fn stateful(table: &Table, ci: usize) -> bool {
    reachable_chains(table, ci)
        .iter()
        .flat_map(|c| &table.chains[*c].rules)
        .any(|r| accepts(r) && admits_state(r, 1))
}

/// The SNAT/MASQUERADE rule of nat POSTROUTING that a NEW packet with the
/// headers of some accepted INVALID packet would certainly reach, with those
/// packets (in state INVALID again).
fn source_nat<'n>(nat: &'n Table, view: &TableView, hit: &[Cube]) -> Option<(&'n Rule, Vec<Cube>)> {
    let uses_mark = |t: &Table| {
        t.chains
            .iter()
            .flat_map(|c| &c.rules)
            .flat_map(|r| &r.matches)
            .any(|m| matches!(m.m, crate::ext::Match::Mark(_)))
    };
    if uses_mark(nat) {
        return None;
    }
    let ci = nat.chain_index("POSTROUTING")?;
    let mut fresh = Cube::full();
    fresh.restrict(Dim::CtState, IntervalSet::from_values([24]));
    let mut new = meet(hit, &[Cube::full()]);
    for c in &mut new {
        c.0[Dim::CtState as usize] = fresh.0[Dim::CtState as usize].clone();
    }
    let found = surely_reaching(nat, view, ci, new, is_source_nat)?;
    let (rule, cubes) = found.into_iter().next()?;
    let invalid = meet(&cubes, &[Cube::full()])
        .into_iter()
        .map(|mut c| {
            c.0[Dim::CtState as usize] = IntervalSet::from_values([0]);
            c
        })
        .collect();
    Some((rule, invalid))
}

/// Some packet of the cube goes to an address outside its source range.
fn leaves_its_net(c: &Cube) -> bool {
    !c.0[Dim::Dst as usize]
        .subtract(&c.0[Dim::Src as usize])
        .is_empty()
}

/// A packet of `cubes` in the replay notation, with the interfaces the rules
/// ask for. TCP prefers a lone RST: with no connection conntrack finds it
/// INVALID (`tcp_new` refuses it; a lone ACK would be picked up as a new
/// connection with nf_conntrack_tcp_loose=1).
fn example(cubes: &[Cube], view: &TableView) -> String {
    let first = cubes.iter().find(|c| leaves_its_net(c)).or(cubes.first());
    let Some(p) = first.and_then(|c| {
        let mut c = c.clone();
        if c.0[Dim::TcpFlags as usize].contains(0x04) {
            c.0[Dim::TcpFlags as usize] = IntervalSet::from_values([0x04]);
        }
        // A destination outside the source's range reads like real traffic.
        let away = c.0[Dim::Dst as usize].subtract(&c.0[Dim::Src as usize]);
        if !away.is_empty() {
            c.0[Dim::Dst as usize] = away;
        }
        c.witness()
    }) else {
        return String::new();
    };
    let mut s = format!(", e.g. `{}`", notation(&p));
    for (dim, dir) in [(Dim::InIface, "in"), (Dim::OutIface, "out")] {
        if let Some(name) = view.ifaces.atom_name(p[dim as usize]) {
            s.push_str(&format!(" {dir} {name}"));
        }
    }
    s
}

fn is_source_nat(r: &Rule) -> bool {
    matches!(&r.target, RuleTarget::Ext(t) if matches!(t.name(), "SNAT" | "MASQUERADE"))
}

fn finding(
    input: &LintInput,
    chain: &str,
    rule: &Rule,
    example: &str,
    more: &[(&Rule, Vec<Cube>)],
    snat: Option<&Rule>,
) -> Diagnostic {
    let mut message = format!(
        "{chain} accepts INVALID packets here{example}: no `--ctstate INVALID -j DROP` comes first"
    );
    let mut d = Diagnostic::warning(input.file, rule_span(rule), String::new());
    if let Some(s) = snat {
        message.push_str(&format!(
            "; INVALID packets skip the nat table, so they leave without the {} of line {}",
            if matches!(&s.target, RuleTarget::Ext(t) if t.name() == "SNAT") {
                "SNAT"
            } else {
                "MASQUERADE"
            },
            line_of(input.file, rule_span(s))
        ));
        d = d.with_label(rule_span(s), "not applied to INVALID packets");
    }
    for (r, _) in more.iter().take(2) {
        d = d.with_label(rule_span(r), "accepts INVALID packets too");
    }
    d.message = message;
    let d = d.with_help(format!(
        "add `-A {chain} -m conntrack --ctstate INVALID -j DROP` after the RELATED,ESTABLISHED accept, or accept only `--ctstate NEW` here"
    ));
    // The mechanical fix: drop INVALID packets right before this rule, in
    // its own chain (restore-file lines only). Not applied by --fix: it
    // changes what the firewall does.
    let span = rule_span(rule);
    let line = input.file.slice(span);
    match line.split_whitespace().collect::<Vec<_>>()[..] {
        ["-A", own, ..] => {
            let at = crate::source::Span::new(span.start as usize, span.start as usize);
            d.with_fix(
                at,
                format!("-A {own} -m conntrack --ctstate INVALID -j DROP\n"),
                false,
            )
        }
        _ => d,
    }
}

#[cfg(test)]
mod tests {

    fn lines(filter: &str) -> Vec<usize> {
        let text = format!("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:U - [0:0]\n{filter}\nCOMMIT\n");
        let (file, found) = crate::lint::findings_of("IPT307", &text);
        found
            .iter()
            .map(|d| file.line_col(d.span.start as usize).line)
            .collect()
    }

    const EST: &str = "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT";

    #[test]
    fn port_accept_after_established_takes_invalid() {
        assert_eq!(
            lines(&format!("{EST}\n-A INPUT -p tcp --dport 22 -j ACCEPT")),
            [7]
        );
    }

    #[test]
    fn invalid_drop_first_or_new_only_is_clean() {
        let drop = "-A INPUT -m conntrack --ctstate INVALID -j DROP";
        let ssh = "-A INPUT -p tcp --dport 22 -j ACCEPT";
        assert!(lines(&format!("{EST}\n{drop}\n{ssh}")).is_empty());
        let new = "-A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT";
        assert!(lines(&format!("{EST}\n{new}")).is_empty());
        // The drop may sit in a chain jumped to first (ufw does this).
        let via = "-A INPUT -j U\n-A U -m state --state INVALID -j DROP";
        assert!(lines(&format!("{EST}\n{via}\n{ssh}")).is_empty());
        // Loopback is trusted.
        assert!(lines(&format!("-A INPUT -i lo -j ACCEPT\n{EST}")).is_empty());
    }

    #[test]
    fn stateless_chains_and_partial_drops_are_left_alone() {
        // No ESTABLISHED accept: the chain does not use conntrack.
        assert!(lines("-A INPUT -p tcp --dport 22 -j ACCEPT").is_empty());
        // An INVALID drop only for TCP: UDP INVALID packets still get in.
        let tcp_drop = "-A INPUT -p tcp -m conntrack --ctstate INVALID -j DROP";
        let dns = "-A INPUT -p udp --dport 53 -j ACCEPT";
        assert_eq!(lines(&format!("{EST}\n{tcp_drop}\n{dns}")), [8]);
        // A rule the model cannot read (string) is not claimed to accept.
        let s = "-A INPUT -p tcp -m string --string x --algo bm -j ACCEPT";
        assert!(lines(&format!("{EST}\n{s}")).is_empty());
    }
}
