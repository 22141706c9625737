//! `-m limit --limit RATE --limit-burst N` (libxt_limit.c, kernel
//! xt_limit.c): a token bucket shared by every packet the rule sees.
//!
//! Replay keeps the bucket per rule and refills it by capture time in
//! jiffies of the reference kernel (HZ=250, see `ext::state`).
//!
//! `avg` is the kernel's field: the interval between packets in units of
//! 1/10000 s (`XT_LIMIT_SCALE`). Defaults are 3/hour and a burst of 5.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::state::{jiffies, State, HZ};
use crate::ext::value::{atoi, uint};
use crate::ext::{CheckCtx, Facts, MatchDef, MatchResult, RuleCtx};
use std::fmt::Write;

/// `XT_LIMIT_SCALE`: rates are kept as 1/10000ths of a second per packet.
pub const SCALE: u32 = 10_000;
pub const DEFAULT_BURST: u32 = 5;
/// `CREDITS_PER_JIFFY` (xt_limit.c): the power of two below
/// `u32::MAX / (HZ * 86400)`, so a day of credits fits in 32 bits: 128 at
/// the reference kernel's HZ=250 (32 at HZ=1000).
pub const CREDITS_PER_JIFFY: u32 = pow2_below((u32::MAX as u64 / (HZ * 86400)) as u32);
/// `HZ * CREDITS_PER_JIFFY`: 32000 for both HZ=250 and HZ=1000, so load
/// checks and bucket sizes do not depend on HZ; only the refill step does.
pub const HZ_CPJ: u64 = HZ * CREDITS_PER_JIFFY as u64;

/// `POW2_BELOW32`: the largest power of two not above `x` (x > 0).
const fn pow2_below(x: u32) -> u32 {
    1 << (31 - x.leading_zeros())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// Interval per packet in 1/10000 s.
    pub avg: u32,
    pub burst: u32,
}

impl Default for Limit {
    fn default() -> Limit {
        Limit {
            avg: SCALE * 3600 / 3,
            burst: DEFAULT_BURST,
        }
    }
}

impl MatchDef for Limit {
    const NAME: &'static str = "limit";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("limit"), OptSpec::req("limit-burst")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let arg = call.arg();
        match call.key {
            "limit" => {
                self.avg = parse_rate(arg)
                    .map_err(|e| e.at(call.arg_span()))?
                    .ok_or_else(|| call.err(format!("bad rate \"{arg}\"'")))?;
            }
            "limit-burst" => {
                self.burst = uint(arg, 0, 10_000).ok_or_else(|| {
                    call.err(
                        "limit: bad value for option \"--limit-burst\", or out of range (0-10000).",
                    )
                })? as u32;
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        check_bucket(self.avg, self.burst, "limit")
    }

    /// `limit_print`: the rate as `print_rate` writes it and the burst,
    /// always (save omits the default burst).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" limit: avg ");
        fmt_rate(out, self.avg);
        let _ = write!(out, " burst {}", self.burst);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" --limit ");
        fmt_rate(out, self.avg);
        if self.burst != DEFAULT_BURST {
            let _ = write!(out, " --limit-burst {}", self.burst);
        }
    }

    fn eval_state(&self, facts: &Facts, st: &mut State) -> MatchResult {
        let now = jiffies(facts.now_ns);
        let b = st
            .rule::<Bucket>()
            .get_or_insert_with(|| Bucket::full(now, self.avg, self.burst));
        MatchResult::from_bool(b.take(now, self.avg, self.burst))
    }
}

/// `user2credits` (xt_limit.c): divides first when multiplying would
/// overflow 32 bits.
fn user2credits(user: u32) -> u32 {
    if u64::from(user) > u64::from(u32::MAX) / HZ_CPJ {
        ((u64::from(user / SCALE) * HZ_CPJ) & u64::from(u32::MAX)) as u32
    } else {
        (u64::from(user) * HZ_CPJ / u64::from(SCALE)) as u32
    }
}

/// A rule's bucket (`struct xt_limit_priv`): credits and the jiffy of the
/// last refill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub prev: u64,
    pub credit: u32,
}

impl Bucket {
    /// `limit_mt_check`: full at load. Replay starts the clock at the
    /// rule's first packet, which is the same: a full bucket stays capped.
    pub fn full(now: u64, avg: u32, burst: u32) -> Bucket {
        Bucket {
            prev: now,
            credit: user2credits(avg.wrapping_mul(burst)),
        }
    }

    /// `limit_mt`: refill `CREDITS_PER_JIFFY` per elapsed jiffy (in 32-bit
    /// arithmetic, as the kernel's `u32 credit_increase`), cap at the burst,
    /// and pay `user2credits(avg)` if the credits allow.
    pub fn take(&mut self, now: u64, avg: u32, burst: u32) -> bool {
        let cap = user2credits(avg.wrapping_mul(burst));
        let cost = user2credits(avg);
        let elapsed = now.wrapping_sub(self.prev) as u32;
        self.prev = now;
        let mut credit = self
            .credit
            .wrapping_add(elapsed.wrapping_mul(CREDITS_PER_JIFFY));
        if credit > cap {
            credit = cap;
        }
        let ok = credit >= cost;
        self.credit = if ok { credit - cost } else { credit };
        ok
    }
}

/// `limit_mt_check`: a zero burst, or `avg * burst` overflowing the credit
/// counter, is EINVAL ("Overflow, try lower").
pub fn check_bucket(avg: u32, burst: u32, name: &str) -> ExtResult {
    if burst == 0 || user2credits(avg.wrapping_mul(burst)) < user2credits(avg) {
        return Err(ExtError::new(format!(
            "the kernel refuses this {name} rule: \"Overflow, try lower: {avg}/{burst}\""
        ))
        .help("the rate times the burst overflows the kernel's credit counter; use a faster rate or a smaller burst"));
    }
    Ok(())
}

/// The seconds of a rate's `/unit` (any prefix of second, minute, hour or
/// day, case-insensitive; none means per second), as `parse_rate` in
/// libxt_limit.c and libxt_hashlimit.c reads it. `None` for a bad unit.
pub fn rate_unit_seconds(s: &str) -> Option<u32> {
    let Some((_, unit)) = s.split_once('/') else {
        return Some(1);
    };
    if unit.is_empty() {
        return None;
    }
    let is = |name: &str| {
        name.get(..unit.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(unit))
    };
    [
        ("second", 1),
        ("minute", 60),
        ("hour", 3600),
        ("day", 86400),
    ]
    .into_iter()
    .find(|(name, _)| is(name))
    .map(|(_, secs)| secs)
}

/// `parse_rate`: `N[/second|minute|hour|day]` (any prefix of the unit, case
/// insensitive); `N` is read by `atoi` (trailing junk ignored). `Ok(None)` is
/// "bad rate"; a rate above 10000/s is "Rate too fast".
pub fn parse_rate(s: &str) -> ExtResult<Option<u32>> {
    let Some(mult) = rate_unit_seconds(s) else {
        return Ok(None);
    };
    let r = atoi(s) as u32;
    if r == 0 {
        return Ok(None);
    }
    let v = SCALE * mult / r;
    if v == 0 {
        return Err(ExtError::new(format!("Rate too fast \"{s}\"")));
    }
    Ok(Some(v))
}

/// `print_rate`: the largest unit (day, hour, min, sec) that still shows the
/// interval exactly enough, as `N/unit`.
pub fn fmt_rate(out: &mut String, period: u32) {
    const RATES: &[(&str, u32)] = &[
        ("day", SCALE * 86400),
        ("hour", SCALE * 3600),
        ("min", SCALE * 60),
        ("sec", SCALE),
    ];
    if period == 0 {
        out.push_str("inf");
        return;
    }
    let mut i = 1;
    while let Some((_, mult)) = RATES.get(i) {
        if period > *mult || mult / period < mult % period {
            break;
        }
        i += 1;
    }
    let (name, mult) = RATES.get(i - 1).copied().unwrap_or(("sec", SCALE));
    let _ = write!(out, "{}/{name}", mult / period);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(s: &str) -> String {
        let mut out = String::new();
        fmt_rate(&mut out, parse_rate(s).unwrap().unwrap());
        out
    }

    #[test]
    fn rates_canonicalise() {
        assert_eq!(round("3/h"), "3/hour");
        assert_eq!(round("7"), "7/sec");
        assert_eq!(round("3x/sec"), "3/sec");
        assert_eq!(round("2000/hour"), "2000/hour");
        assert_eq!(round("1000/day"), "1000/day");
        assert!(parse_rate("10001/s").is_err());
        assert_eq!(parse_rate("5/minutes"), Ok(None));
        assert_eq!(parse_rate("0/s"), Ok(None));
    }

    #[test]
    fn bucket_overflow_like_kernel() {
        let day = parse_rate("1/day").unwrap().unwrap();
        assert!(check_bucket(day, 5, "limit").is_err());
        assert!(check_bucket(day, 4, "limit").is_err());
        assert!(check_bucket(parse_rate("1/hour").unwrap().unwrap(), 5, "limit").is_ok());
        assert!(check_bucket(100, 0, "limit").is_err());
    }

    #[test]
    fn credits_per_jiffy_at_hz_250() {
        // MAX_CPJ = 0xFFFFFFFF / (250 * 86400) = 198 -> 128.
        assert_eq!(CREDITS_PER_JIFFY, 128);
        assert_eq!(HZ_CPJ, 32_000);
        // 1/sec: avg 10000 -> cost 32000 credits = 250 jiffies of refill.
        assert_eq!(user2credits(10_000), 32_000);
        // Divide first above u32::MAX / 32000 (134217).
        assert_eq!(user2credits(134_218 * 10), 134_218 / 1000 * 32_000);
    }

    #[test]
    fn bucket_refills_like_limit_mt() {
        // --limit 2/sec --limit-burst 3: avg 5000, cost 16000, cap 48000.
        let avg = parse_rate("2/sec").unwrap().unwrap();
        let mut b = Bucket::full(1000, avg, 3);
        let took: Vec<bool> = (0..4).map(|_| b.take(1000, avg, 3)).collect();
        assert_eq!(took, [true, true, true, false]);
        // 124 jiffies refill 15872 < 16000; the 125th jiffy makes 16000.
        assert!(!b.take(1124, avg, 3));
        assert_eq!(b.credit, 15_872);
        assert!(b.take(1125, avg, 3));
        assert_eq!(b.credit, 0);
        // A long pause only refills up to the burst.
        assert!((0..3).all(|_| b.take(100_000, avg, 3)));
        assert!(!b.take(100_000, avg, 3));
        // The increase is 32-bit: after 2^32/128 jiffies it wraps to 0.
        let mut w = Bucket { prev: 0, credit: 0 };
        assert!(!w.take(1 << 25, avg, 3));
    }
}
