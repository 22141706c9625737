//! IPT503 syn-flags-without-ack: `--tcp-flags` that look like `--syn` but
//! also match SYN/ACK.

use super::util::rule_span;
use crate::diagnostic::{Diagnostic, Severity};
use crate::ext::Match;
use crate::lint::{Lint, LintInput, LintMeta};

/// TCP flag bits (tcp.h).
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT503",
        name: "syn-flags-without-ack",
        severity: Severity::Warning,
        summary: "`--tcp-flags MASK SYN` without ACK in MASK also matches SYN/ACK, unlike `--syn`",
        docs: "\
What it does: finds ACCEPT, DROP and REJECT rules with `--tcp-flags MASK SYN` (not negated)
where MASK does not contain ACK. Other targets are left alone: MSS clamping
(`--tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`) is meant for SYN/ACK as well.

Why it matters: `--syn` is `--tcp-flags FIN,SYN,RST,ACK SYN`: a SYN without ACK, the first
packet of a connection. tcp_mt compares only the bits in MASK, so without ACK in it the rule
also matches SYN/ACK, the server's answer. A rule meant for \"connection attempts\" then also
takes replies (or, as a DROP, kills outgoing connections).

Example:
    Instead:
    -A INPUT -p tcp --syn -j LOG",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    for table in &input.ruleset.tables {
        for chain in &table.chains {
            for r in &chain.rules {
                // Only where the rule decides the packet's fate: MSS clamping
                // (`--tcp-flags SYN,RST SYN -j TCPMSS`) wants SYN/ACK too.
                if !decides(r) {
                    continue;
                }
                for m in &r.matches {
                    let Match::Tcp(t) = &m.m else { continue };
                    let Some((mask, comp)) = t.flags else {
                        continue;
                    };
                    if t.flags_inv || comp != SYN || mask & ACK != 0 {
                        continue;
                    }
                    out.push(
                        Diagnostic::warning(
                            input.file,
                            rule_span(r),
                            "these flags also match SYN/ACK (ACK is not in the mask)",
                        )
                        .with_label(m.span, "compares only the flags in the mask")
                        .with_help(
                            "write --syn (FIN,SYN,RST,ACK SYN) to match connection attempts only",
                        ),
                    );
                }
            }
        }
    }
}

/// ACCEPT, DROP or REJECT.
fn decides(r: &crate::ir::Rule) -> bool {
    use crate::ir::{RuleTarget, Verdict};
    match &r.target {
        RuleTarget::Verdict(v) => matches!(v, Verdict::Accept | Verdict::Drop),
        RuleTarget::Ext(t) => t.name() == "REJECT",
        _ => false,
    }
}
