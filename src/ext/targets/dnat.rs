//! `-j DNAT` (libxt_NAT.c revision 2, xt_nat.c): rewrites the destination of
//! a new connection. Only in the nat table's PREROUTING and OUTPUT hooks.

use super::nat_range::{fmt_range, parse_to, NatRange};
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts, NatRequest};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, RuleCtx, TargetDef, TargetResult};
use crate::ir::hook::Hook;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dnat {
    /// `None` until `--to-destination` is given (it is mandatory).
    pub range: Option<NatRange>,
    /// NF_NAT_RANGE_PROTO_RANDOM.
    pub random: bool,
    /// NF_NAT_RANGE_PERSISTENT.
    pub persistent: bool,
}

impl TargetDef for Dnat {
    const NAME: &'static str = "DNAT";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("to-destination"),
        OptSpec::flag("random"),
        OptSpec::flag("persistent"),
    ];

    fn parse(&mut self, call: &OptCall, ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "to-destination" => {
                let r = parse_to(call.arg(), ctx).map_err(|e| e.at(call.arg_span()))?;
                self.range = Some(r);
            }
            "random" => self.random = true,
            "persistent" => self.persistent = true,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(self.range.is_some(), "DNAT", "to-destination")
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "DNAT", Some("nat"), &[Hook::Prerouting, Hook::Output])
    }

    /// `DNAT_print` (`__NAT_print` in libxt_NAT.c): the save words without
    /// the dashes, the range after `to:`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(r) = &self.range {
            out.push_str(" to:");
            fmt_range(out, r);
        }
        if self.random {
            out.push_str(" random");
        }
        if self.persistent {
            out.push_str(" persistent");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(r) = &self.range {
            out.push_str(" --to-destination ");
            fmt_range(out, r);
        }
        if self.random {
            out.push_str(" --random");
        }
        if self.persistent {
            out.push_str(" --persistent");
        }
    }

    /// xt_dnat_target_v2: hands the range to `nf_nat_setup_info` (done by the engine).
    fn run(&self, _f: &Facts, fx: &mut Effects) -> TargetResult {
        let r = self.range.unwrap_or_default();
        fx.nat = Some(NatRequest {
            dnat: true,
            addrs: r.addrs,
            ports: r.ports,
            masquerade: false,
            redirect: false,
            netmap: false,
            random: self.random,
            random_fully: false,
            persistent: self.persistent,
        });
        TargetResult::Accept
    }

    fn terminal(&self) -> bool {
        true
    }
}

/// libxtables' `XTOPT_MAND` check: `NAME: option "--OPT" must be specified`.
pub fn must_have(present: bool, ext: &str, opt: &str) -> ExtResult {
    if present {
        Ok(())
    } else {
        Err(ExtError::new(format!(
            "{ext}: option \"--{opt}\" must be specified"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::RuleCtx;

    #[test]
    fn saves_range_then_flags() {
        let ctx = RuleCtx {
            proto: 6,
            proto_inv: false,
        };
        let d = Dnat {
            range: Some(parse_to("1.1.1.1:1000-2000/ftp", &ctx).unwrap()),
            random: true,
            persistent: true,
        };
        let mut s = String::new();
        d.save(&ctx, &mut s);
        assert_eq!(
            s,
            " --to-destination 1.1.1.1:1000-2000/21 --random --persistent"
        );
        assert!(Dnat::default().finalize(&ctx).is_err());
    }
}
