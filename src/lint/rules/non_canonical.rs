//! IPT501 non-canonical: a rule line not written the way iptables-save prints it.

use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::save::rule_spec;
use crate::lint::{Lint, LintInput, LintMeta};
use crate::syntax::Format;

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT501",
        name: "non-canonical",
        severity: Severity::Note,
        summary: "a rule not written in canonical iptables-save form",
        docs: "\
What it does: compares each `-A` line of an iptables-restore file with the text
`iptables-save` would print for the same rule (what `iptwalk fmt` prints).

Why it matters: iptables stores rules in a normal form: `--dport ssh` becomes `--dport 22`,
`-s 10.1.2.3/8` becomes `-s 10.0.0.0/8`, `-p tcp --dport` gets its implicit `-m tcp`.
Keeping files canonical makes diffs against `iptables-save` output empty, and reveals
surprises such as a host address that was silently turned into a network.

Example:
    -A INPUT -s 10.1.2.3/8 -p tcp --dport ssh -j ACCEPT
Instead:
    -A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT

`iptwalk lint --fix` rewrites such lines; `iptwalk fmt` rewrites whole files.",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    if crate::syntax::detect_format(&input.file.text) != Format::Restore {
        return;
    }
    for table in &input.ruleset.tables {
        for chain in &table.chains {
            for r in &chain.rules {
                let text = input.file.slice(r.origin.line);
                // `[p:b]` counters are not part of the rule.
                let (prefix, body) = match text.find(']').filter(|_| text.starts_with('[')) {
                    Some(i) => text.split_at(i + 1),
                    None => ("", text),
                };
                let body = body.trim_start();
                if !body.starts_with("-A ") {
                    continue;
                }
                let mut canonical = format!("-A {}", chain.name);
                rule_spec(&mut canonical, r);
                if body.trim_end() == canonical {
                    continue;
                }
                let fixed = if prefix.is_empty() {
                    canonical.clone()
                } else {
                    format!("{prefix} {canonical}")
                };
                out.push(
                    Diagnostic::new(
                        Severity::Note,
                        input.file,
                        r.origin.line,
                        "rule is not in canonical iptables-save form",
                    )
                    .with_help(format!("iptables-save prints it as: {canonical}"))
                    .with_fix(r.origin.line, fixed, true),
                );
            }
        }
    }
}
