//! `-j RATEEST` (libxt_RATEEST.c, xt_RATEEST.c): feeds a named rate
//! estimator that `-m rateest` reads.
//!
//! The interval and EWMA time constant are converted, as `RATEEST_final_check`
//! does, to the kernel's `interval` (−2..3: 250 ms · 2^(n+2)) and `ewma_log`,
//! and saved back from those (`1s` saves as `1.0s`, `2` µs as `250.0ms`).
//! Estimators are shared per name: two rules naming one estimator with other
//! parameters make the kernel refuse the table, which needs the whole
//! ruleset to see and is not checked here.

use super::ct::truncate;
use super::dnat::must_have;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::TargetResult;
use crate::ext::{RuleCtx, TargetDef};
use std::fmt::Write;

/// TIME_UNITS_PER_SEC: times are kept in microseconds.
const USEC: f64 = 1_000_000.0;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rateest {
    pub name: Option<String>,
    /// The kernel's `interval` (−2..=3).
    pub interval: i8,
    pub ewma_log: u8,
    /// Microseconds as given, until `finalize` converts them.
    given: (u32, u32),
}

/// `RATEEST_get_time`: a `strtod` number with an optional unit.
fn get_time(s: &str) -> Option<u32> {
    let split = (1..=s.len()).rev().find(|i| {
        s.is_char_boundary(*i)
            && s.get(..*i)
                .is_some_and(|p| p.trim_start().parse::<f64>().is_ok())
    })?;
    let (num, unit) = s.split_at(split);
    let t: f64 = num.trim_start().parse().ok()?;
    let unit = unit.to_ascii_lowercase();
    let scale = match unit.as_str() {
        "" => 1.0,
        "s" | "sec" | "secs" => USEC,
        "ms" | "msec" | "msecs" => USEC / 1000.0,
        "us" | "usec" | "usecs" => 1.0,
        _ => return None,
    };
    // C converts the double to unsigned int by truncation.
    Some((t * scale).clamp(0.0, f64::from(u32::MAX)) as u32)
}

/// `RATEEST_print_time`.
fn print_time(out: &mut String, t: u64) {
    let f = t as f64;
    if f >= USEC {
        let _ = write!(out, "{:.1}s", f / USEC);
    } else if f >= USEC / 1000.0 {
        let _ = write!(out, "{:.1}ms", f / (USEC / 1000.0));
    } else {
        let _ = write!(out, "{t}us");
    }
}

impl TargetDef for Rateest {
    const NAME: &'static str = "RATEEST";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("rateest-name"),
        OptSpec::req("rateest-interval"),
        OptSpec::req("rateest-ewmalog"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let time = |what: &str| {
            get_time(call.arg())
                .ok_or_else(|| call.err(format!("RATEEST: bad {what} value \"{}\"", call.arg())))
        };
        match call.key {
            // char name[IFNAMSIZ].
            "rateest-name" => self.name = Some(truncate(call.arg(), 15)),
            "rateest-interval" => self.given.0 = time("interval")?,
            "rateest-ewmalog" => self.given.1 = time("ewmalog")?,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let (interval, ewma) = (f64::from(self.given.0), f64::from(self.given.1));
        let n = (0..=5)
            .find(|n| interval <= f64::from(1u32 << n) * (USEC / 4.0))
            .ok_or_else(|| ExtError::new("RATEEST: interval value is too large"))?;
        self.interval = n as i8 - 2;
        let log = (1..32u32)
            .find(|l| {
                let w = 1.0 - 1.0 / f64::from(1u32 << l);
                interval / (-w.ln()) > ewma
            })
            .unwrap_or(32)
            - 1;
        if log == 0 || log >= 31 {
            return Err(ExtError::new("RATEEST: ewmalog value is out of range"));
        }
        self.ewma_log = log as u8;
        must_have(self.name.is_some(), "RATEEST", "rateest-name")
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `__RATEEST_print(target, "")`: the times in `unsigned int`, as C
    /// computes them.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, " name {}", self.name.as_deref().unwrap_or(""));
        let shift = u32::try_from(i32::from(self.interval) + 2).unwrap_or(0);
        let interval = 1_000_000u32.checked_shl(shift).unwrap_or(0) / 4;
        out.push_str(" interval ");
        print_time(out, u64::from(interval));
        out.push_str(" ewmalog ");
        let ewma = interval.wrapping_mul(1u32.checked_shl(u32::from(self.ewma_log)).unwrap_or(0));
        print_time(out, u64::from(ewma));
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(
            out,
            " --rateest-name {}",
            self.name.as_deref().unwrap_or("")
        );
        let shift = u32::try_from(i32::from(self.interval) + 2).unwrap_or(0);
        let interval = (1_000_000u64 << shift) / 4;
        out.push_str(" --rateest-interval ");
        print_time(out, interval);
        out.push_str(" --rateest-ewmalog ");
        print_time(out, interval << self.ewma_log);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn times_round_trip_through_the_kernel_encoding() {
        let f = |r| fmt_rule("filter", "INPUT", r);
        let r =
            "-j RATEEST --rateest-name RE1 --rateest-interval 250.0ms --rateest-ewmalog 500.0ms";
        assert_eq!(f(r).unwrap(), r);
        assert_eq!(
            f("-j RATEEST --rateest-name A --rateest-interval 2 --rateest-ewmalog 3").unwrap(),
            "-j RATEEST --rateest-name A --rateest-interval 250.0ms --rateest-ewmalog 500.0ms"
        );
        assert_eq!(
            f("-j RATEEST --rateest-name A --rateest-interval 1sec --rateest-ewmalog 2s").unwrap(),
            "-j RATEEST --rateest-name A --rateest-interval 1.0s --rateest-ewmalog 2.0s"
        );
        assert!(
            f("-j RATEEST --rateest-name A --rateest-interval 16s --rateest-ewmalog 32s").is_err()
        );
        assert!(f("-j RATEEST --rateest-name A").is_err());
        assert!(f("-j RATEEST --rateest-interval 1s --rateest-ewmalog 2s").is_err());
        assert!(
            f("-j RATEEST --rateest-name A --rateest-interval x --rateest-ewmalog 1s").is_err()
        );
    }
}
