//! `-m ttl` (libipt_ttl.c, ipt_ttl.c): compares the IPv4 time-to-live with
//! a value: `--ttl-eq` (or `! --ttl-eq`, kept as the kernel's NE mode),
//! `--ttl-lt`, `--ttl-gt`. Exactly one of them is required.

use super::tcp::unreachable_option;
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{xt_exclusive, xt_uint};
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

/// `IPT_TTL_*` modes of `struct ipt_ttl_info`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TtlMode {
    #[default]
    Eq,
    Ne,
    Lt,
    Gt,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ttl {
    pub mode: TtlMode,
    pub ttl: u8,
    /// Option names given, for the userspace `.excl = F_ANY` check.
    given: Vec<&'static str>,
}

impl MatchDef for Ttl {
    const NAME: &'static str = "ttl";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("ttl-lt"),
        OptSpec::req("ttl-gt"),
        OptSpec::req("ttl-eq").inv(),
        // `--ttl` shares O_TTL_EQ with `--ttl-eq` but cannot be negated.
        OptSpec::req("ttl").alias("ttl-eq"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        self.ttl = xt_uint(call, "ttl", 0, 255)? as u8;
        self.mode = match call.key {
            "ttl-eq" if call.invert => TtlMode::Ne,
            "ttl-eq" => TtlMode::Eq,
            "ttl-lt" => TtlMode::Lt,
            "ttl-gt" => TtlMode::Gt,
            _ => return unreachable_option(call),
        };
        if let Some(prev) = self.given.first() {
            return Err(xt_exclusive("ttl", prev, call.key).at(call.span));
        }
        self.given.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given.is_empty() {
            return Err(ExtError::new(
                "TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt",
            ));
        }
        Ok(())
    }

    /// `ttl_mt` in ipt_ttl.c.
    fn eval(&self, f: &Facts) -> MatchResult {
        MatchResult::from_bool(match self.mode {
            TtlMode::Eq => f.ttl == self.ttl,
            TtlMode::Ne => f.ttl != self.ttl,
            TtlMode::Lt => f.ttl < self.ttl,
            TtlMode::Gt => f.ttl > self.ttl,
        })
    }

    /// `ttl_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let op = match self.mode {
            TtlMode::Eq => "==",
            TtlMode::Ne => "!=",
            TtlMode::Lt => "<",
            TtlMode::Gt => ">",
        };
        let _ = write!(out, " TTL match TTL {op} {}", self.ttl);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let opt = match self.mode {
            TtlMode::Eq => "--ttl-eq",
            TtlMode::Ne => "! --ttl-eq",
            TtlMode::Lt => "--ttl-lt",
            TtlMode::Gt => "--ttl-gt",
        };
        let _ = write!(out, " {opt} {}", self.ttl);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn modes_and_errors() {
        assert_eq!(
            roundtrip("-m ttl ! --ttl-eq 0x10").unwrap(),
            "-m ttl ! --ttl-eq 16"
        );
        assert_eq!(roundtrip("-m ttl --ttl 5").unwrap(), "-m ttl --ttl-eq 5");
        assert!(roundtrip("-m ttl --ttl-eq 256").is_err());
        assert!(roundtrip("-m ttl --ttl-lt 3 --ttl-gt 1").is_err());
        assert!(roundtrip("-m ttl ! --ttl 3").is_err());
        assert!(roundtrip("-m ttl").is_err());
    }

    #[test]
    fn eval_modes() {
        use super::super::testutil::{facts, first_match};
        use crate::ext::facts::{L4Facts, MatchResult};
        let f = facts(&[], 0, 64, L4Facts::None, 0);
        assert_eq!(first_match("-m ttl --ttl-lt 65").eval(&f), MatchResult::Yes);
        assert_eq!(
            first_match("-m ttl ! --ttl-eq 64").eval(&f),
            MatchResult::No
        );
        assert_eq!(first_match("-m ttl --ttl-gt 64").eval(&f), MatchResult::No);
    }
}
