//! `-m ipcomp` (libxt_ipcomp.c, xt_ipcomp.c): the CPI of IP payload
//! compression headers (`--ipcompspi`) and the reserved-bits test
//! (`--compres`). The kernel requires `-p ipcomp` (`.proto = IPPROTO_COMP`).
//!
//! There is no init function, so without `--ipcompspi` the range is 0:0 and
//! save prints `--ipcompspi 0`; a full range is omitted even when negated.

use super::tcp::{bang, require_proto, unreachable_option};
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::xt_range;
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ipcomp {
    pub spis: (u32, u32),
    /// XT_IPCOMP_INV_SPI.
    pub invert: bool,
    pub hdrres: bool,
}

impl MatchDef for Ipcomp {
    const NAME: &'static str = "ipcomp";
    const OPTIONS: &'static [OptSpec] =
        &[OptSpec::req("ipcompspi").inv(), OptSpec::flag("compres")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "ipcompspi" => {
                let (lo, hi, _) = xt_range(call, "ipcomp", u64::from(u32::MAX))?;
                self.spis = (lo as u32, hi as u32);
                self.invert = call.invert;
            }
            "compres" => self.hdrres = true,
            _ => return unreachable_option(call),
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        require_proto(ctx, 108, "ipcomp")
    }

    /// `comp_print`: ` comp ` then the SPIs with no space, then ` reserved`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" comp ");
        let spi = super::esp::SpiRange {
            min: self.spis.0,
            max: self.spis.1,
            invert: self.invert,
        };
        spi.list_spi(out, "");
        if self.hdrres {
            out.push_str(" reserved");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.spis != (0, u32::MAX) {
            let _ = write!(out, "{} --ipcompspi {}", bang(self.invert), self.spis.0);
            if self.spis.0 != self.spis.1 {
                let _ = write!(out, ":{}", self.spis.1);
            }
        }
        if self.hdrres {
            out.push_str(" --compres");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn spi_ranges() {
        assert_eq!(
            roundtrip("-p ipcomp -m ipcomp ! --ipcompspi :").unwrap(),
            "-p ipcomp -m ipcomp"
        );
        assert_eq!(
            roundtrip("-p ipcomp -m ipcomp --compres").unwrap(),
            "-p ipcomp -m ipcomp --ipcompspi 0 --compres"
        );
        assert_eq!(
            roundtrip("-p ipcomp -m ipcomp --ipcompspi 4:").unwrap(),
            "-p ipcomp -m ipcomp --ipcompspi 4:4294967295"
        );
        assert!(roundtrip("-m ipcomp --ipcompspi 4").is_err());
    }
}
