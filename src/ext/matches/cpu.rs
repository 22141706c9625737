//! `-m cpu [!] --cpu N` (libxt_cpu.c, xt_cpu.c): the CPU handling the
//! packet. Not judged offline: a capture does not say which CPU ran it.

use super::tcp::{bang, unreachable_option};
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::{xt_mandatory, xt_uint};
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cpu {
    pub cpu: u32,
    pub invert: bool,
    given: bool,
}

impl MatchDef for Cpu {
    const NAME: &'static str = "cpu";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("cpu").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        if call.key != "cpu" {
            return unreachable_option(call);
        }
        self.cpu = xt_uint(call, "cpu", 0, u64::from(u32::MAX))? as u32;
        self.invert = call.invert;
        self.given = true;
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(xt_mandatory("cpu", "cpu"))
        }
    }

    /// `cpu_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let inv = if self.invert { "! " } else { "" };
        let _ = write!(out, " cpu {inv}{}", self.cpu);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, "{} --cpu {}", bang(self.invert), self.cpu);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn cpu_numbers() {
        assert_eq!(
            roundtrip("-m cpu ! --cpu 0x10").unwrap(),
            "-m cpu ! --cpu 16"
        );
        assert!(roundtrip("-m cpu --cpu 4294967296").is_err());
        assert!(roundtrip("-m cpu").is_err());
    }
}
