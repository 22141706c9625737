//! IPT301 no-established-accept: a chain that drops by default but never
//! accepts replies of established connections.

use super::util::{accepts, is_terminal, is_unconditional, reachable_chains};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::{Policy, Rule, RuleTarget, Table, TableKind, Verdict};
use crate::lint::{Lint, LintInput, LintMeta};
use crate::source::Span;

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT301",
        name: "no-established-accept",
        severity: Severity::Warning,
        summary: "a DROP policy (or final DROP/REJECT) with no earlier ESTABLISHED,RELATED accept",
        docs: "\
What it does: for the filter table's INPUT, FORWARD and OUTPUT chains whose policy is DROP
(or that end in an unconditional DROP or REJECT rule), checks that some rule reached from
the chain accepts packets in state ESTABLISHED (with `-m conntrack --ctstate` or
`-m state --state`).

Why it matters: a default-deny chain drops every packet no rule accepts, including the
replies to connections this host (or the hosts behind it) opened: DNS answers, HTTP
responses, the SYN-ACK of an outgoing SSH session. Without a stateful accept, outgoing
connections hang. The lint speaks only when such connections exist: INPUT when OUTPUT lets
something out, OUTPUT when INPUT lets something in, FORWARD when it forwards anything.

Example:
    :INPUT DROP [0:0]
    -A INPUT -p tcp --dport 22 -j ACCEPT     <- replies to outgoing traffic are dropped

Instead: put this near the top of the chain:
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
    for (ci, chain) in table.chains.iter().enumerate() {
        if !chain.is_builtin() {
            continue;
        }
        let final_drop = chain
            .rules
            .iter()
            .find(|r| is_unconditional(r) && is_terminal(r) && drops(r));
        let default_drop = chain.policy == Some(Policy::Drop);
        if final_drop.is_none() && !default_drop {
            continue;
        }
        let chains = reachable_chains(table, ci);
        let has_accept = chains
            .iter()
            .flat_map(|c| &table.chains[*c].rules)
            .any(|r| accepts(r) && (accepts_established(r) || is_unconditional(r)));
        if has_accept || !replies_expected(table, &chain.name) {
            continue;
        }
        let (span, what) = match final_drop {
            Some(r) => (r.origin.line, "ends in a rule that drops everything"),
            None => (policy_line(input, &chain.name), "has a DROP policy"),
        };
        out.push(
            Diagnostic::warning(
                input.file,
                span,
                format!("{} {what} but never accepts ESTABLISHED packets: replies to connections are dropped", chain.name),
            )
            .with_help(format!(
                "add near the top: -A {} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                chain.name
            )),
        );
    }
}

/// Whether some connection can be set up whose replies this chain would see:
/// INPUT sees replies to what OUTPUT lets out, OUTPUT to what INPUT lets in,
/// and FORWARD to what it forwards itself. A FORWARD chain that accepts
/// nothing is simply "not a router" and is left alone.
fn replies_expected(table: &Table, chain: &str) -> bool {
    let other = match chain {
        "INPUT" => "OUTPUT",
        "OUTPUT" => "INPUT",
        "FORWARD" => "FORWARD",
        _ => return false,
    };
    let Some(i) = table.chain_index(other) else {
        return false;
    };
    table.chains[i].policy == Some(Policy::Accept) && other != chain
        || reachable_chains(table, i)
            .iter()
            .flat_map(|c| &table.chains[*c].rules)
            .any(accepts)
}

fn drops(r: &Rule) -> bool {
    match &r.target {
        RuleTarget::Verdict(Verdict::Drop) => true,
        RuleTarget::Ext(t) => t.name() == "REJECT",
        _ => false,
    }
}

/// A state match that lets ESTABLISHED packets through.
pub fn accepts_established(r: &Rule) -> bool {
    crate::lint::rules::util::admits_state(r, 1)
}

fn policy_line(input: &LintInput, chain: &str) -> Span {
    for n in 1..=input.file.line_count() {
        let span = input.file.line_span(n);
        let line = input.file.slice(span);
        if line.starts_with(&format!(":{chain} "))
            || line
                .split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|w| w[0] == "-P" && w[1] == chain)
        {
            return span;
        }
    }
    Span::new(0, 0)
}
