//! `-j TTL` (libipt_TTL.c, ipt_TTL / xt_HL.c): sets, increments or decrements
//! the IPv4 TTL. Mangle table only.

use super::excl::{self, Excl};
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::uint_opt;
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Set,
    Inc,
    Dec,
}

const ALL: &[u8] = &[0, 1, 2];
const EXCL: &[Excl] = &[
    Excl {
        name: "ttl-set",
        id: 0,
        excludes: ALL,
    },
    Excl {
        name: "ttl-dec",
        id: 1,
        excludes: ALL,
    },
    Excl {
        name: "ttl-inc",
        id: 2,
        excludes: ALL,
    },
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ttl {
    pub mode: Mode,
    pub value: u8,
    seen: Vec<&'static str>,
}

impl TargetDef for Ttl {
    const NAME: &'static str = "TTL";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("ttl-set"),
        OptSpec::req("ttl-dec"),
        OptSpec::req("ttl-inc"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let (mode, min) = match call.key {
            "ttl-set" => (Mode::Set, 0),
            "ttl-dec" => (Mode::Dec, 1),
            "ttl-inc" => (Mode::Inc, 1),
            _ => return unreachable_option(call),
        };
        let v =
            uint_opt(call.arg(), "TTL", call.key, min, 255).map_err(|e| e.at(call.arg_span()))?;
        self.mode = mode;
        self.value = v as u8;
        self.seen.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let seen = std::mem::take(&mut self.seen);
        if seen.is_empty() {
            return Err(ExtError::new("TTL: You must specify an action"));
        }
        excl::check("TTL", EXCL, &seen)
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "TTL", Some("mangle"), &[])
    }

    /// `ttl_tg`: set, or increase/decrease with saturation at 0 and 255.
    fn run(&self, f: &Facts, fx: &mut Effects) -> TargetResult {
        let ttl = fx.ttl.unwrap_or(f.ttl);
        fx.ttl = Some(match self.mode {
            Mode::Set => self.value,
            Mode::Inc => ttl.saturating_add(self.value),
            Mode::Dec => ttl.saturating_sub(self.value),
        });
        TargetResult::Continue
    }

    /// `TTL_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let what = match self.mode {
            Mode::Set => "set to",
            Mode::Inc => "increment by",
            Mode::Dec => "decrement by",
        };
        let _ = write!(out, " TTL {what} {}", self.value);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let name = match self.mode {
            Mode::Set => "ttl-set",
            Mode::Inc => "ttl-inc",
            Mode::Dec => "ttl-dec",
        };
        let _ = write!(out, " --{name} {}", self.value);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn modes() {
        let f = |r| fmt_rule("mangle", "FORWARD", r);
        assert_eq!(f("-j TTL --ttl-dec 1").unwrap(), "-j TTL --ttl-dec 1");
        assert!(f("-j TTL --ttl-inc 0").is_err());
        assert_eq!(
            f("-j TTL --ttl-inc 1 --ttl-dec 1").unwrap_err(),
            "TTL: option \"--ttl-dec\" cannot be used together with \"--ttl-inc\"."
        );
        assert!(fmt_rule("filter", "FORWARD", "-j TTL --ttl-set 1").is_err());
    }
}
