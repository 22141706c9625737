//! IPT205 duplicate-rule: the same rule twice in one chain.

use super::util::{line_of, rule_span};
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT205",
        name: "duplicate-rule",
        severity: Severity::Warning,
        summary: "a rule identical to an earlier rule of the same chain",
        docs: "\
What it does: finds rules with exactly the same matches and target as an earlier rule in the
same chain (compared in canonical form, so `--dport ssh` equals `--dport 22`).

Why it matters: if the first copy ends the walk (ACCEPT, DROP, ...), the second never
matches a packet; if not (LOG, MARK, a jump), the action runs twice. Duplicates usually come
from running a setup script twice without flushing.

Example:
    -A INPUT -p tcp --dport 22 -j ACCEPT
    -A INPUT -p tcp --dport ssh -j ACCEPT    <- duplicate

Instead: delete the second copy; make scripts idempotent (`iptables -C ... || iptables -A ...`).",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    for table in &input.ruleset.tables {
        for chain in &table.chains {
            for (i, r) in chain.rules.iter().enumerate() {
                let Some(first) = chain.rules[..i].iter().find(|e| e.same_spec(r)) else {
                    continue;
                };
                let mut d = Diagnostic::warning(
                    input.file,
                    rule_span(r),
                    format!(
                        "duplicate of the rule at line {}",
                        line_of(input.file, rule_span(first))
                    ),
                )
                .with_label(rule_span(first), "first defined here")
                .with_help("delete this copy");
                // A line that made several rules (`-s a,b`) cannot simply be deleted.
                if rule_span(first) != rule_span(r) {
                    d = d.with_fix(full_line(input, r), "", true);
                }
                out.push(d);
            }
        }
    }
}

/// The rule's line including its newline, so deleting leaves no blank line.
fn full_line(input: &LintInput, r: &crate::ir::Rule) -> crate::source::Span {
    let s = rule_span(r);
    let end = (s.end as usize + 1).min(input.file.text.len());
    crate::source::Span::new(s.start as usize, end)
}
