//! `-m ecn` (libxt_ecn.c, xt_ecn.c): the ECN bits of the IP header
//! (`--ecn-ip-ect 0..3`) and TCP's CWR/ECE flags. The kernel refuses the TCP
//! tests unless the rule says `-p tcp` (`ecn_mt_check4`).

use super::tcp::unreachable_option;
use crate::ext::facts::{Facts, L4Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::xt_uint;
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

/// `XT_ECN_OP_MATCH_*` bits of `operation` and `invert`.
pub const MATCH_IP: u8 = 0x01;
pub const MATCH_ECE: u8 = 0x10;
pub const MATCH_CWR: u8 = 0x20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ecn {
    pub operation: u8,
    pub invert: u8,
    pub ip_ect: u8,
}

impl MatchDef for Ecn {
    const NAME: &'static str = "ecn";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::flag("ecn-tcp-cwr").inv(),
        OptSpec::flag("ecn-tcp-ece").inv(),
        OptSpec::req("ecn-ip-ect").inv(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let bit = match call.key {
            "ecn-tcp-cwr" => MATCH_CWR,
            "ecn-tcp-ece" => MATCH_ECE,
            "ecn-ip-ect" => {
                self.ip_ect = xt_uint(call, "ecn", 0, 3)? as u8;
                MATCH_IP
            }
            _ => return unreachable_option(call),
        };
        self.operation |= bit;
        if call.invert {
            self.invert |= bit;
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.operation == 0 {
            return Err(ExtError::new("ECN match: some option required"));
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        if self.operation & (MATCH_ECE | MATCH_CWR) != 0 && ctx.rule.proto() != Some(6) {
            return Err(ExtError::new(
                "the kernel refuses to match TCP ECN bits for non-tcp packets",
            )
            .help("add `-p tcp` to the rule (ecn_mt_check4 in xt_ecn.c)"));
        }
        Ok(())
    }

    /// `ecn_mt4`: the IP test, then the TCP flag tests.
    fn eval(&self, f: &Facts) -> MatchResult {
        if self.operation & MATCH_IP != 0
            && ((f.tos & 3 == self.ip_ect) == (self.invert & MATCH_IP != 0))
        {
            return MatchResult::No;
        }
        if self.operation & (MATCH_ECE | MATCH_CWR) == 0 {
            return MatchResult::Yes;
        }
        if f.proto != 6 {
            return MatchResult::No;
        }
        let L4Facts::Tcp { flags, .. } = f.l4 else {
            return MatchResult::No;
        };
        for (bit, tcp_bit) in [(MATCH_ECE, 0x40u8), (MATCH_CWR, 0x80u8)] {
            if self.operation & bit != 0 && ((flags & tcp_bit != 0) == (self.invert & bit != 0)) {
                return MatchResult::No;
            }
        }
        MatchResult::Yes
    }

    /// `ecn_print`: `!` glued to each flag.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" ECN match");
        let inv = |bit: u8| if self.invert & bit != 0 { "!" } else { "" };
        for (bit, name) in [(MATCH_ECE, "ECE"), (MATCH_CWR, "CWR")] {
            if self.operation & bit != 0 {
                let _ = write!(out, " {}{name}", inv(bit));
            }
        }
        if self.operation & MATCH_IP != 0 {
            let _ = write!(out, " {}ECT={}", inv(MATCH_IP), self.ip_ect);
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        for (bit, name) in [(MATCH_ECE, "ecn-tcp-ece"), (MATCH_CWR, "ecn-tcp-cwr")] {
            if self.operation & bit != 0 {
                let _ = write!(out, "{} --{name}", super::tcp::bang(self.invert & bit != 0));
            }
        }
        if self.operation & MATCH_IP != 0 {
            let _ = write!(
                out,
                "{} --ecn-ip-ect {}",
                super::tcp::bang(self.invert & MATCH_IP != 0),
                self.ip_ect
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn save_order_and_checks() {
        assert_eq!(
            roundtrip("-p tcp -m ecn --ecn-tcp-cwr ! --ecn-tcp-ece --ecn-ip-ect 2").unwrap(),
            "-p tcp -m ecn ! --ecn-tcp-ece --ecn-tcp-cwr --ecn-ip-ect 2"
        );
        assert!(roundtrip("-m ecn --ecn-tcp-cwr").is_err());
        assert!(roundtrip("-m ecn --ecn-ip-ect 4").is_err());
        assert!(roundtrip("-m ecn").is_err());
    }

    #[test]
    fn eval_ip_and_tcp_bits() {
        use super::super::testutil::{facts, first_match};
        use crate::ext::facts::{L4Facts, MatchResult};
        let tcp = L4Facts::Tcp {
            sport: 1,
            dport: 2,
            flags: 0x40 | 0x02,
            seq: 0,
            ack: 0,
            window: 0,
            options: &[],
            header_len: 20,
        };
        let f = facts(&[], 0x03, 64, tcp, 0);
        assert_eq!(
            first_match("-p tcp -m ecn --ecn-tcp-ece --ecn-ip-ect 3").eval(&f),
            MatchResult::Yes
        );
        assert_eq!(
            first_match("-p tcp -m ecn --ecn-tcp-cwr").eval(&f),
            MatchResult::No
        );
        assert_eq!(
            first_match("-m ecn ! --ecn-ip-ect 3").eval(&f),
            MatchResult::No
        );
    }
}
