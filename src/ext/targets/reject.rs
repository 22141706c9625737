//! `-j REJECT` (libipt_REJECT.c, ipt_REJECT.c): drops the packet and answers
//! with an ICMP error or a TCP RST.
//!
//! The kernel only accepts it in the filter table's INPUT, FORWARD and OUTPUT
//! hooks, and `tcp-reset` only in a rule that says `-p tcp` (without `!`)
//! (`reject_tg_check`). Userspace matches the name case-insensitively as a
//! prefix of a name or an alias, first entry wins (`icmp-net` is
//! `icmp-net-unreachable`), and always prints the canonical name.

use super::scope::restrict;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use crate::ir::hook::Hook;

/// `enum ipt_reject_with`, in the kernel's numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectWith {
    NetUnreachable = 0,
    HostUnreachable = 1,
    ProtoUnreachable = 2,
    PortUnreachable = 3,
    NetProhibited = 5,
    HostProhibited = 6,
    TcpReset = 7,
    AdminProhibited = 8,
}

/// `reject_table` in libipt_REJECT.c order: (name, alias, value).
const NAMES: &[(&str, &str, RejectWith)] = &[
    (
        "icmp-net-unreachable",
        "net-unreach",
        RejectWith::NetUnreachable,
    ),
    (
        "icmp-host-unreachable",
        "host-unreach",
        RejectWith::HostUnreachable,
    ),
    (
        "icmp-proto-unreachable",
        "proto-unreach",
        RejectWith::ProtoUnreachable,
    ),
    (
        "icmp-port-unreachable",
        "port-unreach",
        RejectWith::PortUnreachable,
    ),
    (
        "icmp-net-prohibited",
        "net-prohib",
        RejectWith::NetProhibited,
    ),
    (
        "icmp-host-prohibited",
        "host-prohib",
        RejectWith::HostProhibited,
    ),
    ("tcp-reset", "tcp-rst", RejectWith::TcpReset),
    (
        "icmp-admin-prohibited",
        "admin-prohib",
        RejectWith::AdminProhibited,
    ),
];

impl RejectWith {
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, _, w)| *w == self)
            .map_or("icmp-port-unreachable", |(n, _, _)| n)
    }

    /// `REJECT_parse`: a case-insensitive prefix of a name or alias.
    pub fn parse(s: &str) -> ExtResult<RejectWith> {
        let prefix_of = |full: &str| {
            full.get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
        };
        if let Some((_, _, w)) = NAMES.iter().find(|(n, a, _)| prefix_of(n) || prefix_of(a)) {
            return Ok(*w);
        }
        let mut e = ExtError::new(format!("unknown reject type \"{s}\""));
        if prefix_of("echo-reply") || prefix_of("echoreply") {
            e = e.help("--reject-with echo-reply is no longer supported");
        }
        Err(e)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub with: RejectWith,
}

impl Default for Reject {
    fn default() -> Reject {
        Reject {
            with: RejectWith::PortUnreachable,
        }
    }
}

impl TargetDef for Reject {
    const NAME: &'static str = "REJECT";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("reject-with")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "reject-with" => {
                self.with = RejectWith::parse(call.arg()).map_err(|e| e.at(call.arg_span()))?
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        use Hook::*;
        restrict(ctx, "REJECT", Some("filter"), &[Input, Forward, Output])?;
        if self.with == RejectWith::TcpReset && ctx.rule.proto() != Some(6) {
            return Err(ExtError::new("ipt_REJECT: TCP_RESET invalid for non-tcp")
                .help("`--reject-with tcp-reset` needs `-p tcp` (without `!`) in the rule"));
        }
        Ok(())
    }

    /// `reject_tg`: the reply is sent (reported as generated) and the packet
    /// dropped (NF_DROP).
    fn run(&self, _f: &Facts, fx: &mut Effects) -> TargetResult {
        fx.reject = Some(self.with);
        TargetResult::Drop
    }

    /// `REJECT_print`: the reply type's canonical name.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" reject-with ");
        out.push_str(self.with.name());
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" --reject-with ");
        out.push_str(self.with.name());
    }

    fn terminal(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::targets::fmt_rule;

    #[test]
    fn prefixes_and_aliases() {
        assert_eq!(
            RejectWith::parse("icmp-net"),
            Ok(RejectWith::NetUnreachable)
        );
        assert_eq!(
            RejectWith::parse("HOST-PROHIB"),
            Ok(RejectWith::HostProhibited)
        );
        assert_eq!(RejectWith::parse("tcp-rst"), Ok(RejectWith::TcpReset));
        assert!(RejectWith::parse("echo-reply").is_err());
        assert!(RejectWith::parse("icmp6-no-route").is_err());
    }

    #[test]
    fn kernel_checks() {
        let f = |t, c, r| fmt_rule(t, c, r);
        assert_eq!(
            f("filter", "INPUT", "-j REJECT").unwrap(),
            "-j REJECT --reject-with icmp-port-unreachable"
        );
        assert!(f("filter", "INPUT", "-j REJECT --reject-with tcp-reset").is_err());
        assert!(f(
            "filter",
            "INPUT",
            "! -p tcp -j REJECT --reject-with tcp-reset"
        )
        .is_err());
        assert!(f("mangle", "INPUT", "-j REJECT").is_err());
    }
}
