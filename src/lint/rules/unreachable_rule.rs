//! IPT202 unreachable-rule: rules after an unconditional terminal rule.

use super::util::{is_terminal, is_unconditional, line_of, rule_span, target_name};
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT202",
        name: "unreachable-rule",
        severity: Severity::Warning,
        summary: "rules after an unconditional ACCEPT, DROP, REJECT, RETURN or -g can never run",
        docs: "\
What it does: finds rules that come after a rule which matches every packet and ends the
chain (an unconditional ACCEPT, DROP, REJECT, RETURN, QUEUE or -g CHAIN).

Why it matters: the kernel walks a chain top to bottom and stops at that rule, so the rules
below it never see a packet. Usually a rule was appended (-A) where it should have been
inserted (-I), or a catch-all was put too early.

Example:
    -A INPUT -j DROP
    -A INPUT -p tcp --dport 22 -j ACCEPT     <- never reached

Instead: move the catch-all to the end of the chain, or use the chain policy
(`:INPUT DROP`) instead of a final DROP rule.",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    for table in &input.ruleset.tables {
        for chain in &table.chains {
            let Some(stop) = chain
                .rules
                .iter()
                .position(|r| is_unconditional(r) && is_terminal(r))
            else {
                continue;
            };
            let after = &chain.rules[stop + 1..];
            let Some(first) = after.first() else { continue };
            let blocker = &chain.rules[stop];
            let more = match after.len() {
                1 => String::new(),
                2 => " (nor can the rule after it)".to_string(),
                n => format!(" (nor can the {} rules after it)", n - 1),
            };
            out.push(
                Diagnostic::warning(input.file, rule_span(first), format!("this rule can never be reached{more}"))
                    .with_label(
                        rule_span(blocker),
                        format!("every packet in {} stops here ({})", chain.name, target_name(blocker)),
                    )
                    .with_help(format!(
                        "line {} matches every packet and ends the chain; move it below these rules or delete them",
                        line_of(input.file, rule_span(blocker))
                    )),
            );
        }
    }
}
