//! `-m dscp` (libxt_dscp.c, xt_dscp.c `dscp_mt`): the DiffServ code point
//! (the TOS byte's upper six bits), by number (`--dscp`) or class name
//! (`--dscp-class`); both save as `--dscp 0xNN`.

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{xt_exclusive, xt_uint};
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

/// `ds_classes` of dscp_helper.c, in its lookup order.
pub const DS_CLASSES: &[(&str, u8)] = &[
    ("CS0", 0x00),
    ("CS1", 0x08),
    ("CS2", 0x10),
    ("CS3", 0x18),
    ("CS4", 0x20),
    ("CS5", 0x28),
    ("CS6", 0x30),
    ("CS7", 0x38),
    ("BE", 0x00),
    ("AF11", 0x0a),
    ("AF12", 0x0c),
    ("AF13", 0x0e),
    ("AF21", 0x12),
    ("AF22", 0x14),
    ("AF23", 0x16),
    ("AF31", 0x1a),
    ("AF32", 0x1c),
    ("AF33", 0x1e),
    ("AF41", 0x22),
    ("AF42", 0x24),
    ("AF43", 0x26),
    ("EF", 0x2e),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dscp {
    pub dscp: u8,
    pub invert: bool,
    given: Option<&'static str>,
}

impl MatchDef for Dscp {
    const NAME: &'static str = "dscp";
    const OPTIONS: &'static [OptSpec] =
        &[OptSpec::req("dscp").inv(), OptSpec::req("dscp-class").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        self.dscp = match call.key {
            "dscp" => xt_uint(call, "dscp", 0, 0x3f)? as u8,
            "dscp-class" => class_to_dscp(call.arg()).map_err(|e| e.at(call.arg_span()))?,
            _ => return unreachable_option(call),
        };
        if let Some(prev) = self.given {
            return Err(xt_exclusive("dscp", prev, call.key).at(call.span));
        }
        self.given = Some(call.key);
        self.invert = call.invert;
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        match self.given {
            Some(_) => Ok(()),
            None => Err(ExtError::new("DSCP match: Parameter --dscp is required")),
        }
    }

    fn eval(&self, f: &Facts) -> MatchResult {
        MatchResult::from_bool((f.tos >> 2 == self.dscp) != self.invert)
    }

    /// `dscp_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let inv = if self.invert { "!" } else { "" };
        let _ = write!(out, " DSCP match {inv}0x{:02x}", self.dscp);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, "{} --dscp 0x{:02x}", bang(self.invert), self.dscp);
    }
}

/// `class_to_dscp`: the first class whose name starts the argument
/// (`strncasecmp` over the class name's length, so `cs10` reads as CS1).
pub fn class_to_dscp(name: &str) -> ExtResult<u8> {
    DS_CLASSES
        .iter()
        .find(|(c, _)| {
            name.get(..c.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(c))
        })
        .map(|(_, v)| *v)
        .ok_or_else(|| ExtError::new(format!("Invalid DSCP value `{name}'")))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn numbers_and_classes() {
        assert_eq!(
            roundtrip("-m dscp --dscp 32").unwrap(),
            "-m dscp --dscp 0x20"
        );
        assert_eq!(
            roundtrip("-m dscp ! --dscp-class ef").unwrap(),
            "-m dscp ! --dscp 0x2e"
        );
        assert_eq!(
            roundtrip("-m dscp --dscp-class cs10").unwrap(),
            "-m dscp --dscp 0x08"
        );
        assert!(roundtrip("-m dscp --dscp 64").is_err());
        assert!(roundtrip("-m dscp --dscp-class FOO").is_err());
        assert!(roundtrip("-m dscp --dscp 1 --dscp-class EF").is_err());
        assert!(roundtrip("-m dscp").is_err());
    }

    #[test]
    fn eval_upper_six_bits() {
        use super::super::testutil::{facts, first_match};
        use crate::ext::facts::{L4Facts, MatchResult};
        let f = facts(&[], 0xb8 | 0x01, 64, L4Facts::None, 0); // EF, ECT(1)
        assert_eq!(
            first_match("-m dscp --dscp-class EF").eval(&f),
            MatchResult::Yes
        );
        assert_eq!(first_match("-m dscp ! --dscp 46").eval(&f), MatchResult::No);
    }
}
