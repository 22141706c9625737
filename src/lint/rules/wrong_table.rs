//! IPT101 wrong-table: a target or match the kernel only accepts in another
//! table (`xt_check_target`'s `.table`).

use super::refused::report;
use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::LoadErrorKind;
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT101",
        name: "wrong-table",
        severity: Severity::Error,
        summary: "a target or match that is only valid in another table",
        docs: "\
What it does: reports targets and matches used in a table the kernel does not allow them
in: DNAT, SNAT, MASQUERADE, REDIRECT and NETMAP outside `*nat`; NOTRACK and CT outside
`*raw`; MARK-style mangling targets such as TOS, TTL, DSCP, ECN, TCPOPTSTRIP and TPROXY
outside `*mangle`; rpfilter outside raw and mangle; SECMARK outside mangle and security.

Why it matters: the kernel refuses the table when iptables-restore commits it
(`x_tables: ip_tables: DNAT target: only valid in nat table, not filter` in the kernel
log; iptables-restore itself only says `line N failed`), so the whole file fails to load.

Example:
    *filter
    -A FORWARD -d 203.0.113.5 -p tcp --dport 80 -j DNAT --to-destination 10.0.0.5

Instead: put the rule in the table named in the message (`*nat`, `-A PREROUTING ...`) and,
in `*filter`, accept what it translates to.",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    report(input, LoadErrorKind::WrongTable, out);
}
