//! IPT306 ftp-without-helper: FTP control accepted and RELATED accepted, but
//! no FTP helper assigned, so data connections are never RELATED.

use super::util::{accepts, admits_state, rule_span};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ext::{Match, Target};
use crate::ir::{RuleTarget, TableKind};
use crate::lint::{Lint, LintInput, LintMeta};

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT306",
        name: "ftp-without-helper",
        severity: Severity::Note,
        summary: "FTP and RELATED are accepted, but no `-j CT --helper ftp` assigns the FTP helper",
        docs: "\
What it does: fires when the file accepts TCP port 21 (`--dport 21`, `20:21`, or in a multiport
list; wide ranges such as 1:65535 do not count) and accepts
RELATED packets, but has no raw-table rule `-j CT --helper ftp`.

Why it matters: an FTP data connection is RELATED only when the ftp conntrack helper watches
the control connection and creates an expectation (nf_conntrack_ftp.c). Since Linux 4.7 helpers
are no longer attached automatically by port (nf_conntrack_helper defaults to 0, and the
switch is gone since 6.0); the ruleset has to assign them with the CT target. Without it, on
a current kernel, active and passive data connections arrive as NEW and meet the rules for
new connections instead (usually the policy), so transfers hang after PASV/PORT.

Example:
    -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A INPUT -p tcp --dport 21 -j ACCEPT
Instead: add, in *raw,
    -A PREROUTING -p tcp --dport 21 -j CT --helper ftp
(and, for a client, the same in OUTPUT).",
    },
    check,
    whole_ruleset: true,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    let rs = input.ruleset;
    let helper = rs
        .tables
        .iter()
        .filter(|t| t.kind == TableKind::Raw)
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
        .any(|r| matches!(&r.target, RuleTarget::Ext(Target::Ct(ct)) if ct.helper == "ftp"));
    if helper {
        return;
    }
    let filter = || {
        rs.tables
            .iter()
            .filter(|t| t.kind == TableKind::Filter)
            .flat_map(|t| &t.chains)
            .flat_map(|c| &c.rules)
    };
    let related = filter().any(|r| accepts(r) && admits_state(r, 2));
    let Some(ftp) = filter().find(|r| accepts(r) && names_port_21(r)) else {
        return;
    };
    if related {
        out.push(
            Diagnostic::new(
                Severity::Note,
                input.file,
                rule_span(ftp),
                "FTP control is accepted, but no FTP helper is assigned: on Linux 4.7 and later its data connections are not RELATED",
            )
            .with_help("add to *raw: -A PREROUTING -p tcp --dport 21 -j CT --helper ftp"),
        );
    }
}

/// `21` or `20:21`: a port range that is about FTP, not `1:65535`.
fn ftp((lo, hi): (u16, u16)) -> bool {
    (20..=21).contains(&lo) && hi == 21
}

/// The rule asks for TCP destination (or multiport) port 21 by name, not by
/// accepting every port.
fn names_port_21(r: &crate::ir::Rule) -> bool {
    r.proto == 6
        && !r.proto_inv
        && r.matches.iter().any(|m| match &m.m {
            Match::Tcp(t) => !t.dport_inv && ftp(t.dport),
            Match::Multiport(mp) => {
                !mp.invert
                    && mp.which != crate::ext::matches::multiport::Which::Source
                    && mp.ports.iter().copied().any(ftp)
            }
            _ => false,
        })
}
