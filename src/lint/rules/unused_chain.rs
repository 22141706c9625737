//! IPT203 unused-chain: user chains nothing jumps to.

use super::util::chain_decl;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT203",
        name: "unused-chain",
        severity: Severity::Warning,
        summary: "a user-defined chain that no rule jumps to",
        docs: "\
What it does: finds user-defined chains that no rule enters with -j or -g.

Why it matters: packets only reach a user chain through a jump, so its rules never run.
Often the jump was lost in an edit, or the chain is left over from an old setup.

Example:
    :ssh-in - [0:0]
    -A ssh-in -s 192.0.2.0/24 -j ACCEPT      <- no `-j ssh-in` anywhere

Instead: add the jump (`-A INPUT -p tcp --dport 22 -j ssh-in`) or delete the chain.",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    for table in &input.ruleset.tables {
        for chain in table.user_chains() {
            if table.references(&chain.name) > 0 {
                continue;
            }
            let span = chain_decl(input.file, table, &chain.name);
            out.push(
                Diagnostic::warning(
                    input.file,
                    span,
                    format!("chain `{}` in table {} is never jumped to", chain.name, table.name()),
                )
                .with_help(format!(
                    "its {} rule(s) never run; add `-j {}` where packets should enter it, or delete the chain",
                    chain.rules.len(),
                    chain.name
                )),
            );
        }
    }
}
