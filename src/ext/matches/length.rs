//! `-m length --length MIN[:MAX]` (libxt_length.c, kernel xt_length.c): the
//! IPv4 total length (`ntohs(iph->tot_len)`) within `min..=max`, XOR invert.
//! XTTYPE_UINT16RC grammar: `:` and open ends allowed; `min > max` is not
//! refused (it then never matches).

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::mint;
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Length {
    pub min: u16,
    pub max: u16,
    pub invert: bool,
    given: bool,
}

impl MatchDef for Length {
    const NAME: &'static str = "length";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("length").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "length" => {
                let v = mint(call.arg(), u64::from(u16::MAX), 2, "length", "length")
                    .map_err(|e| e.at(call.arg_span()))?;
                self.min = v.first().copied().unwrap_or(0) as u16;
                self.max = v.get(1).map_or(self.min, |m| *m as u16);
                self.invert = call.invert;
                self.given = true;
                Ok(())
            }
            _ => unreachable_option(call),
        }
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(ExtError::new(
                "length: option \"--length\" must be specified",
            ))
        }
    }

    /// `length_mt`: the IPv4 total length.
    fn eval(&self, f: &Facts) -> MatchResult {
        let len = f.len;
        let hit = u32::from(self.min) <= len && len <= u32::from(self.max);
        MatchResult::from_bool(hit != self.invert)
    }

    /// `length_print`: `!` right before the number.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let inv = if self.invert { "!" } else { "" };
        let _ = write!(out, " length {inv}{}", self.min);
        if self.min != self.max {
            let _ = write!(out, ":{}", self.max);
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, "{} --length {}", bang(self.invert), self.min);
        if self.min != self.max {
            let _ = write!(out, ":{}", self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn ranges_like_uint16rc() {
        let rt = |r| roundtrip("filter", "INPUT", r);
        assert_eq!(
            rt("-m length --length :").unwrap(),
            "-m length --length 0:65535"
        );
        assert_eq!(
            rt("-m length --length 4:4").unwrap(),
            "-m length --length 4"
        );
        assert_eq!(
            rt("-m length --length 4:3").unwrap(),
            "-m length --length 4:3"
        );
        assert!(rt("-m length --length 0:65536").is_err());
        assert!(rt("-m length --length -1:65535").is_err());
    }
}
