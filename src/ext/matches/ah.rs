//! `-m ah --ahspi SPI[:SPI]` (libipt_ah.c, kernel ipt_ah.c): the SPI of
//! IPv4 Authentication Header packets; the kernel requires `-p ah` without
//! `!`. Same range grammar and save form as `-m esp`.

use super::esp::SpiRange;
use super::tcp::{require_proto, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ah(pub SpiRange);

impl MatchDef for Ah {
    const NAME: &'static str = "ah";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("ahspi").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "ahspi" => self.0.parse_spi(call, "ah"),
            _ => unreachable_option(call),
        }
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        require_proto(ctx, 51, "ah")
    }

    /// `ah_mt`: later fragments never match, a missing header drops the
    /// packet; the SPI must be in range XOR `!`.
    fn eval(&self, f: &Facts) -> MatchResult {
        self.0.eval_spi(f)
    }

    /// `ah_print`: ` ah ` then the SPIs with no space (` ah spi:N`; a bare
    /// ` ah ` when no SPI is given).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" ah ");
        self.0.list_spi(out, "");
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        self.0.save_spi(out, "ahspi");
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn spi_ranges() {
        let rt = |r| roundtrip("filter", "INPUT", r);
        assert_eq!(
            rt("-p ah -m ah --ahspi 3:3").unwrap(),
            "-p ah -m ah --ahspi 3"
        );
        assert_eq!(rt("-p ah ! --ahspi 0").unwrap(), "-p ah -m ah ! --ahspi 0");
        assert!(rt("-p ah -m ah --ahspi 0:invalid").is_err());
        assert!(rt("-m ah --ahspi 0").is_err());
    }
}
