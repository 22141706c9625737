//! IPT502 deprecated-state: `-m state` where `-m conntrack --ctstate` is meant.

use crate::diagnostic::{Diagnostic, Severity};
use crate::ext::matches::state::fmt_states;
use crate::ext::Match;
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT502",
        name: "deprecated-state",
        severity: Severity::Note,
        summary: "`-m state --state` is the old spelling of `-m conntrack --ctstate`",
        docs: "\
What it does: points at `-m state --state LIST` matches.

Why it matters: the state match is the historical subset of the conntrack match; the kernel
documents it as obsolete and the nft backend translates it to conntrack. `-m conntrack
--ctstate` matches the same packets and also knows the DNAT/SNAT virtual states, so
rulesets that use one spelling throughout are easier to read and to lint.

Example:
    -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
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
                for m in &r.matches {
                    let Match::State(s) = &m.m else { continue };
                    let mut states = String::new();
                    fmt_states(&mut states, s.mask);
                    let bang = if s.invert { "! " } else { "" };
                    out.push(
                        Diagnostic::new(
                            Severity::Note,
                            input.file,
                            m.span,
                            "`-m state` is the obsolete spelling of `-m conntrack --ctstate`",
                        )
                        .with_help(format!("write: -m conntrack {bang}--ctstate {states}")),
                    );
                }
            }
        }
    }
}
