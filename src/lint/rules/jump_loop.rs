//! IPT104 jump-loop: jumps that form a loop reachable from a built-in chain.

use super::refused::report;
use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::LoadErrorKind;
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT104",
        name: "jump-loop",
        severity: Severity::Error,
        summary: "jumps (-j/-g) that loop back to a chain already on the path",
        docs: "\
What it does: follows every `-j` and `-g` from the built-in chains, as the kernel's
`mark_source_chains` does when a table is loaded, and reports the jump that closes a loop.

Why it matters: the kernel refuses the table (ELOOP: `iptables: Too many levels of symbolic
links.`), so the file does not load. A loop among chains no built-in chain reaches loads,
and is not reported.

Example:
    -A INPUT -j A
    -A A -j B
    -A B -j A          <- closes the loop A -> B -> A

Instead: a chain that is done should RETURN (or simply end); to share rules between two
chains, move them into a third chain both jump to.",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    report(input, LoadErrorKind::JumpLoop, out);
}
