//! `-j CHECKSUM` (libxt_CHECKSUM.c, xt_CHECKSUM.c): fills in a missing
//! checksum (for virtio/DHCP). Mangle table only; `--checksum-fill` is
//! mandatory.

use super::dnat::must_have;
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checksum {
    /// XT_CHECKSUM_OP_FILL.
    pub fill: bool,
}

impl TargetDef for Checksum {
    const NAME: &'static str = "CHECKSUM";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::flag("checksum-fill")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "checksum-fill" => self.fill = true,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(self.fill, "CHECKSUM", "checksum-fill")
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "CHECKSUM", Some("mangle"), &[])
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `CHECKSUM_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" CHECKSUM");
        if self.fill {
            out.push_str(" fill");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.fill {
            out.push_str(" --checksum-fill");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn mangle_and_mandatory() {
        let r = "-j CHECKSUM --checksum-fill";
        assert_eq!(fmt_rule("mangle", "POSTROUTING", r).unwrap(), r);
        assert!(fmt_rule("filter", "INPUT", r).is_err());
        assert!(fmt_rule("mangle", "POSTROUTING", "-j CHECKSUM").is_err());
    }
}
