//! `-m physdev` (libxt_physdev.c, kernel xt_physdev.c): the bridge ports a
//! bridged packet came in on / goes out of.
//!
//! Interface names keep a trailing `+` (prefix match), as iptables stores
//! and prints them. The kernel refuses `--physdev-out`/`--physdev-is-out`
//! without a plain `--physdev-is-bridged` in rules reachable from OUTPUT
//! (`physdev_mt_check`): the output bridge port is not known there.

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::hook::Hook;
use crate::ir::iface::Iface;
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Physdev {
    /// Each present option with its `!`.
    pub physdev_in: Option<(Iface, bool)>,
    pub physdev_out: Option<(Iface, bool)>,
    pub is_in: Option<bool>,
    pub is_out: Option<bool>,
    pub is_bridged: Option<bool>,
}

impl MatchDef for Physdev {
    const NAME: &'static str = "physdev";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("physdev-in").inv(),
        OptSpec::req("physdev-out").inv(),
        OptSpec::flag("physdev-is-in").inv(),
        OptSpec::flag("physdev-is-out").inv(),
        OptSpec::flag("physdev-is-bridged").inv(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let iface = || Iface::parse(call.arg()).map_err(|e| call.err(e));
        match call.key {
            "physdev-in" => self.physdev_in = Some((iface()?, call.invert)),
            "physdev-out" => self.physdev_out = Some((iface()?, call.invert)),
            "physdev-is-in" => self.is_in = Some(call.invert),
            "physdev-is-out" => self.is_out = Some(call.invert),
            "physdev-is-bridged" => self.is_bridged = Some(call.invert),
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if *self == Physdev::default() {
            return Err(ExtError::new("PHYSDEV: no physdev option specified"));
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        let out_opt = self.physdev_out.is_some() || self.is_out.is_some();
        if out_opt && self.is_bridged != Some(false) && ctx.hooks.contains(Hook::Output) {
            return Err(ExtError::new(
                "--physdev-out and --physdev-is-out only supported in the FORWARD and POSTROUTING chains with bridged traffic",
            )
            .help("the kernel refuses this in rules reachable from OUTPUT unless the rule also says --physdev-is-bridged"));
        }
        Ok(())
    }

    /// `physdev_mt` for a packet that did not cross a bridge (iptwalk's host
    /// has none): any un-negated option fails, negated ones pass.
    fn eval(&self, _f: &Facts) -> MatchResult {
        let plain = self.is_bridged == Some(false)
            || self.is_in == Some(false)
            || self.is_out == Some(false)
            || matches!(self.physdev_in, Some((_, false)))
            || matches!(self.physdev_out, Some((_, false)));
        MatchResult::from_bool(!plain)
    }

    /// `physdev_print`: ` PHYSDEV match` and then the save words.
    fn list(&self, ctx: &RuleCtx, out: &mut String) {
        out.push_str(" PHYSDEV match");
        self.save(ctx, out);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(inv) = self.is_in {
            let _ = write!(out, "{} --physdev-is-in", bang(inv));
        }
        if let Some((i, inv)) = &self.physdev_in {
            let _ = write!(out, "{} --physdev-in {i}", bang(*inv));
        }
        if let Some(inv) = self.is_out {
            let _ = write!(out, "{} --physdev-is-out", bang(inv));
        }
        if let Some((i, inv)) = &self.physdev_out {
            let _ = write!(out, "{} --physdev-out {i}", bang(*inv));
        }
        if let Some(inv) = self.is_bridged {
            let _ = write!(out, "{} --physdev-is-bridged", bang(inv));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn output_needs_bridged() {
        assert!(roundtrip("filter", "OUTPUT", "-m physdev --physdev-out lo").is_err());
        assert_eq!(
            roundtrip(
                "filter",
                "OUTPUT",
                "-m physdev --physdev-out lo --physdev-is-bridged"
            )
            .unwrap(),
            "-m physdev --physdev-out lo --physdev-is-bridged"
        );
        assert_eq!(
            roundtrip(
                "filter",
                "FORWARD",
                "-m physdev --physdev-in lo --physdev-is-in"
            )
            .unwrap(),
            "-m physdev --physdev-is-in --physdev-in lo"
        );
        assert!(roundtrip("filter", "INPUT", "-m physdev").is_err());
    }
}
