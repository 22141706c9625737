//! IPT401 dnat-not-forwarded: a DNAT whose translated packets the filter
//! table drops, wherever they go.

use super::util::{reachable_chains, rule_span};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ext::Target;
use crate::ir::iface::Iface;
use crate::ir::{Rule, RuleTarget, Table, TableKind};
use crate::lint::flow::all_dropped;
use crate::lint::rules::shadowed_rule::notation;
use crate::lint::space::{covered, rule_set, Cube, Dim, Ifaces, IntervalSet, TableView, DIMS};
use crate::lint::space_ext::MarkView;
use crate::lint::{Lint, LintInput, LintMeta};
use crate::source::{SourceFile, Span};
use std::net::Ipv4Addr;

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT401",
        name: "dnat-not-forwarded",
        severity: Severity::Warning,
        summary:
            "a DNAT whose translated packets the filter table drops (no FORWARD accept for them)",
        docs: "\
What it does: for each DNAT rule reached from nat PREROUTING, builds the packets it
translates (its own match, with the new destination address and port, conntrack state
NEW with the DNAT bit) and follows them through the filter table: through FORWARD, where
they go when the new address is another host, and through INPUT, where they go when it is
this host's own. When both walks certainly end in DROP or REJECT (a rule or the policy),
every new connection the DNAT makes is dropped, whichever way it is routed. (For a new
address in 127.0.0.0/8 only INPUT is asked. Connections a conntrack helper expects, which
are RELATED, are not considered: the claim is about NEW ones.) Rules the model cannot read count as possibly accepting,
so the lint only speaks when the drop is certain.

Why it matters: DNAT only rewrites the destination; the filter table still has to let the
translated packet through. A port forward without its FORWARD accept is the most common
reason a port forward \"does not work\".

Example:
    *nat
    -A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80
    *filter
    :FORWARD DROP [0:0]
    -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT

Instead: accept the translated flow in FORWARD:
    -A FORWARD -i eth0 -d 192.168.1.10/32 -p tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT",
    },
    check,
    whole_ruleset: true,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    let tables = &input.ruleset.tables;
    let (Some(nat), Some(filter)) = (
        tables.iter().find(|t| t.kind == TableKind::Nat),
        tables.iter().find(|t| t.kind == TableKind::Filter),
    ) else {
        return;
    };
    if uses_mark(nat) || uses_mark(filter) {
        return; // the two tables would lay the mark dimension out differently
    }
    let view = shared_view(&[nat, filter]);
    let Some(pre) = nat.chain_index("PREROUTING") else {
        return;
    };
    for ci in reachable_chains(nat, pre) {
        let rules = &nat.chains[ci].rules;
        for (i, r) in rules.iter().enumerate() {
            if shadowed(&rules[..i], r, &view) {
                continue; // IPT201 says so; this DNAT translates nothing
            }
            if let Some(d) = judge(input, filter, &view, r) {
                out.push(d);
            }
        }
    }
}

/// Earlier rules of the chain that end the walk take every packet of `r`.
fn shadowed(earlier: &[Rule], r: &Rule, view: &TableView) -> bool {
    let sets: Vec<_> = earlier
        .iter()
        .filter(|e| super::util::is_terminal(e))
        .map(|e| rule_set(e, view))
        .filter(|s| s.exact)
        .collect();
    let covers: Vec<&Cube> = sets.iter().flat_map(|s| &s.cubes).collect();
    rule_set(r, view)
        .cubes
        .iter()
        .all(|c| covered(c, &covers, 4096) == Some(true))
}

fn uses_mark(t: &Table) -> bool {
    t.chains
        .iter()
        .flat_map(|c| &c.rules)
        .flat_map(|r| &r.matches)
        .any(|m| matches!(m.m, crate::ext::Match::Mark(_)))
}

/// One interface layout for several tables, with `lo` among the names.
pub fn shared_view(tables: &[&Table]) -> TableView {
    let lo = Iface {
        name: "lo".into(),
        wildcard: false,
    };
    let ifaces: Vec<&Iface> = tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
        .flat_map(|r| [&r.in_iface, &r.out_iface])
        .chain([&lo])
        .collect();
    TableView {
        ifaces: Ifaces::collect(ifaces),
        mark: MarkView::default(),
    }
}

/// The finding for DNAT rule `r`, when every packet it translates is dropped.
fn judge(input: &LintInput, filter: &Table, view: &TableView, r: &Rule) -> Option<Diagnostic> {
    let RuleTarget::Ext(Target::Dnat(dnat)) = &r.target else {
        return None;
    };
    let range = dnat.range.as_ref()?;
    let original = rule_set(r, view).cubes;
    let lo = view.ifaces.set(
        &Iface {
            name: "lo".into(),
            wildcard: false,
        },
        false,
    );
    // Packets arrive on a device, and not on lo: loopback traffic got its
    // NAT in OUTPUT and does not pass nat PREROUTING again.
    let arriving = IntervalSet::full(u32::MAX).subtract(&lo).subtract(&none());
    let original: Vec<Cube> = original
        .into_iter()
        .map(|mut c| {
            c.restrict(Dim::InIface, arriving.clone());
            c
        })
        .filter(|c| !c.is_empty())
        .collect();
    let translated: Vec<Cube> = original
        .iter()
        .map(|c| translate(c, range.addrs, range.ports))
        .collect();
    let loopback = range
        .addrs
        .is_some_and(|(lo, hi)| lo >> 24 == 127 && hi >> 24 == 127);
    let mut by_forward = Vec::new();
    if !loopback {
        let ci = filter.chain_index("FORWARD")?;
        let fwd = with_out(
            &translated,
            IntervalSet::full(u32::MAX).subtract(&lo).subtract(&none()),
        );
        by_forward = all_dropped(filter, view, ci, fwd)?;
    }
    let ci = filter.chain_index("INPUT")?;
    let by_input = all_dropped(filter, view, ci, with_out(&translated, none()))?;
    let original_point = original.iter().find_map(|c| prefer_syn(c).witness())?;
    let new_point = translate_point(&original_point, range.addrs, range.ports);
    let mut d = Diagnostic::warning(
        input.file,
        rule_span(r),
        format!(
            "every new connection this DNAT translates is dropped: e.g. `{}` becomes `{}`, which {}",
            notation(&original_point),
            notation(&new_point),
            if loopback {
                "INPUT drops"
            } else {
                "FORWARD drops (and INPUT too, if the address is this host's)"
            }
        ),
    );
    let mut labelled = Vec::new();
    let chains = [("FORWARD", &by_forward), ("INPUT", &by_input)];
    for (chain, by) in chains.into_iter().skip(usize::from(loopback)) {
        let span = match by.first() {
            Some(Some(rule)) => rule_span(rule),
            _ => policy_decl(input.file, chain),
        };
        if !labelled.contains(&span.start) {
            labelled.push(span.start);
            d = d.with_label(span, format!("{chain} drops it here"));
        }
    }
    Some(d.with_help(help(r, &new_point, loopback)))
}

/// Where the filter table's policy of `chain` is set: its `:CHAIN` line
/// after `*filter`, or a `-P CHAIN` command that names no other table.
fn policy_decl(file: &SourceFile, chain: &str) -> Span {
    let mut in_filter = false;
    for n in 1..=file.line_count() {
        let span = file.line_span(n);
        let line = file.slice(span);
        if let Some(t) = line.strip_prefix('*') {
            in_filter = t.trim() == "filter";
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let declared = in_filter && words.first() == Some(&format!(":{chain}").as_str());
        let other_table = words.windows(2).any(|w| w[0] == "-t" && w[1] != "filter");
        let policy = !other_table && words.windows(2).any(|w| w[0] == "-P" && w[1] == chain);
        if declared || policy {
            return span;
        }
    }
    Span::new(0, 0)
}

/// The "no device" interface atom.
fn none() -> IntervalSet {
    IntervalSet::from_values([0])
}

fn with_out(cubes: &[Cube], out: IntervalSet) -> Vec<Cube> {
    cubes
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.restrict(Dim::OutIface, out.clone());
            c
        })
        .filter(|c| !c.is_empty())
        .collect()
}

/// What nf_nat_ipv4_manip_pkt makes of the packets: the new destination
/// address and port (when the DNAT gives them), and conntrack state NEW
/// with the DNAT status bit (atom 3 * 8 + 2), as the filter table sees it.
fn translate(c: &Cube, addrs: Option<(u32, u32)>, ports: Option<(u16, u16)>) -> Cube {
    let mut c = c.clone();
    if let Some((lo, hi)) = addrs {
        c.0[Dim::Dst as usize] = IntervalSet::range(lo, hi);
    }
    if let Some((lo, hi)) = ports {
        c.0[Dim::Dport as usize] = IntervalSet::range(u32::from(lo), u32::from(hi));
    }
    c.0[Dim::CtState as usize] = IntervalSet::from_values([26]);
    c
}

fn translate_point(
    p: &[u32; DIMS],
    addrs: Option<(u32, u32)>,
    ports: Option<(u16, u16)>,
) -> [u32; DIMS] {
    let mut q = *p;
    if let Some((lo, _)) = addrs {
        q[Dim::Dst as usize] = lo;
    }
    if let Some((lo, _)) = ports {
        q[Dim::Dport as usize] = u32::from(lo);
    }
    q
}

/// A connection starts with a SYN.
fn prefer_syn(c: &Cube) -> Cube {
    let mut c = c.clone();
    if c.0[Dim::TcpFlags as usize].contains(0x02) {
        c.0[Dim::TcpFlags as usize] = IntervalSet::from_values([0x02]);
    }
    c.0[Dim::CtState as usize] = IntervalSet::from_values([24]);
    c
}

/// The accept rule to add, from what the DNAT rule says.
fn help(r: &Rule, new: &[u32; DIMS], loopback: bool) -> String {
    let chain = if loopback { "INPUT" } else { "FORWARD" };
    let mut s = format!("accept the translated flow: -A {chain}");
    if !r.in_iface.is_any() && !r.in_inv {
        s.push_str(&format!(" -i {}", r.in_iface));
    }
    s.push_str(&format!(
        " -d {}/32",
        Ipv4Addr::from(new[Dim::Dst as usize])
    ));
    match new[Dim::Proto as usize] {
        6 => s.push_str(&format!(
            " -p tcp -m tcp --dport {}",
            new[Dim::Dport as usize]
        )),
        17 => s.push_str(&format!(
            " -p udp -m udp --dport {}",
            new[Dim::Dport as usize]
        )),
        _ => {}
    }
    s.push_str(" -m conntrack --ctstate DNAT -j ACCEPT");
    s
}

#[cfg(test)]
mod tests {
    use crate::conntrack::Params;
    use crate::eval::engine::{Engine, Options};
    use crate::eval::host::Host;
    use crate::eval::outcome::Record;
    use crate::packet::{parse_summary, Frame};
    use crate::source::SourceFile;

    fn rules(filter: &str) -> String {
        format!("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80\nCOMMIT\n*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n{filter}\nCOMMIT\n")
    }

    fn found(text: &str) -> Vec<String> {
        let (_, found) = crate::lint::findings_of("IPT401", text);
        found.into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn the_example_packet_is_dropped_after_dnat() {
        let text = rules("");
        let msgs = found(&text);
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        let original = msgs[0].split('`').nth(1).expect("example packet");
        // Replay it: it arrives on eth0 for the router's address, is
        // translated and dropped in FORWARD.
        let file = SourceFile::new("t", text.as_str());
        let rs = crate::ir::load(&file).ruleset;
        let synth = parse_summary(original).expect("notation");
        let local = synth.packet().expect("packet").ip.dst();
        let lan = crate::ir::addr::parse_one("192.168.1.0/24").expect("cidr");
        let host = Host::oracle(&[local], &[lan]);
        let mut engine = Engine::new(&rs, host, Params::default(), Options::default());
        let bytes = synth.bytes();
        let frame = Frame {
            index: 0,
            offset: 0,
            ts_ns: 0,
            linktype: 228,
            iface: None,
            orig_len: bytes.len() as u32,
            data: bytes,
            anomaly: None,
        };
        let Record::Packet(out) = engine.process(&frame) else {
            panic!("skipped");
        };
        assert_eq!(out.hook, Some("FORWARD"));
        assert!(matches!(out.verdict, crate::eval::outcome::Verdict::Drop));
        assert_eq!(out.rule, None, "the FORWARD policy drops it");
    }

    #[test]
    fn an_accept_for_the_flow_or_an_open_input_silences_it() {
        let fwd =
            "-A FORWARD -d 192.168.1.10/32 -p tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT";
        assert!(found(&rules(fwd)).is_empty());
        // If 192.168.1.10 were this host's own address INPUT would take it:
        // without knowing, say nothing.
        assert!(found(&rules("-A INPUT -p tcp --dport 80 -j ACCEPT")).is_empty());
        // A rule the model cannot read may accept it.
        let s = "-A FORWARD -m string --string x --algo bm -j ACCEPT";
        assert!(found(&rules(s)).is_empty());
        // A drop rule for other traffic changes nothing.
        assert_eq!(found(&rules("-A FORWARD -p udp -j DROP")).len(), 1);
    }
}
