//! IPT100 rejected-rule: a command iptables-restore refuses for a reason the
//! other 1xx lints do not name (unknown option, match or target, bad value).

use super::refused::report;
use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::LoadErrorKind;
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT100",
        name: "rejected-rule",
        severity: Severity::Error,
        summary: "iptables refuses this command (unknown option, match or target, bad value)",
        docs: "\
What it does: reports every command that `iptables-restore` (or `iptables`) 1.8.9 refuses
for a reason no more specific 1xx lint names: an unknown option, match or target, a value
out of range, options that exclude each other, a policy on a user chain.

Why it matters: iptables-restore loads a file all or nothing. One refused line means the
whole file is refused: the firewall you wrote never goes live and the old one stays.

Example:
    -A INPUT -p tcp -m time --days Mon -j ACCEPT     <- `--days` is `--weekdays`

Instead: write what iptables accepts; the message is iptables' own and the help line
says what it expected. `iptwalk fmt` prints the file the way iptables-save would.

Exit status: 1xx findings are findings (exit 1). A file iptwalk cannot read as iptables
input at all (broken quoting, a line outside a `*table`, an ip6tables file, an unreadable
file) is an input error: exit 2, and nothing is linted.",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    report(input, LoadErrorKind::Rejected, out);
}
