//! `-j MASQUERADE` (libxt_NAT.c, xt_MASQUERADE.c): SNAT to the address of the
//! outgoing interface. Only in the nat table's POSTROUTING hook.
//!
//! The kernel structure (`nf_nat_ipv4_multi_range_compat`) has no base port:
//! `--to-ports P-Q/B` keeps the shifted-map flag with base 0 (saved `/0`).

use super::nat_range::{fmt_ports, parse_ports, NatRange};
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts, NatRequest};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, RuleCtx, TargetDef, TargetResult};
use crate::ir::hook::Hook;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Masquerade {
    /// Only `ports` and `base` are used.
    pub range: NatRange,
    pub random: bool,
    pub random_fully: bool,
}

impl TargetDef for Masquerade {
    const NAME: &'static str = "MASQUERADE";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("to-ports"),
        OptSpec::flag("random"),
        OptSpec::flag("random-fully"),
    ];

    fn parse(&mut self, call: &OptCall, ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "to-ports" => {
                parse_ports(call.arg(), ctx, &mut self.range).map_err(|e| e.at(call.arg_span()))?;
                self.range.base = self.range.base.map(|_| 0);
            }
            "random" => self.random = true,
            "random-fully" => self.random_fully = true,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "MASQUERADE", Some("nat"), &[Hook::Postrouting])
    }

    /// `MASQUERADE_print` (`__NAT_print` in libxt_NAT.c, colon skipped).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some((lo, hi)) = self.range.ports {
            out.push_str(" masq ports: ");
            fmt_ports(out, &self.range, lo, hi);
        }
        if self.random {
            out.push_str(" random");
        }
        if self.random_fully {
            out.push_str(" random-fully");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some((lo, hi)) = self.range.ports {
            out.push_str(" --to-ports ");
            fmt_ports(out, &self.range, lo, hi);
        }
        if self.random {
            out.push_str(" --random");
        }
        if self.random_fully {
            out.push_str(" --random-fully");
        }
    }

    /// masquerade_tg: SNAT to the outgoing interface's address (picked by the engine from
    /// the host model, `nf_nat_masquerade_ipv4`).
    fn run(&self, _f: &Facts, fx: &mut Effects) -> TargetResult {
        fx.nat = Some(NatRequest {
            dnat: false,
            addrs: None,
            ports: self.range.ports,
            masquerade: true,
            redirect: false,
            netmap: false,
            random: self.random,
            random_fully: self.random_fully,
            persistent: false,
        });
        TargetResult::Accept
    }

    fn terminal(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn ports_and_hooks() {
        let f = |r| fmt_rule("nat", "POSTROUTING", r);
        assert_eq!(
            f("-p tcp -j MASQUERADE --to-ports 10-20/5 --random-fully --random").unwrap(),
            "-p tcp -j MASQUERADE --to-ports 10-20/0 --random --random-fully"
        );
        assert_eq!(
            f("-j MASQUERADE --to-ports 10").unwrap_err(),
            "Need TCP, UDP, SCTP or DCCP with port specification"
        );
        assert!(fmt_rule("nat", "INPUT", "-j MASQUERADE").is_err());
    }
}
