//! `-m tcpmss --mss MIN[:MAX]` (libxt_tcpmss.c, xt_tcpmss.c): the MSS option
//! of TCP SYN segments. The kernel requires `-p tcp` (`.proto`).

use super::tcp::{bang, require_proto, unreachable_option};
use crate::ext::facts::{Facts, L4Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{xt_mandatory, xt_range};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tcpmss {
    pub min: u16,
    pub max: u16,
    pub invert: bool,
    given: bool,
}

impl MatchDef for Tcpmss {
    const NAME: &'static str = "tcpmss";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("mss").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        if call.key != "mss" {
            return unreachable_option(call);
        }
        let (lo, hi, _) = xt_range(call, "tcpmss", u64::from(u16::MAX))?;
        if hi < lo {
            return Err(call.err("tcpmss: invalid range given"));
        }
        (self.min, self.max) = (lo as u16, hi as u16);
        self.invert = call.invert;
        self.given = true;
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(xt_mandatory("tcpmss", "mss"))
        }
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        require_proto(ctx, 6, "tcpmss")
            .map_err(|_| ExtError::new("the tcpmss match needs `-p tcp` in the rule")
                .help("add `-p tcp`; xt_tcpmss declares .proto = IPPROTO_TCP and the kernel refuses the rule otherwise"))
    }

    /// `tcpmss_mt`: the first MSS option (kind 2, length 4) of the header
    /// decides; a segment without one matches only when inverted.
    fn eval(&self, f: &Facts) -> MatchResult {
        let L4Facts::Tcp { options, .. } = f.l4 else {
            return if f.l4_truncated {
                MatchResult::Hotdrop
            } else {
                MatchResult::No
            };
        };
        let mut i = 0usize;
        while let Some(&kind) = options.get(i) {
            let next = options.get(i + 1).copied();
            if kind == 2 && next == Some(4) {
                if let (Some(&a), Some(&b)) = (options.get(i + 2), options.get(i + 3)) {
                    let mss = u16::from_be_bytes([a, b]);
                    let inside = self.min <= mss && mss <= self.max;
                    return MatchResult::from_bool(inside != self.invert);
                }
            }
            // EOL and NOP are one byte; a zero length advances by one.
            i += if kind < 2 {
                1
            } else {
                usize::from(next.unwrap_or(1).max(1))
            };
        }
        MatchResult::from_bool(self.invert)
    }

    /// `tcpmss_print`: `!` right before the number.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let inv = if self.invert { "!" } else { "" };
        let _ = write!(out, " tcpmss match {inv}{}", self.min);
        if self.min != self.max {
            let _ = write!(out, ":{}", self.max);
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, "{} --mss {}", bang(self.invert), self.min);
        if self.min != self.max {
            let _ = write!(out, ":{}", self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn ranges() {
        assert_eq!(
            roundtrip("-p tcp -m tcpmss --mss 1:").unwrap(),
            "-p tcp -m tcpmss --mss 1:65535"
        );
        assert_eq!(
            roundtrip("-p tcp -m tcpmss ! --mss 7:7").unwrap(),
            "-p tcp -m tcpmss ! --mss 7"
        );
        assert!(roundtrip("-p tcp -m tcpmss --mss 9:8").is_err());
        assert!(roundtrip("-p tcp -m tcpmss --mss 1:2:3").is_err());
        assert!(roundtrip("-m tcpmss --mss 5").is_err());
    }

    #[test]
    fn eval_finds_the_mss_option() {
        use super::super::testutil::{facts, first_match};
        use crate::ext::facts::{L4Facts, MatchResult};
        let opts = [1, 1, 2, 4, 0x05, 0xb4]; // NOP NOP MSS 1460
        let tcp = L4Facts::Tcp {
            sport: 1,
            dport: 2,
            flags: 0x02,
            seq: 0,
            ack: 0,
            window: 0,
            options: &opts,
            header_len: 28,
        };
        let f = facts(&[], 0, 64, tcp, 0);
        assert_eq!(
            first_match("-p tcp -m tcpmss --mss 1400:1500").eval(&f),
            MatchResult::Yes
        );
        assert_eq!(
            first_match("-p tcp -m tcpmss ! --mss 1460").eval(&f),
            MatchResult::No
        );
        let none = L4Facts::Tcp {
            sport: 1,
            dport: 2,
            flags: 0x02,
            seq: 0,
            ack: 0,
            window: 0,
            options: &[],
            header_len: 20,
        };
        let g = facts(&[], 0, 64, none, 0);
        assert_eq!(
            first_match("-p tcp -m tcpmss --mss 0:65535").eval(&g),
            MatchResult::No
        );
        assert_eq!(
            first_match("-p tcp -m tcpmss ! --mss 1460").eval(&g),
            MatchResult::Yes
        );
    }
}
