//! `-m tos --tos VALUE[/MASK]|NAME` (libxt_tos.c revision 1, xt_dscp.c
//! `tos_mt`): `(tos & mask) == value`, optionally negated.
//!
//! A number without a mask gets mask 0xff; a symbolic name (RFC 1349 TOS
//! bits) gets revision 1's default mask 0x3f (`xtopt_parse_tosmask`). Save
//! always prints `0xVV/0xMM`.

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{strtoul_prefix, xt_mandatory};
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

/// `tos_symbol_names` of tos_values.c.
pub const TOS_NAMES: &[(&str, u8)] = &[
    ("Minimize-Delay", 0x10),
    ("Maximize-Throughput", 0x08),
    ("Maximize-Reliability", 0x04),
    ("Minimize-Cost", 0x02),
    ("Normal-Service", 0x00),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tos {
    pub value: u8,
    pub mask: u8,
    pub invert: bool,
    given: bool,
}

impl MatchDef for Tos {
    const NAME: &'static str = "tos";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("tos").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        if call.key != "tos" {
            return unreachable_option(call);
        }
        (self.value, self.mask) =
            parse_tos_mask(call.arg(), 0x3f).map_err(|e| e.at(call.arg_span()))?;
        self.invert = call.invert;
        self.given = true;
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(xt_mandatory("tos", "tos"))
        }
    }

    fn eval(&self, f: &Facts) -> MatchResult {
        MatchResult::from_bool((f.tos & self.mask == self.value) != self.invert)
    }

    /// `tos_mt_print` (numeric): no space before the value, so it reads
    /// `tos match0x10/0x3f` (or `tos match!0x10/0x3f`).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" tos match");
        if self.invert {
            out.push('!');
        }
        let _ = write!(out, "0x{:02x}/0x{:02x}", self.value, self.mask);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(
            out,
            "{} --tos 0x{:02x}/0x{:02x}",
            bang(self.invert),
            self.value,
            self.mask
        );
    }
}

/// `xtopt_parse_tosmask` / `tos_parse_numeric`: `value[/mask]` (numbers
/// 0-255, mask defaults to 0xff) or a TOS name, which takes `name_mask`.
pub fn parse_tos_mask(s: &str, name_mask: u8) -> ExtResult<(u8, u8)> {
    let illegal = || ExtError::new(format!("Illegal value: \"{s}\""));
    match strtoul_prefix(s, u64::MAX) {
        Some((v, rest)) if v <= 255 => {
            let (mask, rest) = match rest.strip_prefix('/') {
                Some(m) => match strtoul_prefix(m, u64::MAX) {
                    Some((m, r)) if m <= 255 => (m as u8, r),
                    _ => return Err(illegal()),
                },
                None => (0xff, rest),
            };
            if !rest.is_empty() {
                return Err(illegal());
            }
            Ok((v as u8, mask))
        }
        _ => TOS_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, v)| (*v, name_mask))
            .ok_or_else(|| ExtError::new(format!("Symbolic name \"{s}\" is unknown"))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn values_masks_and_names() {
        assert_eq!(
            roundtrip("-m tos --tos 0x10").unwrap(),
            "-m tos --tos 0x10/0xff"
        );
        assert_eq!(
            roundtrip("-m tos ! --tos 8/0x3f").unwrap(),
            "-m tos ! --tos 0x08/0x3f"
        );
        assert_eq!(
            roundtrip("-m tos --tos minimize-delay").unwrap(),
            "-m tos --tos 0x10/0x3f"
        );
        assert!(roundtrip("-m tos --tos 0x1000").is_err());
        assert!(roundtrip("-m tos --tos 1/x").is_err());
        assert!(roundtrip("-m tos").is_err());
    }

    #[test]
    fn eval_masks() {
        use super::super::testutil::{facts, first_match};
        use crate::ext::facts::{L4Facts, MatchResult};
        let f = facts(&[], 0x12, 64, L4Facts::None, 0);
        assert_eq!(
            first_match("-m tos --tos 0x10/0x3f").eval(&f),
            MatchResult::No
        );
        assert_eq!(
            first_match("-m tos --tos 0x10/0x1c").eval(&f),
            MatchResult::Yes
        );
        assert_eq!(first_match("-m tos ! --tos 0x12").eval(&f), MatchResult::No);
    }
}
