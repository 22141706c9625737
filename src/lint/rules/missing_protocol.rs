//! IPT105 missing-protocol: a match or option that needs `-p PROTO`.

use super::refused::report;
use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::LoadErrorKind;
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT105",
        name: "missing-protocol",
        severity: Severity::Error,
        summary: "a match or option that needs -p tcp/udp/... which the rule does not give",
        docs: "\
What it does: reports options that only exist for a protocol the rule does not name with
`-p` (without `!`):
  - `--dport`/`--sport`/`--syn`/`--tcp-flags` without `-p tcp` (or `-p udp`): iptables loads
    the protocol's match from `-p`, so without it the option is unknown;
  - `-m multiport` without `-p tcp`, `udp`, `udplite`, `sctp` or `dccp`;
  - `-m tcp`/`-m udp`/`-m icmp`/`-m tcpmss` without the matching `-p`;
  - targets that need one: `REJECT --reject-with tcp-reset`, TCPMSS, SYNPROXY, TCPOPTSTRIP,
    a CT helper.

Why it matters: iptables (or the kernel, for the checks it makes at load) refuses the
command, so the file does not load. Ports are not a property of every packet: without the
protocol the rule has no port to test.

Example:
    -A INPUT --dport 22 -j ACCEPT
    -A INPUT -m multiport --dports 80,443 -j ACCEPT

Instead:
    -A INPUT -p tcp --dport 22 -j ACCEPT
    -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    report(input, LoadErrorKind::NeedsProtocol, out);
}
