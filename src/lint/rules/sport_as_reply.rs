//! IPT302 sport-as-reply: "allowing replies" by source port.

use super::util::{accepts, reachable_chains, rule_span};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ext::Match;
use crate::ir::{Rule, TableKind};
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT302",
        name: "sport-as-reply",
        severity: Severity::Warning,
        summary:
            "an ACCEPT by TCP/UDP source port, without a state match, lets anyone in from that port",
        docs: "\
What it does: finds rules on the INPUT and FORWARD paths that accept TCP or UDP packets by
their source port (`--sport 53`, `--sport 80`) without any conntrack/state condition.

Why it matters: the intent is usually \"let the replies of my DNS or web requests in\", but
the source port is chosen by the sender: anyone can send from port 53 or 80 and reach any
port of this host. Connection tracking knows what is a reply.

Example:
    -A INPUT -p udp --sport 53 -j ACCEPT     <- any host, from port 53, to any port

Instead:
    -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    let Some(table) = input
        .ruleset
        .tables
        .iter()
        .find(|t| t.kind == TableKind::Filter)
    else {
        return;
    };
    let mut inbound = Vec::new();
    for name in ["INPUT", "FORWARD"] {
        if let Some(i) = table.chain_index(name) {
            inbound.extend(reachable_chains(table, i));
        }
    }
    inbound.sort_unstable();
    inbound.dedup();
    for c in inbound {
        for r in &table.chains[c].rules {
            let Some(port) = sport_only(r) else { continue };
            out.push(
                Diagnostic::warning(
                    input.file,
                    rule_span(r),
                    format!("accepts every packet from source port {port}, not only replies"),
                )
                .with_help("match replies by state instead: -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
            );
        }
    }
}

/// The source port text when `r` accepts by TCP/UDP source port with no
/// state condition.
fn sport_only(r: &Rule) -> Option<String> {
    if !accepts(r) || r.proto_inv {
        return None;
    }
    let stateful = super::util::state_atoms(r).is_some();
    if stateful {
        return None;
    }
    r.matches.iter().find_map(|m| {
        let (range, inv) = match &m.m {
            Match::Tcp(t) => (t.sport, t.sport_inv),
            Match::Udp(u) => (u.sport, u.sport_inv),
            _ => return None,
        };
        if inv || range == (0, u16::MAX) {
            return None;
        }
        let mut s = String::new();
        crate::ext::value::fmt_port_range(&mut s, range);
        Some(s)
    })
}
