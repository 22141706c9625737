//! `-m rateest` (libxt_rateest.c, xt_rateest.c): compares rate estimators
//! created by `-j RATEEST` rules: one estimator against a rate (absolute
//! mode, `--rateest NAME`), or two against each other (`--rateest1 A
//! --rateest2 B`), in bytes or packets per second, optionally as deltas.
//!
//! Kept as `struct xt_rateest_match_info`: flag bits, mode, names and
//! rates (bytes/s and packets/s). The parser is getopt style: `!` is taken
//! by every option and refused by the extension where it makes no sense;
//! the rate after `--rateest-bps[12]`/`--rateest-pps[12]` is optional.
//! Estimators are kernel objects made by RATEEST rules; a name is accepted
//! here whatever it is (the kernel refuses unknown ones at load).

use super::tcp::unreachable_option;
use crate::ext::spec::{Arg, ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::strtoul;
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

pub const ABS: u8 = 0x01;
pub const REL: u8 = 0x02;
pub const DELTA: u8 = 0x04;
pub const BPS: u8 = 0x08;
pub const PPS: u8 = 0x10;
pub const INVERT: u8 = 0x20;
/// `char name[IFNAMSIZ]`: 15 bytes and the NUL.
const MAX_NAME: usize = 15;

/// Rate suffixes of iproute2 (`suffixes` in libxt_rateest.c): bits/s scale.
const SUFFIXES: &[(&str, f64)] = &[
    ("bit", 1.),
    ("Kibit", 1024.),
    ("kbit", 1000.),
    ("Mibit", 1024. * 1024.),
    ("mbit", 1_000_000.),
    ("Gibit", 1024. * 1024. * 1024.),
    ("gbit", 1_000_000_000.),
    ("Tibit", 1024. * 1024. * 1024. * 1024.),
    ("tbit", 1_000_000_000_000.),
    ("Bps", 8.),
    ("KiBps", 8. * 1024.),
    ("KBps", 8000.),
    ("MiBps", 8. * 1024. * 1024.),
    ("MBps", 8_000_000.),
    ("GiBps", 8. * 1024. * 1024. * 1024.),
    ("GBps", 8_000_000_000.),
    ("TiBps", 8. * 1024. * 1024. * 1024. * 1024.),
    ("TBps", 8_000_000_000_000.),
];

/// `XT_RATEEST_MATCH_*` comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    None,
    Eq,
    Lt,
    Gt,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rateest {
    pub name1: String,
    pub name2: String,
    pub flags: u8,
    pub mode: Mode,
    pub bps1: u32,
    pub pps1: u32,
    pub bps2: u32,
    pub pps2: u32,
    seen: Vec<&'static str>,
}

impl Rateest {
    /// `rateest_print_mode`: ` !` and the comparison word. (The C code
    /// exits on an unset mode; here nothing is printed.)
    fn list_mode(&self, out: &mut String) {
        if self.flags & INVERT != 0 {
            out.push_str(" !");
        }
        out.push_str(match self.mode {
            Mode::Eq => " eq",
            Mode::Lt => " lt",
            Mode::Gt => " gt",
            Mode::None => "",
        });
    }
}

const fn opt(name: &'static str, arg: Arg) -> OptSpec {
    OptSpec::new(name, arg).inv().multi()
}

impl MatchDef for Rateest {
    const NAME: &'static str = "rateest";
    const OPTIONS: &'static [OptSpec] = &[
        opt("rateest1", Arg::Required),
        opt("rateest", Arg::Required).alias("rateest1"),
        opt("rateest2", Arg::Required),
        opt("rateest-bps1", Arg::Optional),
        opt("rateest-pps1", Arg::Optional),
        opt("rateest-bps2", Arg::Optional),
        opt("rateest-pps2", Arg::Optional),
        opt("rateest-bps", Arg::Optional).alias("rateest-bps2"),
        opt("rateest-pps", Arg::Optional).alias("rateest-pps2"),
        opt("rateest-delta", Arg::None),
        opt("rateest-lt", Arg::None),
        opt("rateest-gt", Arg::None),
        opt("rateest-eq", Arg::None),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let key = call.key;
        let is_mode = matches!(key, "rateest-lt" | "rateest-gt" | "rateest-eq");
        if call.invert && !is_mode {
            let what = match key {
                "rateest1" | "rateest2" => "rateest",
                k if k.starts_with("rateest-bps") => "rateest-bps",
                k if k.starts_with("rateest-pps") => "rateest-pps",
                _ => "rateest-delta",
            };
            return Err(ExtError::new(format!("rateest: {what} can't be inverted")).at(call.span));
        }
        if self.seen.contains(&key) {
            let what = if is_mode {
                "lt/gt/eq".to_string()
            } else {
                format!("--{key}")
            };
            let msg = format!("rateest: can't specify {what} twice");
            return Err(ExtError::new(msg).at(call.span));
        }
        self.seen.push(key);
        match key {
            "rateest1" => self.name1 = super::helper::truncate(call.arg(), MAX_NAME).to_string(),
            "rateest2" => {
                self.name2 = super::helper::truncate(call.arg(), MAX_NAME).to_string();
                self.flags |= REL;
            }
            "rateest-bps1" | "rateest-bps2" => {
                self.flags |= BPS;
                if let Some(v) = call.value {
                    let rate = parse_rate(&v.text).ok_or_else(|| {
                        call.err(format!("rateest: could not parse rate `{}'", v.text))
                    })?;
                    *(if key.ends_with('1') {
                        &mut self.bps1
                    } else {
                        &mut self.bps2
                    }) = rate;
                }
            }
            "rateest-pps1" | "rateest-pps2" => {
                self.flags |= PPS;
                if let Some(v) = call.value {
                    let pps = strtoul(&v.text, 0, u64::from(u32::MAX)).ok_or_else(|| {
                        call.err(format!("rateest: could not parse pps `{}'", v.text))
                    })?;
                    *(if key.ends_with('1') {
                        &mut self.pps1
                    } else {
                        &mut self.pps2
                    }) = pps as u32;
                }
            }
            "rateest-delta" => self.flags |= DELTA,
            "rateest-lt" | "rateest-gt" | "rateest-eq" => {
                self.mode = match key {
                    "rateest-lt" => Mode::Lt,
                    "rateest-gt" => Mode::Gt,
                    _ => Mode::Eq,
                };
                if call.invert {
                    self.flags |= INVERT;
                }
            }
            _ => return unreachable_option(call),
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.flags & REL == 0 {
            self.flags |= ABS;
        }
        Ok(())
    }

    /// `xt_rateest_mt_checkentry`: bytes or packets, and a comparison.
    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        if self.flags & (BPS | PPS) == 0 {
            return Err(ExtError::new(
                "the kernel refuses a rateest match without --rateest-bps or --rateest-pps",
            ));
        }
        if self.mode == Mode::None {
            return Err(ExtError::new(
                "the kernel refuses a rateest match without --rateest-lt, --rateest-gt or --rateest-eq",
            ));
        }
        Ok(())
    }

    /// `rateest_print` (numeric rates): a different order from save.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let (delta, abs) = (self.flags & DELTA != 0, self.flags & ABS != 0);
        let _ = write!(out, " rateest match {}", self.name1);
        if delta {
            out.push_str(" delta");
        }
        if self.flags & BPS != 0 {
            out.push_str(" bps");
            if delta {
                let _ = write!(out, " {}", self.bps1);
            }
            if abs {
                let _ = write!(out, " {}", self.bps2);
                self.list_mode(out);
            }
        }
        if self.flags & PPS != 0 {
            out.push_str(" pps");
            if delta {
                let _ = write!(out, " {}", self.pps1);
            }
            if abs {
                self.list_mode(out);
                let _ = write!(out, " {}", self.pps2);
            }
        }
        if self.flags & REL != 0 {
            self.list_mode(out);
            let _ = write!(out, " {}", self.name2);
            for (flag, word, v) in [(BPS, "bps", self.bps2), (PPS, "pps", self.pps2)] {
                if self.flags & flag != 0 {
                    let _ = write!(out, " {word}");
                    if delta {
                        let _ = write!(out, " {v}");
                    }
                }
            }
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.flags & DELTA != 0 {
            out.push_str(" --rateest-delta");
        }
        let rel = self.flags & REL != 0;
        let _ = write!(
            out,
            " --rateest{} {}",
            if rel { "1" } else { "" },
            self.name1
        );
        if self.flags & BPS != 0 {
            self.save_rate(out, "bps", self.bps1, self.bps2, false);
        }
        if self.flags & PPS != 0 {
            self.save_rate(out, "pps", self.pps1, self.pps2, true);
        }
        if rel {
            let _ = write!(out, " --rateest2 {}", self.name2);
        }
    }
}

impl Rateest {
    /// `__rateest_save_rate`.
    fn save_rate(&self, out: &mut String, name: &str, r1: u32, r2: u32, numeric: bool) {
        if self.flags & DELTA != 0 {
            let _ = write!(out, " --rateest-{name}1");
            print_rate(out, r1, numeric);
            self.save_mode(out);
            let _ = write!(out, " --rateest-{name}2");
        } else {
            self.save_mode(out);
            let _ = write!(out, " --rateest-{name}");
        }
        if self.flags & (ABS | DELTA) != 0 {
            print_rate(out, r2, numeric);
        }
    }

    fn save_mode(&self, out: &mut String) {
        if self.flags & INVERT != 0 {
            out.push_str(" !");
        }
        out.push_str(match self.mode {
            Mode::Eq => " --rateest-eq",
            Mode::Lt => " --rateest-lt",
            Mode::Gt => " --rateest-gt",
            Mode::None => "",
        });
    }
}

/// `rateest_get_rate`: a number of bits/s (iptables' "assume bytes/sec"
/// comment notwithstanding, it divides by 8) with an optional
/// case-insensitive unit; stored as bytes per second.
pub fn parse_rate(s: &str) -> Option<u32> {
    let t = s.trim_start_matches([' ', '\t', '\n']);
    // strtod reads the longest prefix that is a number.
    let end = t
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .rev()
        .find(|i| t.get(..*i).is_some_and(|p| p.parse::<f64>().is_ok()))?;
    let num: f64 = t.get(..end)?.parse().ok()?;
    let unit = t.get(end..)?;
    let scale = if unit.is_empty() {
        1.
    } else {
        SUFFIXES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(unit))?
            .1
    };
    Some(((num * scale) / 8.) as u32)
}

/// `rateest_print_rate`: packets as numbers, bytes/s as bit/Kbit/Mbit.
fn print_rate(out: &mut String, rate: u32, numeric: bool) {
    let bits = f64::from(rate) * 8.;
    if numeric {
        let _ = write!(out, " {rate}");
    } else if bits >= 1e9 {
        let _ = write!(out, " {}Mbit", round_even(bits / 1e6));
    } else if bits >= 1e6 {
        let _ = write!(out, " {}Kbit", round_even(bits / 1e3));
    } else {
        let _ = write!(out, " {}bit", round_even(bits));
    }
}

/// `%.0f`: nearest integer, ties to even.
fn round_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;
    use super::parse_rate;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("8bit"), Some(1));
        assert_eq!(parse_rate("5KBIT"), Some(625));
        assert_eq!(parse_rate("100"), Some(12)); // bits/s without a unit
        assert_eq!(parse_rate("5xb"), None);
        assert_eq!(parse_rate("1e3bit"), Some(125));
    }

    #[test]
    fn save_forms() {
        assert_eq!(
            roundtrip("-m rateest --rateest RE1 --rateest-gt --rateest-bps 5kbit").unwrap(),
            "-m rateest --rateest RE1 --rateest-gt --rateest-bps 5000bit"
        );
        assert_eq!(
            roundtrip("-m rateest --rateest-delta --rateest1 RE1 --rateest-pps1 0 --rateest-lt --rateest-pps2 42 --rateest2 RE2").unwrap(),
            "-m rateest --rateest-delta --rateest1 RE1 --rateest-pps1 0 --rateest-lt --rateest-pps2 42 --rateest2 RE2"
        );
        assert_eq!(
            roundtrip("-m rateest --rateest1 RE1 ! --rateest-lt --rateest-bps --rateest2 RE2")
                .unwrap(),
            "-m rateest --rateest1 RE1 ! --rateest-lt --rateest-bps --rateest2 RE2"
        );
        assert!(roundtrip("-m rateest --rateest RE1 --rateest-bps 1").is_err());
        assert!(roundtrip("-m rateest --rateest RE1 ! --rateest-bps 1 --rateest-lt").is_err());
        assert!(
            roundtrip("-m rateest --rateest RE1 --rateest-lt --rateest-lt --rateest-pps 1")
                .is_err()
        );
    }
}
