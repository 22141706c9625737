//! IPT303 syn-instead-of-state: `! --syn -j ACCEPT` standing in for
//! connection tracking.

use super::util::{accepts, rule_span, state_atoms};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ext::Match;
use crate::lint::{Lint, LintInput, LintMeta};

/// `--syn` as libxt_tcp sets it: mask FIN,SYN,RST,ACK, comparison SYN.
pub const SYN: (u8, u8) = (0x17, 0x02);

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT303",
        name: "syn-instead-of-state",
        severity: Severity::Warning,
        summary: "TCP packets are accepted for not being SYNs, not for belonging to a connection",
        docs: "\
What it does: finds ACCEPT rules that match TCP by `! --syn` (or the same `--tcp-flags`
written out) and carry no `-m state`/`-m conntrack` condition.

Why it matters: this is the stateless idiom of the ipchains era for \"replies to my
connections\". The kernel only looks at the flag bits (tcp_mt in xt_tcpudp.c), so any packet
without SYN passes: an ACK, FIN or RST scan, or a forged segment to any port, is accepted
whether or not a connection exists. Connection tracking knows the connections.

Example:
    -A INPUT -p tcp ! --syn -j ACCEPT
Instead:
    -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    for table in &input.ruleset.tables {
        for chain in &table.chains {
            for r in &chain.rules {
                if !accepts(r) || state_atoms(r).is_some() {
                    continue;
                }
                let non_syn = r
                    .matches
                    .iter()
                    .find(|m| matches!(&m.m, Match::Tcp(t) if t.flags == Some(SYN) && t.flags_inv));
                if let Some(m) = non_syn {
                    out.push(
                        Diagnostic::warning(
                            input.file,
                            rule_span(r),
                            "accepts every TCP packet without SYN, whether or not a connection exists",
                        )
                        .with_label(m.span, "only the flag bits are checked")
                        .with_help(
                            "accept replies with -m conntrack --ctstate RELATED,ESTABLISHED instead",
                        ),
                    );
                }
            }
        }
    }
}
