//! IPT103 missing-chain: `-j`/`-g` to a chain that does not exist.

use super::refused::report;
use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::LoadErrorKind;
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT103",
        name: "missing-chain",
        severity: Severity::Error,
        summary: "a jump or goto to a chain that does not exist",
        docs: "\
What it does: reports `-j NAME` and `-g NAME` where NAME is neither a chain of the table
(declared before the rule, with `:NAME - [0:0]` or `-N NAME`) nor a target extension.

Why it matters: iptables takes an unknown target name for an extension and fails to load
it (`Couldn't load target `NAME':No such file or directory`), so the file does not load.
Usually a typo, or a chain declared in another file or after the jump.

Example:
    -A INPUT -j LOGDROP       <- no `:LOGDROP - [0:0]` line

Instead: declare the chain (`:LOGDROP - [0:0]` with the other chain lines of the table),
or fix the name.",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    report(input, LoadErrorKind::MissingChain, out);
}
