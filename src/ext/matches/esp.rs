//! `-m esp --espspi SPI[:SPI]` (libxt_esp.c, kernel xt_esp.c): the Security
//! Parameters Index of ESP packets within an inclusive range, XOR invert.
//! The kernel requires `-p esp` without `!`. [`SpiRange`] is shared with
//! `-m ah`, whose grammar and save form are the same.

use super::tcp::{bang, require_proto, unreachable_option};
use crate::ext::facts::{Facts, L4Facts, MatchResult};
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::mint;
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

/// An SPI range (XTTYPE_UINT32RC); default 0:4294967295 (any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpiRange {
    pub min: u32,
    pub max: u32,
    pub invert: bool,
}

impl Default for SpiRange {
    fn default() -> SpiRange {
        SpiRange {
            min: 0,
            max: u32::MAX,
            invert: false,
        }
    }
}

impl SpiRange {
    pub(crate) fn parse_spi(&mut self, call: &OptCall, ext: &str) -> ExtResult {
        let v = mint(call.arg(), u64::from(u32::MAX), 2, ext, call.key)
            .map_err(|e| e.at(call.arg_span()))?;
        self.min = v.first().copied().unwrap_or(0) as u32;
        self.max = v.get(1).map_or(self.min, |m| *m as u32);
        self.invert = call.invert;
        Ok(())
    }

    /// `print_spis` of libxt_esp.c, libipt_ah.c and libxt_ipcomp.c: `spi:N`
    /// or `spis:LO:HI`, `!` after the colon, nothing for the full range
    /// unless negated. `lead` is the space only libxt_esp.c puts before it.
    pub(crate) fn list_spi(&self, out: &mut String, lead: &str) {
        if self.min == 0 && self.max == u32::MAX && !self.invert {
            return;
        }
        let inv = if self.invert { "!" } else { "" };
        let _ = if self.min == self.max {
            write!(out, "{lead}spi:{inv}{}", self.min)
        } else {
            write!(out, "{lead}spis:{inv}{}:{}", self.min, self.max)
        };
    }

    /// `esp_save`/`ah_save`: nothing for the full range, even when negated.
    pub(crate) fn save_spi(&self, out: &mut String, opt: &str) {
        if self.min == 0 && self.max == u32::MAX {
            return;
        }
        let _ = write!(out, "{} --{opt} {}", bang(self.invert), self.min);
        if self.min != self.max {
            let _ = write!(out, ":{}", self.max);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Esp(pub SpiRange);

impl MatchDef for Esp {
    const NAME: &'static str = "esp";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("espspi").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "espspi" => self.0.parse_spi(call, "esp"),
            _ => unreachable_option(call),
        }
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        require_proto(ctx, 50, "esp")
    }

    /// `esp_mt`: later fragments never match, a missing header drops the
    /// packet; the SPI must be in range XOR `!`.
    fn eval(&self, f: &Facts) -> MatchResult {
        self.0.eval_spi(f)
    }

    /// `esp_print`: ` esp spi:N`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" esp");
        self.0.list_spi(out, " ");
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        self.0.save_spi(out, "espspi");
    }
}

impl SpiRange {
    /// `spi_match` after the fragment and header checks of esp_mt/ah_mt.
    pub(crate) fn eval_spi(&self, f: &Facts) -> MatchResult {
        if f.frag_off != 0 {
            return MatchResult::No;
        }
        match f.l4 {
            L4Facts::Spi(spi) => {
                MatchResult::from_bool((self.min <= spi && spi <= self.max) != self.invert)
            }
            _ if f.l4_truncated => MatchResult::Hotdrop,
            _ => MatchResult::No,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn full_range_saves_nothing() {
        let rt = |r| roundtrip("filter", "INPUT", r);
        assert_eq!(rt("-p esp -m esp ! --espspi :").unwrap(), "-p esp -m esp");
        assert_eq!(
            rt("-p esp -m esp --espspi 4:").unwrap(),
            "-p esp -m esp --espspi 4:4294967295"
        );
        assert_eq!(
            rt("-p esp -m esp --espspi 4:3").unwrap(),
            "-p esp -m esp --espspi 4:3"
        );
        assert!(rt("-m esp --espspi 1").is_err());
        assert!(rt("-p esp -m esp --espspi -1").is_err());
    }
}
