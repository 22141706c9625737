//! `-j SNAT` (libxt_NAT.c revision 1, xt_nat.c): rewrites the source of a new
//! connection. Only in the nat table's POSTROUTING and INPUT hooks.
//!
//! Revision 1 (`nf_nat_range`) has no base-port field: a `/BASE` given with
//! the ports keeps the shifted-map flag but the base is lost, so
//! iptables-save prints `/0`.

use super::dnat::must_have;
use super::nat_range::{fmt_range, parse_to, NatRange};
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts, NatRequest};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, RuleCtx, TargetDef, TargetResult};
use crate::ir::hook::Hook;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snat {
    pub range: Option<NatRange>,
    pub random: bool,
    pub random_fully: bool,
    pub persistent: bool,
}

impl TargetDef for Snat {
    const NAME: &'static str = "SNAT";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("to-source"),
        OptSpec::flag("random"),
        OptSpec::flag("random-fully"),
        OptSpec::flag("persistent"),
    ];

    fn parse(&mut self, call: &OptCall, ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "to-source" => {
                let mut r = parse_to(call.arg(), ctx).map_err(|e| e.at(call.arg_span()))?;
                r.base = r.base.map(|_| 0);
                self.range = Some(r);
            }
            "random" => self.random = true,
            "random-fully" => self.random_fully = true,
            "persistent" => self.persistent = true,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(self.range.is_some(), "SNAT", "to-source")
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "SNAT", Some("nat"), &[Hook::Input, Hook::Postrouting])
    }

    /// `SNAT_print` (`__NAT_print` in libxt_NAT.c): ` to:` and the flags.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(r) = &self.range {
            out.push_str(" to:");
            fmt_range(out, r);
        }
        for (on, name) in [
            (self.random, " random"),
            (self.random_fully, " random-fully"),
            (self.persistent, " persistent"),
        ] {
            if on {
                out.push_str(name);
            }
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(r) = &self.range {
            out.push_str(" --to-source ");
            fmt_range(out, r);
        }
        for (on, name) in [
            (self.random, " --random"),
            (self.random_fully, " --random-fully"),
            (self.persistent, " --persistent"),
        ] {
            if on {
                out.push_str(name);
            }
        }
    }

    /// xt_snat_target_v1: hands the range to `nf_nat_setup_info` (done by the engine).
    fn run(&self, _f: &Facts, fx: &mut Effects) -> TargetResult {
        let r = self.range.unwrap_or_default();
        fx.nat = Some(NatRequest {
            dnat: false,
            addrs: r.addrs,
            ports: r.ports,
            masquerade: false,
            redirect: false,
            netmap: false,
            random: self.random,
            random_fully: self.random_fully,
            persistent: self.persistent,
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
    fn base_port_is_lost() {
        let r = "-p tcp -j SNAT --to-source 1.1.1.1:10-20/30 --random-fully --random";
        assert_eq!(
            fmt_rule("nat", "POSTROUTING", r).unwrap(),
            "-p tcp -j SNAT --to-source 1.1.1.1:10-20/0 --random --random-fully"
        );
        assert!(fmt_rule("nat", "OUTPUT", "-j SNAT --to 1.1.1.1").is_err());
    }
}
