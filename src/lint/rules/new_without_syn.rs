//! IPT305 new-without-syn: TCP accepted in state NEW without asking for SYN.

use super::util::{accepts, rule_span, state_atoms};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ext::Match;
use crate::ir::{Rule, Table};
use crate::lint::space::IntervalSet;
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT305",
        name: "new-without-syn",
        severity: Severity::Note,
        summary: "TCP in state NEW is accepted without requiring SYN",
        docs: "\
What it does: finds ACCEPT rules for TCP (`-p tcp`) whose state condition admits only NEW
connections (`--ctstate NEW`, `--state NEW`), with no `--syn` or `--tcp-flags` condition
(rules of a user chain that some jump enters with a `--tcp-flags` test are left alone).

Why it matters: conntrack calls any first packet of an unknown flow NEW, not only a SYN:
with the default nf_conntrack_tcp_loose=1, tcp_new() in nf_conntrack_proto_tcp.c picks up an
ACK in the middle of a stream as a new connection. The rule then opens the port to packets
that cannot start a connection (ACK scans, stale sessions after a failover), which is rarely
meant.

Example:
    -A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT
Instead:
    -A INPUT -p tcp --dport 22 --syn -m conntrack --ctstate NEW -j ACCEPT",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    // NEW atoms (space_ext::ct_atoms, base 3).
    let new = IntervalSet::range(24, 31);
    for table in &input.ruleset.tables {
        for chain in &table.chains {
            if entered_with_flags(table, &chain.name) {
                continue;
            }
            for r in &chain.rules {
                if !accepts(r) || r.proto != 6 || r.proto_inv {
                    continue;
                }
                let Some(states) = state_atoms(r) else {
                    continue;
                };
                let only_new = !states.is_empty() && states.subtract(&new).is_empty();
                if only_new && !has_flags(r) {
                    out.push(
                        Diagnostic::new(
                            Severity::Note,
                            input.file,
                            rule_span(r),
                            "accepts any first TCP packet of a flow, not only a SYN",
                        )
                        .with_help("add --syn so that only connection attempts open a flow"),
                    );
                }
            }
        }
    }
}

fn has_flags(r: &Rule) -> bool {
    r.matches
        .iter()
        .any(|m| matches!(&m.m, Match::Tcp(t) if t.flags.is_some()))
}

/// Some jump into this (user) chain already tests TCP flags: the SYN
/// condition may live there, so the chain's rules are not judged alone.
fn entered_with_flags(table: &Table, chain: &str) -> bool {
    table
        .chains
        .iter()
        .flat_map(|c| &c.rules)
        .any(|r| r.target.chain() == Some(chain) && has_flags(r))
}
