//! `-m statistic` (libxt_statistic.c, xt_statistic.c): `--mode random
//! --probability P` or `--mode nth --every N [--packet P]`.
//!
//! Kept in the kernel's form: the probability as `lround(2^31 * p)`, `every`
//! as N-1 and the starting count. Save prints the probability with `%.11f`
//! of the stored fixed-point value and always prints `--packet` in nth mode.
//! Replay judges nth mode with a counter per rule; random mode is random and
//! stays Unknown.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::state::State;
use crate::ext::value::{xt_exclusive, xt_mandatory, xt_uint};
use crate::ext::{Facts, MatchDef, MatchResult, RuleCtx};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// XT_STATISTIC_MODE_RANDOM (0, the zeroed default).
    #[default]
    Random,
    Nth,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statistic {
    pub mode: Mode,
    pub invert: bool,
    /// `u.random.probability`: the chance times 2^31, rounded.
    pub probability: u32,
    /// `u.nth.every`: N - 1.
    pub every: u32,
    pub packet: u32,
    given: Vec<&'static str>,
}

impl MatchDef for Statistic {
    const NAME: &'static str = "statistic";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("mode"),
        OptSpec::req("probability").inv(),
        OptSpec::req("every").inv(),
        OptSpec::req("packet"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        self.invert |= call.invert;
        match call.key {
            "mode" => {
                self.mode = match call.arg() {
                    "random" => Mode::Random,
                    "nth" => Mode::Nth,
                    m => return Err(call.err(format!("Bad mode \"{m}\""))),
                }
            }
            "probability" => {
                let p = parse_double(call.arg())
                    .filter(|p| !(*p < 0.0 || *p > 1.0))
                    .ok_or_else(|| {
                        call.err("statistic: bad value for option \"--probability\", or out of range (0-1).")
                    })?;
                self.probability = lround_prob(p);
            }
            "every" => {
                self.every = (xt_uint(call, "statistic", 1, u64::from(u32::MAX))? - 1) as u32
            }
            "packet" => self.packet = xt_uint(call, "statistic", 0, u64::from(u32::MAX))? as u32,
            _ => return unreachable_option(call),
        }
        self.given.push(call.key);
        Ok(())
    }

    /// `xtables_options_fcheck` (mandatory, `.also`, `.excl` in table
    /// order), then `statistic_check`.
    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let has = |k: &str| self.given.contains(&k);
        if !has("mode") {
            return Err(xt_mandatory("statistic", "mode"));
        }
        if has("probability") {
            for other in ["every", "packet"] {
                if has(other) {
                    return Err(xt_exclusive("statistic", "probability", other));
                }
            }
        }
        for (a, b) in [("every", "packet"), ("packet", "every")] {
            if has(a) && !has(b) {
                return Err(ExtError::new(format!(
                    "statistic: option \"--{a}\" also requires \"--{b}\"."
                )));
            }
        }
        if self.mode == Mode::Random && !has("probability") {
            return Err(ExtError::new(
                "--probability must be specified when using random mode",
            ));
        }
        if self.mode == Mode::Nth && !has("every") && !has("packet") {
            return Err(ExtError::new(
                "--every and --packet must be specified when using nth mode",
            ));
        }
        if self.packet > self.every {
            return Err(ExtError::new("the --packet p must be 0 <= p <= n-1"));
        }
        Ok(())
    }

    /// `statistic_print` (`print_match` with an empty prefix): the packet
    /// number only when non-zero.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let bang = if self.invert { " !" } else { "" };
        match self.mode {
            Mode::Random => {
                let _ = write!(out, " statistic mode random{bang} probability ");
                fmt_probability(out, self.probability);
            }
            Mode::Nth => {
                // `every + 1` is a u32 sum in C.
                let every = self.every.wrapping_add(1);
                let _ = write!(out, " statistic mode nth{bang} every {every}");
                if self.packet != 0 {
                    let _ = write!(out, " packet {}", self.packet);
                }
            }
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let bang = if self.invert { " !" } else { "" };
        match self.mode {
            Mode::Random => {
                let _ = write!(out, " --mode random{bang} --probability ");
                fmt_probability(out, self.probability);
            }
            Mode::Nth => {
                let every = u64::from(self.every) + 1;
                let _ = write!(
                    out,
                    " --mode nth{bang} --every {every} --packet {}",
                    self.packet
                );
            }
        }
    }

    /// `statistic_mt`: nth mode advances the rule's counter and matches when
    /// it wraps from `every` (N-1) to 0. The counter starts at `every -
    /// packet` (libxt_statistic.c `statistic_check` stores that in
    /// `u.nth.count`, which `statistic_mt_check` loads), so `--packet 0`
    /// matches the rule's first packet. Random
    /// mode draws `get_random_u32()`: not reproducible offline, so Unknown.
    fn eval_state(&self, _facts: &Facts, st: &mut State) -> MatchResult {
        match self.mode {
            Mode::Random => MatchResult::Unknown(Self::NAME),
            Mode::Nth => {
                let count = st
                    .rule::<u32>()
                    .get_or_insert(self.every.saturating_sub(self.packet));
                *count = if *count == self.every { 0 } else { *count + 1 };
                MatchResult::from_bool((*count == 0) != self.invert)
            }
        }
    }
}

/// `strtod` over the whole argument (decimal, exponent, inf, nan).
fn parse_double(s: &str) -> Option<f64> {
    s.trim_start_matches([' ', '\t', '\n']).parse::<f64>().ok()
}

/// `lround(0x80000000 * p)` for 0 <= p <= 1 (NaN rounds to 0 here).
fn lround_prob(p: f64) -> u32 {
    let v = (p * 2_147_483_648.0).round();
    if v.is_nan() || v < 0.0 {
        0
    } else {
        v.min(f64::from(u32::MAX)) as u32
    }
}

/// `printf("%.11f", prob / 2^31)`, computed exactly and rounded to nearest
/// with ties to even, as glibc does.
pub fn fmt_probability(out: &mut String, prob: u32) {
    const SCALE: u128 = 100_000_000_000; // 10^11
    let num = u128::from(prob) * SCALE;
    let (mut q, r) = (num >> 31, num & ((1 << 31) - 1));
    let half = 1u128 << 30;
    if r > half || (r == half && q % 2 == 1) {
        q += 1;
    }
    let _ = write!(out, "{}.{:011}", q / SCALE, q % SCALE);
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;
    use super::fmt_probability;

    #[test]
    fn probability_format() {
        let mut s = String::new();
        fmt_probability(&mut s, 1 << 30);
        s.push('|');
        fmt_probability(&mut s, 1 << 19); // 1/4096 = 0.000244140625: a tie
        s.push('|');
        fmt_probability(&mut s, 1 << 31);
        assert_eq!(s, "0.50000000000|0.00024414062|1.00000000000");
    }

    #[test]
    fn modes() {
        assert_eq!(
            roundtrip("-m statistic --mode random --probability 0.1").unwrap(),
            "-m statistic --mode random --probability 0.10000000009"
        );
        assert_eq!(
            roundtrip("-m statistic --mode nth ! --every 5 --packet 0").unwrap(),
            "-m statistic --mode nth ! --every 5 --packet 0"
        );
        assert!(roundtrip("-m statistic --mode nth --every 5").is_err());
        assert!(roundtrip("-m statistic --mode nth --every 5 --packet 5").is_err());
        assert!(roundtrip("-m statistic --probability 1").is_err());
        assert!(roundtrip("-m statistic --mode random --probability 1.1").is_err());
    }

    #[test]
    fn nth_counts_per_rule() {
        use crate::ext::state::{MatchKey, NoConns, State, Store};
        use crate::ext::MatchResult::{No, Unknown, Yes};
        let bytes = [0u8; 20];
        let f = super::super::testutil::facts(&bytes, 0, 64, Default::default(), 0);
        let mut store = Store::default();
        let key = MatchKey {
            table: 0,
            chain: 0,
            rule: 0,
            idx: 0,
        };
        let m = super::super::testutil::first_match("-m statistic --mode nth --every 3 --packet 0");
        let got: Vec<_> = (0..7)
            .map(|_| m.eval_state(&f, &mut State::new(&mut store, key, &NoConns)))
            .collect();
        // The counter starts at every - packet = 2: the 1st packet wraps it
        // to 0 (as the kernel did in hm_match_conntrack_ext), then every 3rd.
        assert_eq!(got, [Yes, No, No, Yes, No, No, Yes]);
        let p1 =
            super::super::testutil::first_match("-m statistic --mode nth --every 3 --packet 1");
        let k1 = MatchKey { rule: 2, ..key };
        let got: Vec<_> = (0..4)
            .map(|_| p1.eval_state(&f, &mut State::new(&mut store, k1, &NoConns)))
            .collect();
        assert_eq!(got, [No, Yes, No, No]);
        let r = super::super::testutil::first_match("-m statistic --mode random --probability 0.5");
        let other = MatchKey { rule: 1, ..key };
        assert_eq!(
            r.eval_state(&f, &mut State::new(&mut store, other, &NoConns)),
            Unknown("statistic")
        );
    }
}
