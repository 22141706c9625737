//! `-m hashlimit` (libxt_hashlimit.c revision 3, kernel xt_hashlimit.c):
//! per-flow token buckets keyed by the `--hashlimit-mode` fields.
//!
//! Fields are the kernel's `hashlimit_cfg3` after iptables' final check:
//! `avg` is µs per packet (`XT_HASHLIMIT_SCALE_v2`), or in byte mode the
//! cost per byte unit; `burst` is packets (byte mode: buckets of
//! `cost_to_bytes(avg)`, 0 when not given); `expire` defaults to the rate
//! unit in ms (15 s / 60 s in byte mode); masks default to 32. Save prints
//! these back as 1.8.9 does, including the burst and any expire that differs
//! from the printed unit.

use super::hashlimit_state;
use super::limit::rate_unit_seconds;
use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::state::{jiffies, State};
use crate::ext::value::{atoi, atoll, inet_aton, strtoumax_prefix, uint};
use crate::ext::{CheckCtx, Facts, MatchDef, MatchResult, RuleCtx};
use std::fmt::Write;

pub const SCALE: u64 = 1_000_000;
pub const DEFAULT_BURST: u64 = 5;
pub const BURST_MAX: u64 = 1_000_000;
pub const GC_INTERVAL: u32 = 1000;
const BYTE_EXPIRE: u32 = 15;
const BYTE_EXPIRE_BURST: u32 = 60;
const BYTE_SHIFT: u32 = 4;
/// `HZ * CREDITS_PER_JIFFY / XT_HASHLIMIT_SCALE_v2` of the kernel's
/// `user2credits` (same for HZ=250 and HZ=1000).
const CREDIT_FACTOR: u64 = 137_438_953;
/// `HASHLIMIT_MAX_SIZE`: larger htable size/max are truncated to this.
const MAX_SIZE: u32 = 1_048_576;

/// `XT_HASHLIMIT_HASH_*` and mode flags.
pub const HASH_DIP: u32 = 1 << 0;
pub const HASH_DPT: u32 = 1 << 1;
pub const HASH_SIP: u32 = 1 << 2;
pub const HASH_SPT: u32 = 1 << 3;
pub const INVERT: u32 = 1 << 4;
pub const BYTES: u32 = 1 << 5;
pub const RATE_MATCH: u32 = 1 << 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashlimit {
    pub mode: u32,
    pub avg: u64,
    pub burst: u64,
    pub size: u32,
    pub max: u32,
    pub gc_interval: u32,
    pub expire: u32,
    pub srcmask: u8,
    pub dstmask: u8,
    pub interval: u32,
    pub name: String,
    /// Seconds per rate unit from the rate's parse (`udata->mult`).
    mult: u32,
    given: Vec<&'static str>,
}

impl Default for Hashlimit {
    fn default() -> Hashlimit {
        Hashlimit {
            mode: 0,
            avg: 0,
            burst: DEFAULT_BURST,
            size: 0,
            max: 0,
            gc_interval: GC_INTERVAL,
            expire: 0,
            srcmask: 32,
            dstmask: 32,
            interval: 0,
            name: String::new(),
            mult: 1,
            given: Vec::new(),
        }
    }
}

impl MatchDef for Hashlimit {
    const NAME: &'static str = "hashlimit";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("hashlimit-upto").inv(),
        OptSpec::req("hashlimit-above").inv(),
        OptSpec::req("hashlimit").inv().alias("hashlimit-upto"),
        OptSpec::req("hashlimit-srcmask"),
        OptSpec::req("hashlimit-dstmask"),
        OptSpec::req("hashlimit-burst"),
        OptSpec::req("hashlimit-htable-size"),
        OptSpec::req("hashlimit-htable-max"),
        OptSpec::req("hashlimit-htable-gcinterval"),
        OptSpec::req("hashlimit-htable-expire"),
        OptSpec::req("hashlimit-mode"),
        OptSpec::req("hashlimit-name"),
        OptSpec::flag("hashlimit-rate-match"),
        OptSpec::req("hashlimit-rate-interval"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let arg = call.arg();
        let bad = || {
            call.err(format!(
                "hashlimit: Bad value for \"--{}\" option: \"{arg}\"",
                call.key
            ))
        };
        let u32opt = || {
            uint(arg, 0, u64::from(u32::MAX))
                .map(|v| v as u32)
                .ok_or_else(|| {
                    call.err(format!(
                        "hashlimit: bad value for option \"--{}\", or out of range (0-4294967295).",
                        call.name
                    ))
                })
        };
        match call.key {
            "hashlimit-upto" | "hashlimit-above" => {
                // `! --hashlimit-upto` is `--hashlimit-above` and vice versa.
                if (call.key == "hashlimit-above") != call.invert {
                    self.mode |= INVERT;
                }
                if let Some((cost, _)) = parse_bytes(arg).map_err(|e| e.at(call.arg_span()))? {
                    self.avg = cost;
                    self.mode |= BYTES;
                    self.mult = BYTE_EXPIRE;
                } else {
                    let (avg, mult) = parse_rate(arg)
                        .map_err(|e| e.at(call.arg_span()))?
                        .ok_or_else(bad)?;
                    (self.avg, self.mult) = (avg, mult);
                }
            }
            "hashlimit-burst" => {
                self.burst = parse_burst(arg).map_err(|e| e.at(call.arg_span()))?
            }
            "hashlimit-mode" => self.mode |= parse_mode(arg).ok_or_else(bad)?,
            "hashlimit-srcmask" => {
                self.srcmask = plen(arg, call.key).map_err(|e| e.at(call.arg_span()))?
            }
            "hashlimit-dstmask" => {
                self.dstmask = plen(arg, call.key).map_err(|e| e.at(call.arg_span()))?
            }
            "hashlimit-htable-size" => self.size = u32opt()?,
            "hashlimit-htable-max" => self.max = u32opt()?,
            "hashlimit-htable-gcinterval" => self.gc_interval = u32opt()?,
            "hashlimit-htable-expire" => self.expire = u32opt()?,
            "hashlimit-name" => {
                if arg.is_empty() {
                    return Err(call.err("Argument must have a minimum length of 1 characters"));
                }
                // XTOPT_PUT into name[NAME_MAX]: cut to 254 bytes.
                let mut end = arg.len().min(254);
                while !arg.is_char_boundary(end) {
                    end -= 1;
                }
                self.name = arg.get(..end).unwrap_or(arg).to_string();
            }
            "hashlimit-rate-match" => self.mode |= RATE_MATCH,
            "hashlimit-rate-interval" => {
                let r = atoi(arg);
                if r <= 0 {
                    return Err(bad());
                }
                self.interval = r as u32;
            }
            _ => unreachable_option(call)?,
        }
        self.given.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let has = |k: &str| self.given.contains(&k);
        if !has("hashlimit-upto") && !has("hashlimit-above") {
            return Err(ExtError::new("You have to specify --hashlimit"));
        }
        if !has("hashlimit-htable-expire") {
            self.expire = self.mult.saturating_mul(1000);
        }
        if self.mode & BYTES != 0 {
            let mut burst = 0;
            if has("hashlimit-burst") {
                let unit = cost_to_bytes(self.avg);
                if self.burst < unit {
                    return Err(ExtError::new(format!(
                        "burst cannot be smaller than {unit}b"
                    )));
                }
                burst = self.burst / unit.max(1) + u64::from(self.burst % unit.max(1) != 0);
                // iptables keeps this in a uint32_t.
                burst = u64::from(burst as u32);
                if !has("hashlimit-htable-expire") {
                    self.expire = BYTE_EXPIRE_BURST * 1000;
                }
            }
            self.burst = burst;
        } else if self.burst > BURST_MAX {
            return Err(burst_error());
        }
        if has("hashlimit-rate-match") {
            if self.mode & BYTES == 0 {
                self.avg /= u64::from(self.mult.max(1));
            }
            if self.interval == 0 {
                self.interval = if self.mode & BYTES != 0 { 1 } else { self.mult };
            }
        }
        if !has("hashlimit-name") {
            return Err(ExtError::new(
                "hashlimit: option \"--hashlimit-name\" must be specified",
            ));
        }
        // hashlimit_mt_check_common truncates oversized tables (the saved
        // rule shows the kernel's value).
        self.size = self.size.min(MAX_SIZE);
        self.max = self.max.min(MAX_SIZE);
        if has("hashlimit-upto") && has("hashlimit-above") {
            return Err(ExtError::new("hashlimit: option \"--hashlimit-upto\" cannot be used together with \"--hashlimit-above\"."));
        }
        Ok(())
    }

    /// `hashlimit_mt_check_common`.
    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        let refuse = |why: String| {
            Err(ExtError::new(format!(
                "the kernel refuses this hashlimit match: {why}"
            )))
        };
        if self.gc_interval == 0 || self.expire == 0 {
            return refuse(
                "--hashlimit-htable-gcinterval and --hashlimit-htable-expire must not be 0".into(),
            );
        }
        if let Err(why) = check_proc_name(&self.name) {
            return refuse(why);
        }
        if self.srcmask > 32 || self.dstmask > 32 {
            return refuse("masks must be at most 32".into());
        }
        if self.mode & BYTES != 0 {
            if self.avg == 0 || self.avg > u64::from(u32::MAX) {
                return refuse("invalid byte rate".into());
            }
        } else {
            let credits = |u: u64| u.wrapping_mul(CREDIT_FACTOR);
            if self.burst == 0 || credits(self.avg.wrapping_mul(self.burst)) < credits(self.avg) {
                return refuse(format!("overflow, try lower: {}/{}", self.avg, self.burst));
            }
        }
        Ok(())
    }

    /// `hashlimit_mt_print` (revision 3): save's words without the
    /// `--hashlimit-` prefix, `-` between the modes, no name, and the rate of
    /// `avg * interval`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        self.dump(out, "");
    }

    /// `hashlimit_mt_save` (revision 3).
    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        self.dump(out, "--hashlimit-");
    }

    /// `hashlimit_mt`: the bucket of the packet's flow in the table named
    /// `--hashlimit-name` (see `hashlimit_state`); `--hashlimit-above`
    /// inverts. A packet whose ports are needed but missing, or a full
    /// table, is hotdropped.
    fn eval_state(&self, facts: &Facts, st: &mut State) -> MatchResult {
        let now = jiffies(facts.now_ns);
        let table = st
            .named::<hashlimit_state::Table>(Self::NAME, &self.name)
            .get_or_insert_with(|| hashlimit_state::Table::new(self, now));
        match table.judge(self, facts, now) {
            Some(under) => MatchResult::from_bool(under != (self.mode & INVERT != 0)),
            None => MatchResult::Hotdrop,
        }
    }
}

/// `xt_check_proc_name`: the name becomes a /proc file, so `.`, `..` and
/// names with `/` are refused.
pub fn check_proc_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(format!("`{name}' cannot be a /proc file name"));
    }
    Ok(())
}

fn burst_error() -> ExtError {
    ExtError::new(format!(
        "bad value for option \"--hashlimit-burst\", or out of range (1-{BURST_MAX})."
    ))
}

fn factor(c: Option<char>) -> u64 {
    match c {
        Some('m') => 1024 * 1024,
        Some('k') => 1024,
        _ => 1,
    }
}

/// `parse_burst(.., 2)`: a number ≥ 1, optionally followed by `k`/`m`
/// (anything else after the digits counts as ×1).
fn parse_burst(s: &str) -> ExtResult<u64> {
    let (v, rest) = strtoumax_prefix(s)
        .filter(|(v, _)| *v >= 1)
        .ok_or_else(burst_error)?;
    if rest.is_empty() && v > BURST_MAX {
        return Err(burst_error());
    }
    Ok(v.wrapping_mul(factor(rest.chars().next())))
}

fn cost_to_bytes(cost: u64) -> u64 {
    let r = u64::from(u32::MAX)
        .checked_div(cost)
        .unwrap_or(u64::from(u32::MAX));
    r.wrapping_sub(1) << BYTE_SHIFT
}

fn bytes_to_cost(bytes: u64) -> u64 {
    let r = (bytes >> BYTE_SHIFT) as u32;
    u64::from(u32::MAX) / (u64::from(r) + 1)
}

/// `parse_bytes`: `N[k|m]b/s`; `Ok(None)` when the text is not a byte rate.
fn parse_bytes(s: &str) -> ExtResult<Option<(u64, ())>> {
    let Some(pos) = s.find("b/s").filter(|p| *p > 0) else {
        return Ok(None);
    };
    let r = atoll(s) as u64;
    if r == 0 {
        return Ok(None);
    }
    let unit = s.get(..pos).and_then(|h| h.chars().last());
    let bytes = r.wrapping_mul(factor(unit));
    let cost = bytes_to_cost(bytes);
    if cost == 0 {
        return Err(ExtError::new(format!("Rate too high \"{s}\"")));
    }
    Ok(Some((cost, ())))
}

/// `parse_rate(.., 2)`: as `-m limit`'s, in µs; returns (avg, unit seconds).
fn parse_rate(s: &str) -> ExtResult<Option<(u64, u32)>> {
    let Some(mult) = rate_unit_seconds(s) else {
        return Ok(None);
    };
    let r = atoll(s) as u64;
    if r == 0 {
        return Ok(None);
    }
    let v = SCALE * u64::from(mult) / r;
    if v == 0 {
        return Err(ExtError::new(format!("Rate too fast \"{s}\"")));
    }
    Ok(Some((v, mult)))
}

/// `parse_mode`: `,` or `|` separated, exact lower-case names.
fn parse_mode(s: &str) -> Option<u32> {
    let mut mode = 0;
    for tok in s.split([',', '|']).filter(|t| !t.is_empty()) {
        mode |= match tok {
            "dstip" => HASH_DIP,
            "srcip" => HASH_SIP,
            "srcport" => HASH_SPT,
            "dstport" => HASH_DPT,
            _ => return None,
        };
    }
    Some(mode)
}

/// XTTYPE_PLEN: 0-32 (base 0), or a dotted mask (a non-contiguous one gives
/// 255, which the kernel then refuses).
fn plen(s: &str, opt: &str) -> ExtResult<u8> {
    if let Some(v) = uint(s, 0, 32) {
        return Ok(v as u8);
    }
    let m = inet_aton(s).ok_or_else(|| {
        ExtError::new(format!(
            "hashlimit: bad value for option \"--{opt}\", neither a valid network mask nor valid CIDR (0-32)."
        ))
    })?;
    let ones = m.leading_ones();
    Ok(if m.checked_shl(ones).unwrap_or(0) == 0 {
        ones as u8
    } else {
        255
    })
}

impl Hashlimit {
    /// Save (`pfx` = `--hashlimit-`) and print (`pfx` = ``) write the same
    /// fields in the same order; the head, the mode separator, the name and
    /// the rate's period differ.
    fn dump(&self, out: &mut String, pfx: &str) {
        let listing = pfx.is_empty();
        let head = match (listing, self.mode & INVERT != 0) {
            (true, true) => " limit: above",
            (true, false) => " limit: up to",
            (false, true) => " --hashlimit-above",
            (false, false) => " --hashlimit-upto",
        };
        out.push_str(head);
        let quantum = if self.mode & BYTES != 0 {
            save_bytes(out, self.avg, self.burst, pfx)
        } else {
            let period = if listing && self.interval != 0 {
                self.avg.wrapping_mul(u64::from(self.interval))
            } else {
                self.avg
            };
            let q = save_rate(out, period);
            let _ = write!(out, " {pfx}burst {}", self.burst);
            q
        };
        if self.mode & (HASH_SIP | HASH_SPT | HASH_DIP | HASH_DPT) != 0 {
            let _ = write!(out, " {pfx}mode ");
            let names = [
                (HASH_SIP, "srcip"),
                (HASH_SPT, "srcport"),
                (HASH_DIP, "dstip"),
                (HASH_DPT, "dstport"),
            ];
            let set: Vec<&str> = names
                .iter()
                .filter(|(b, _)| self.mode & b != 0)
                .map(|(_, n)| *n)
                .collect();
            out.push_str(&set.join(if listing { "-" } else { "," }));
        }
        if !listing {
            let _ = write!(out, " --hashlimit-name {}", self.name);
        }
        self.dump_tail(out, pfx, quantum);
    }

    fn dump_tail(&self, out: &mut String, pfx: &str, quantum: u32) {
        if self.size != 0 {
            let _ = write!(out, " {pfx}htable-size {}", self.size);
        }
        if self.max != 0 {
            let _ = write!(out, " {pfx}htable-max {}", self.max);
        }
        if self.gc_interval != GC_INTERVAL {
            let _ = write!(out, " {pfx}htable-gcinterval {}", self.gc_interval);
        }
        if self.expire != quantum {
            let _ = write!(out, " {pfx}htable-expire {}", self.expire);
        }
        if self.srcmask != 32 {
            let _ = write!(out, " {pfx}srcmask {}", self.srcmask);
        }
        if self.dstmask != 32 {
            let _ = write!(out, " {pfx}dstmask {}", self.dstmask);
        }
        if self.mode & RATE_MATCH != 0 {
            let _ = write!(out, " {pfx}rate-match");
            if self.interval != 1 {
                let _ = write!(out, " {pfx}rate-interval {}", self.interval);
            }
        }
    }
}

/// `print_rate(period, 3)`; returns the unit in ms.
fn save_rate(out: &mut String, period: u64) -> u32 {
    const RATES: &[(&str, u64)] = &[
        ("day", SCALE * 86400),
        ("hour", SCALE * 3600),
        ("min", SCALE * 60),
        ("sec", SCALE),
    ];
    if period == 0 {
        out.push_str(" inf");
        return 0;
    }
    let mut i = 1;
    while let Some((_, mult)) = RATES.get(i) {
        if period > *mult || mult / period < mult % period {
            break;
        }
        i += 1;
    }
    let (name, mult) = RATES.get(i - 1).copied().unwrap_or(("sec", SCALE));
    let _ = write!(out, " {}/{name}", mult / period);
    (mult / SCALE * 1000) as u32
}

/// `print_bytes(avg, burst, pfx)`; returns the expire default.
fn save_bytes(out: &mut String, avg: u64, burst: u64, pfx: &str) -> u32 {
    const UNITS: &[(&str, u64)] = &[("m", 1024 * 1024), ("k", 1024), ("", 1)];
    let r = cost_to_bytes(avg);
    let (name, thresh) = UNITS
        .iter()
        .take(2)
        .find(|(_, t)| r >= *t && bytes_to_cost(r & !(t - 1)) == avg)
        .copied()
        .unwrap_or(("", 1));
    let _ = write!(out, " {}{name}b/s", r / thresh);
    if burst == 0 {
        return BYTE_EXPIRE * 1000;
    }
    let r = r.wrapping_mul(burst);
    let (name, thresh) = UNITS
        .iter()
        .take(2)
        .find(|(_, t)| r >= *t)
        .copied()
        .unwrap_or(("", 1));
    let _ = write!(out, " {pfx}burst {}{name}b", r / thresh);
    BYTE_EXPIRE_BURST * 1000
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn printed_defaults() {
        let rt = |r| roundtrip("filter", "INPUT", r);
        assert_eq!(
            rt("-m hashlimit --hashlimit-upto 1/sec --hashlimit-name a").unwrap(),
            "-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-name a"
        );
        assert_eq!(
            rt("-m hashlimit --hashlimit-upto 60/min --hashlimit-name a").unwrap(),
            "-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-name a --hashlimit-htable-expire 60000"
        );
        assert_eq!(
            rt("-m hashlimit ! --hashlimit-upto 4kb/s --hashlimit-burst 400kb --hashlimit-name a")
                .unwrap(),
            "-m hashlimit --hashlimit-above 4kb/s --hashlimit-burst 400kb --hashlimit-name a"
        );
        assert_eq!(
            rt("-m hashlimit --hashlimit-upto 1/s --hashlimit-name a --hashlimit-htable-size 2000000").unwrap(),
            "-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-name a --hashlimit-htable-size 1048576"
        );
    }

    #[test]
    fn kernel_overflow_and_user_errors() {
        let rt = |r| roundtrip("filter", "INPUT", r);
        assert!(rt("-m hashlimit --hashlimit-upto 1/day --hashlimit-name a").is_err());
        assert!(
            rt("-m hashlimit --hashlimit-upto 1/day --hashlimit-burst 1 --hashlimit-name a")
                .is_ok()
        );
        assert!(rt("-m hashlimit --hashlimit-upto 1/sec").is_err());
        assert!(rt("-m hashlimit --hashlimit-name a").is_err());
        assert!(
            rt("-m hashlimit --hashlimit-upto 1/s --hashlimit-name a --hashlimit-mode foo")
                .is_err()
        );
    }
}
