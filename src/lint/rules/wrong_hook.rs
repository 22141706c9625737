//! IPT102 wrong-hook: a target, match or option used in a chain reachable
//! from a hook that does not allow it, judged through the jump graph as the
//! kernel's `mark_source_chains` does.

use super::refused::{hook_path, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::LoadErrorKind;
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT102",
        name: "wrong-hook",
        severity: Severity::Error,
        summary:
            "a target, match or option used from a hook (through jumps) that does not allow it",
        docs: "\
What it does: the kernel gives every rule the set of hooks (PREROUTING, INPUT, FORWARD,
OUTPUT, POSTROUTING) from which a chain of jumps reaches it, and refuses extensions used
from hooks they cannot work in. This lint reports those, with the jumps that bring the
forbidden hook, for example:
  - DNAT and REDIRECT outside nat PREROUTING/OUTPUT, SNAT outside INPUT/POSTROUTING;
  - REJECT outside INPUT, FORWARD and OUTPUT (also in mangle and raw user chains);
  - TCPMSS --clamp-mss-to-pmtu outside FORWARD, OUTPUT and POSTROUTING;
  - addrtype --limit-iface-in outside PREROUTING/INPUT/FORWARD, --limit-iface-out
    outside OUTPUT/FORWARD/POSTROUTING;
  - physdev --physdev-out (and --physdev-is-out) outside FORWARD/OUTPUT/POSTROUTING;
  - owner outside OUTPUT/POSTROUTING; mac outside PREROUTING/INPUT/FORWARD.
A user chain no built-in chain reaches is not checked (the kernel does not either).

Why it matters: the kernel refuses the whole table at COMMIT, so the file does not load;
with `iptables -A` the command fails.

Example:
    *nat
    -A POSTROUTING -j PORTFW
    -A PORTFW -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.5:80   <- reached from POSTROUTING

Instead: jump to the chain only from hooks it is valid in (here `-A PREROUTING -j PORTFW`),
or split the chain in two.",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    let mut found = Vec::new();
    report(input, LoadErrorKind::WrongHook, &mut found);
    for mut d in found {
        for (span, label) in hook_path(input, &d) {
            d = d.with_label(span, label);
        }
        out.push(d);
    }
}
