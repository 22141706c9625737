//! `-j TRACE` (libxt_TRACE.c, xt_TRACE.c): flags the packet so every rule it
//! traverses afterwards is logged. Raw table only; no options.

use super::scope::restrict;
use crate::ext::facts::{Effects, Facts};
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace;

impl TargetDef for Trace {
    const NAME: &'static str = "TRACE";
    const OPTIONS: &'static [OptSpec] = &[];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        crate::ext::matches::tcp::unreachable_option(call)
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "TRACE", Some("raw"), &[])
    }

    fn run(&self, _f: &Facts, fx: &mut Effects) -> TargetResult {
        fx.trace = true;
        TargetResult::Continue
    }

    /// libxt_TRACE.c has no `print` function, so `print_firewall` prints
    /// nothing for this target.
    fn list(&self, _ctx: &RuleCtx, _out: &mut String) {}

    fn save(&self, _ctx: &RuleCtx, _out: &mut String) {}
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn raw_only() {
        assert_eq!(
            fmt_rule("raw", "PREROUTING", "-j TRACE").unwrap(),
            "-j TRACE"
        );
        assert!(fmt_rule("filter", "INPUT", "-j TRACE").is_err());
    }
}
