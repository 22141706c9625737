//! `-m iprange --src-range A-B --dst-range A-B` (libxt_iprange.c rev 1,
//! kernel xt_iprange.c): inclusive address ranges, each with its own `!`.
//! Addresses are read as `xtables_numeric_to_ipaddr` reads them (`10` is
//! 10.0.0.0); a reversed range loads (iptables only warns) and never matches.

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{MatchDef, RuleCtx};
use crate::ir::addr::numeric;
use std::fmt::Write;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub min: u32,
    pub max: u32,
    pub invert: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Iprange {
    pub src: Option<Range>,
    pub dst: Option<Range>,
}

impl MatchDef for Iprange {
    const NAME: &'static str = "iprange";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("src-range").inv(),
        OptSpec::req("dst-range").inv(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let r =
            parse_range(call.arg(), call.key, call.invert).map_err(|e| e.at(call.arg_span()))?;
        match call.key {
            "src-range" => self.src = Some(r),
            "dst-range" => self.dst = Some(r),
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.src.is_none() && self.dst.is_none() {
            return Err(ExtError::new(
                "iprange match: You must specify `--src-range' or `--dst-range'",
            ));
        }
        Ok(())
    }

    /// `iprange_mt4`: each given range must hold XOR its `!`.
    fn eval(&self, f: &Facts) -> MatchResult {
        let ok =
            |r: Option<Range>, ip: u32| r.is_none_or(|r| (r.min <= ip && ip <= r.max) != r.invert);
        MatchResult::from_bool(ok(self.src, f.src) && ok(self.dst, f.dst))
    }

    /// `iprange_mt4_print`: ` source IP range`, ` !`, ` A-B`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        for (name, r) in [("source", self.src), ("destination", self.dst)] {
            if let Some(r) = r {
                let _ = write!(
                    out,
                    " {name} IP range{} {}-{}",
                    bang(r.invert),
                    Ipv4Addr::from(r.min),
                    Ipv4Addr::from(r.max)
                );
            }
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        for (name, r) in [("src-range", self.src), ("dst-range", self.dst)] {
            if let Some(r) = r {
                let _ = write!(
                    out,
                    "{} --{name} {}-{}",
                    bang(r.invert),
                    Ipv4Addr::from(r.min),
                    Ipv4Addr::from(r.max)
                );
            }
        }
    }
}

/// `iprange_parse_range`: `A-B`, or a single address for both ends.
fn parse_range(s: &str, opt: &str, invert: bool) -> ExtResult<Range> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let one = |x: &str| {
        numeric(x, false).ok_or_else(|| {
            ExtError::new(format!(
                "iprange: Bad value for \"--{opt}\" option: \"{x}\""
            ))
        })
    };
    Ok(Range {
        min: one(a)?,
        max: one(b)?,
        invert,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_address_is_a_range_of_one() {
        let r = parse_range("1.1.1.1", "src-range", false).unwrap();
        assert_eq!((r.min, r.max), (0x0101_0101, 0x0101_0101));
        assert!(parse_range("1.1.1.1-x", "src-range", false).is_err());
        assert_eq!(
            parse_range("10-11", "dst-range", false).unwrap().max,
            0x0b00_0000
        );
    }
}
