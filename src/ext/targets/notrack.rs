//! `-j NOTRACK` (libxt_CT.c's NOTRACK alias, xt_CT.c `notrack_tg_reg`): marks
//! the packet untracked. 1.8.9 loads it as `CT --notrack` but saves it as
//! `-j NOTRACK`; the kernel names it CT in its refusals. Raw table only.

use super::scope::restrict;
use crate::ext::facts::{Effects, Facts};
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use crate::ir::hook::Hook;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notrack;

impl TargetDef for Notrack {
    const NAME: &'static str = "NOTRACK";
    const OPTIONS: &'static [OptSpec] = &[];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        crate::ext::matches::tcp::unreachable_option(call)
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "CT", Some("raw"), &[Hook::Prerouting, Hook::Output])
    }

    fn run(&self, _f: &Facts, fx: &mut Effects) -> TargetResult {
        fx.notrack = true;
        TargetResult::Continue
    }

    /// `ct_print_v1` sees the XT_CT_NOTRACK_ALIAS flag and prints only this.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" NOTRACK");
    }

    fn save(&self, _ctx: &RuleCtx, _out: &mut String) {}
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn raw_only() {
        assert_eq!(
            fmt_rule("raw", "OUTPUT", "-j NOTRACK").unwrap(),
            "-j NOTRACK"
        );
        assert!(fmt_rule("mangle", "OUTPUT", "-j NOTRACK").is_err());
    }
}
