//! `-j TOS` (libxt_TOS.c revision 1, xt_DSCP.c `tos_tg`): sets
//! `tos = (tos & ~mask) ^ value`. Mangle table only.
//!
//! Saved as `--set-tos 0xVV/0xMM`: a bare number has mask 0xff, a symbolic
//! name mask 0x3f, `--and-tos M` is `0/~M`, `--or-tos M` is `M/M`,
//! `--xor-tos M` is `M/0`.

use super::excl::{self, Excl};
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{strtoul_prefix, uint_opt};
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;

/// `tos_symbol_names` (libxtables), matched case-insensitively.
const SYMBOLS: &[(&str, u8)] = &[
    ("Minimize-Delay", 0x10),
    ("Maximize-Throughput", 0x08),
    ("Maximize-Reliability", 0x04),
    ("Minimize-Cost", 0x02),
    ("Normal-Service", 0x00),
];

const ALL: &[u8] = &[0, 1, 2, 3];
const EXCL: &[Excl] = &[
    Excl {
        name: "set-tos",
        id: 0,
        excludes: ALL,
    },
    Excl {
        name: "and-tos",
        id: 1,
        excludes: ALL,
    },
    Excl {
        name: "or-tos",
        id: 2,
        excludes: ALL,
    },
    Excl {
        name: "xor-tos",
        id: 3,
        excludes: ALL,
    },
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tos {
    pub value: u8,
    pub mask: u8,
    seen: Vec<&'static str>,
}

/// `xtopt_parse_tosmask`: `VALUE[/MASK]` (numbers) or a symbolic name.
pub fn tosmask(s: &str) -> ExtResult<(u8, u8)> {
    let illegal = || ExtError::new(format!("Illegal value: \"{s}\""));
    if let Some((v, rest)) = strtoul_prefix(s, 255) {
        let (mask, rest) = match rest.strip_prefix('/') {
            Some(m) => {
                let (m, rest) = strtoul_prefix(m, 255).ok_or_else(illegal)?;
                (m as u8, rest)
            }
            None => (0xff, rest),
        };
        if !rest.is_empty() {
            return Err(illegal());
        }
        return Ok((v as u8, mask));
    }
    SYMBOLS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, v)| (*v, 0x3f))
        .ok_or_else(|| ExtError::new(format!("Symbolic name \"{s}\" is unknown")))
}

impl TargetDef for Tos {
    const NAME: &'static str = "TOS";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("set-tos"),
        OptSpec::req("and-tos"),
        OptSpec::req("or-tos"),
        OptSpec::req("xor-tos"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let num = || {
            uint_opt(call.arg(), "TOS", call.key, 0, 255)
                .map(|v| v as u8)
                .map_err(|e| e.at(call.arg_span()))
        };
        (self.value, self.mask) = match call.key {
            "set-tos" => tosmask(call.arg()).map_err(|e| e.at(call.arg_span()))?,
            "and-tos" => (0, !num()?),
            "or-tos" => {
                let v = num()?;
                (v, v)
            }
            "xor-tos" => (num()?, 0),
            _ => return unreachable_option(call),
        };
        self.seen.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let seen = std::mem::take(&mut self.seen);
        if seen.is_empty() {
            return Err(ExtError::new("TOS: An action is required"));
        }
        excl::check("TOS", EXCL, &seen)
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "TOS", Some("mangle"), &[])
    }

    /// `tos_tg`: `tos = (tos & ~mask) ^ value`.
    fn run(&self, f: &Facts, fx: &mut Effects) -> TargetResult {
        fx.tos = Some((fx.tos.unwrap_or(f.tos) & !self.mask) ^ self.value);
        TargetResult::Continue
    }

    /// `tos_tg_print` with `numeric`: always the value/mask pair.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, " TOS set 0x{:02x}/0x{:02x}", self.value, self.mask);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, " --set-tos {:#04x}/{:#04x}", self.value, self.mask);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn saved_as_value_mask() {
        let f = |r| fmt_rule("mangle", "OUTPUT", r);
        assert_eq!(
            f("-j TOS --set-tos 0x1f").unwrap(),
            "-j TOS --set-tos 0x1f/0xff"
        );
        assert_eq!(
            f("-j TOS --set-tos minimize-cost").unwrap(),
            "-j TOS --set-tos 0x02/0x3f"
        );
        assert_eq!(
            f("-j TOS --and-tos 0x12").unwrap(),
            "-j TOS --set-tos 0x00/0xed"
        );
        assert_eq!(
            f("-j TOS --set-tos 0x100").unwrap_err(),
            "Symbolic name \"0x100\" is unknown"
        );
        assert_eq!(
            f("-j TOS --set-tos 1/2/3").unwrap_err(),
            "Illegal value: \"1/2/3\""
        );
        assert!(fmt_rule("filter", "OUTPUT", "-j TOS --set-tos 1").is_err());
    }
}
