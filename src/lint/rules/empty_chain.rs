//! IPT204 empty-chain: a jumped-to user chain with no rules.

use super::util::chain_decl;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT204",
        name: "empty-chain",
        severity: Severity::Warning,
        summary: "a user-defined chain that is jumped to but has no rules",
        docs: "\
What it does: finds user chains that rules jump to but that contain no rules.

Why it matters: a jump into an empty chain returns at once, so the jump does nothing.
Often the chain's rules were flushed or live in another file that was not loaded.

Example:
    :blocklist - [0:0]
    -A INPUT -j blocklist                    <- blocklist is empty

Instead: fill the chain, or remove the jump and the chain.",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    for table in &input.ruleset.tables {
        for chain in table.user_chains() {
            let refs = table.references(&chain.name);
            if !chain.rules.is_empty() || refs == 0 {
                continue;
            }
            out.push(
                Diagnostic::warning(
                    input.file,
                    chain_decl(input.file, table, &chain.name),
                    format!(
                        "chain `{}` is jumped to ({refs} time(s)) but has no rules",
                        chain.name
                    ),
                )
                .with_help(
                    "a jump into an empty chain returns at once; add its rules or remove the jumps",
                ),
            );
        }
    }
}
