//! `-m time` (libxt_time.c, xt_time.c): date range, time of day, week days
//! and month days of the packet's arrival (UTC, or the kernel's timezone
//! with `--kerneltz`).
//!
//! Kept in the kernel's `struct xt_time_info` form: dates as u32 seconds
//! since the epoch (default 0 and INT_MAX), daytimes as seconds of the day,
//! day masks with bit N for day N. iptables 1.8.9 compares the default stop
//! date with LONG_MAX, so it always saves `--datestop 2038-01-19T03:14:07`.

use super::tcp::unreachable_option;
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{strtoul_prefix, xt_exclusive};
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

pub const ALL_MONTHDAYS: u32 = 0xFFFF_FFFE;
pub const ALL_WEEKDAYS: u8 = 0xFE;
pub const MAX_DAYTIME: u32 = 24 * 60 * 60 - 1;
const WEEK_DAYS: [&str; 8] = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Time {
    pub date_start: u32,
    pub date_stop: u32,
    pub daytime_start: u32,
    pub daytime_stop: u32,
    pub monthdays: u32,
    pub weekdays: u8,
    /// XT_TIME_LOCAL_TZ.
    pub kerneltz: bool,
    /// XT_TIME_CONTIGUOUS.
    pub contiguous: bool,
    given: Vec<&'static str>,
}

impl Default for Time {
    fn default() -> Time {
        Time {
            date_start: 0,
            date_stop: i32::MAX as u32,
            daytime_start: 0,
            daytime_stop: MAX_DAYTIME,
            monthdays: ALL_MONTHDAYS,
            weekdays: ALL_WEEKDAYS,
            kerneltz: false,
            contiguous: false,
            given: Vec::new(),
        }
    }
}

impl MatchDef for Time {
    const NAME: &'static str = "time";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("datestart"),
        OptSpec::req("datestop"),
        OptSpec::req("timestart"),
        OptSpec::req("timestop"),
        OptSpec::flag("contiguous"),
        OptSpec::req("weekdays").inv(),
        OptSpec::req("monthdays").inv(),
        OptSpec::flag("localtz"),
        OptSpec::flag("utc"),
        OptSpec::flag("kerneltz"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let at = |e: ExtError| e.at(call.arg_span());
        match call.key {
            "datestart" => self.date_start = parse_date(call.arg()).map_err(at)?,
            "datestop" => self.date_stop = parse_date(call.arg()).map_err(at)?,
            "timestart" => self.daytime_start = parse_daytime(call.arg()).map_err(at)?,
            "timestop" => self.daytime_stop = parse_daytime(call.arg()).map_err(at)?,
            "contiguous" => self.contiguous = true,
            "localtz" | "kerneltz" => self.kerneltz = true,
            "utc" => {}
            "monthdays" => {
                self.monthdays = parse_monthdays(call.arg()).map_err(at)?;
                if call.invert {
                    self.monthdays ^= ALL_MONTHDAYS;
                }
            }
            "weekdays" => {
                self.weekdays = parse_weekdays(call.arg()).map_err(at)?;
                if call.invert {
                    self.weekdays ^= ALL_WEEKDAYS;
                }
            }
            _ => return unreachable_option(call),
        }
        self.given.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let has = |k: &str| self.given.contains(&k);
        for (a, b) in [("localtz", "utc"), ("utc", "kerneltz")] {
            if has(a) && has(b) {
                return Err(xt_exclusive("time", a, b));
            }
        }
        if self.contiguous && self.daytime_start < self.daytime_stop {
            return Err(ExtError::new(
                "time: --contiguous only makes sense when stoptime is smaller than starttime",
            ));
        }
        Ok(())
    }

    /// `time_mt` for UTC rules; `--kerneltz` depends on the live system's
    /// timezone and is not judged.
    fn eval(&self, f: &Facts) -> MatchResult {
        if self.kerneltz {
            return MatchResult::Unknown(Self::NAME);
        }
        let mut stamp = (f.now_ns / 1_000_000_000) as i64;
        if stamp < i64::from(self.date_start) || stamp > i64::from(self.date_stop) {
            return MatchResult::No;
        }
        let secs = stamp.rem_euclid(86_400) as u32;
        if self.daytime_start < self.daytime_stop {
            if secs < self.daytime_start || secs > self.daytime_stop {
                return MatchResult::No;
            }
        } else {
            if secs < self.daytime_start && secs > self.daytime_stop {
                return MatchResult::No;
            }
            if self.contiguous && secs <= self.daytime_stop {
                stamp -= 86_400;
            }
        }
        let days = stamp.div_euclid(86_400);
        // 1970-01-01 was a Thursday (ISO weekday 4).
        let weekday = (days + 3).rem_euclid(7) + 1;
        if self.weekdays & (1u8 << weekday) == 0 {
            return MatchResult::No;
        }
        let (_, _, mday) = civil_from_days(days);
        MatchResult::from_bool(self.monthdays & (1u32 << mday) != 0)
    }

    /// `time_print`: ordinal month days, dates with a space, ` UTC` unless
    /// `--kerneltz`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" TIME");
        if self.daytime_start != 0 || self.daytime_stop != MAX_DAYTIME {
            out.push_str(" from ");
            fmt_daytime(out, self.daytime_start);
            out.push_str(" to ");
            fmt_daytime(out, self.daytime_stop);
        }
        if self.weekdays != ALL_WEEKDAYS {
            let days: Vec<&str> = (1..=7)
                .filter(|d| self.weekdays & (1u8 << d) != 0)
                .filter_map(|d| WEEK_DAYS.get(d).copied())
                .collect();
            let _ = write!(out, " on {}", days.join(","));
        }
        if self.monthdays != ALL_MONTHDAYS {
            let days: Vec<String> = (1..=31u32)
                .filter(|d| self.monthdays & (1u32 << d) != 0)
                .map(|d| {
                    let suffix = ["th", "st", "nd", "rd"]
                        .get(d as usize % 10)
                        .unwrap_or(&"th");
                    format!("{d}{suffix}")
                })
                .collect();
            let _ = write!(out, " on {}", days.join(","));
        }
        if self.date_start != 0 {
            out.push_str(" starting from ");
            fmt_date_sep(out, self.date_start, ' ');
        }
        if self.date_stop != i32::MAX as u32 {
            out.push_str(" until date");
            if self.date_stop != 0 {
                out.push(' ');
                fmt_date_sep(out, self.date_stop, ' ');
            }
        }
        if !self.kerneltz {
            out.push_str(" UTC");
        }
        if self.contiguous {
            out.push_str(" contiguous");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.daytime_start != 0 || self.daytime_stop != MAX_DAYTIME {
            out.push_str(" --timestart ");
            fmt_daytime(out, self.daytime_start);
            out.push_str(" --timestop ");
            fmt_daytime(out, self.daytime_stop);
        }
        if self.monthdays != ALL_MONTHDAYS {
            let days: Vec<String> = (1..=31)
                .filter(|d| self.monthdays & (1u32 << d) != 0)
                .map(|d| d.to_string())
                .collect();
            let _ = write!(out, " --monthdays {}", days.join(","));
        }
        if self.weekdays != ALL_WEEKDAYS {
            let days: Vec<&str> = (1..=7)
                .filter(|d| self.weekdays & (1u8 << d) != 0)
                .filter_map(|d| WEEK_DAYS.get(d).copied())
                .collect();
            let _ = write!(out, " --weekdays {}", days.join(","));
        }
        for (date, name) in [(self.date_start, "datestart"), (self.date_stop, "datestop")] {
            if date != 0 {
                let _ = write!(out, " --{name} ");
                fmt_date(out, date);
            }
        }
        if self.kerneltz {
            out.push_str(" --kerneltz");
        }
        if self.contiguous {
            out.push_str(" --contiguous");
        }
    }
}

/// `strtoul(s, &e, 10)` as an unsigned int: the value (0 when no digits)
/// and the rest.
fn strtou10(s: &str) -> (u32, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if n == 0 {
        return (0, s);
    }
    let v = t[..n].parse::<u64>().unwrap_or(u64::MAX);
    let v = if neg { v.wrapping_neg() } else { v };
    (v as u32, &t[n..])
}

/// `time_parse_date`: `YYYY[-MM[-DD[Thh[:mm[:ss]]]]]`, years 1970-2038,
/// normalised as mktime does (February 30 is March 2).
pub fn parse_date(s: &str) -> ExtResult<u32> {
    let bad = || {
        ExtError::new(format!(
            "Invalid date \"{s}\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]"
        ))
    };
    // (separator allowed after the field, upper bound)
    let fields: [(u8, u32); 6] = [
        (b'-', 2038),
        (b'-', 12),
        (b'T', 31),
        (b':', 23),
        (b':', 59),
        (0, 59),
    ];
    let mut vals = [1970u32, 1, 1, 0, 0, 0];
    let mut rest = s;
    for (i, (sep, max)) in fields.iter().enumerate() {
        let (v, r) = strtou10(rest);
        let end = r.as_bytes().first().copied();
        if (end.is_some() && end != Some(*sep)) || v > *max || (i == 0 && v < 1970) {
            return Err(bad());
        }
        if let Some(slot) = vals.get_mut(i) {
            *slot = v;
        }
        match r.get(1..) {
            Some(next) if end.is_some() => rest = next,
            _ => break,
        }
    }
    let [y, mo, d, h, mi, se] = vals.map(i64::from);
    let months = y * 12 + mo - 1;
    let days = days_from_civil(months.div_euclid(12), months.rem_euclid(12) + 1, 1) + d - 1;
    let t = days * 86_400 + h * 3600 + mi * 60 + se;
    if t < 0 {
        return Err(ExtError::new("mktime returned an error"));
    }
    u32::try_from(t).map_err(|_| bad())
}

/// `time_parse_minutes`: `hh:mm[:ss]` within 00:00:00-23:59:59.
pub fn parse_daytime(s: &str) -> ExtResult<u32> {
    let bad = |at: &str| {
        ExtError::new(format!(
            "invalid time \"{at}\" specified, should be hh:mm[:ss] format and within the boundaries"
        ))
    };
    let (h, r) = strtou10(s);
    let Some(r) = r.strip_prefix(':').filter(|_| h <= 23) else {
        return Err(bad(s));
    };
    let (m, r2) = strtou10(r);
    if m > 59 || !(r2.is_empty() || r2.starts_with(':')) {
        return Err(bad(r));
    }
    let sec = match r2.strip_prefix(':') {
        None => 0,
        Some(x) => {
            let (v, r3) = strtou10(x);
            if !r3.is_empty() || v > 59 {
                return Err(bad(x));
            }
            v
        }
    };
    Ok(h * 3600 + m * 60 + sec)
}

/// `my_strseg`: comma-separated segments, each cut to `keep` bytes; stops
/// at the end or at an empty remainder.
fn segments(s: &str, keep: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = Some(s);
    while let Some(r) = rest.filter(|r| !r.is_empty()) {
        let (seg, next) = match r.split_once(',') {
            Some((a, b)) => (a, Some(b)),
            None => (r, None),
        };
        out.push(super::helper::truncate(seg, keep));
        rest = next;
    }
    out
}

/// `time_parse_monthdays`: numbers 0-31 (base 0), two characters each.
pub fn parse_monthdays(s: &str) -> ExtResult<u32> {
    let mut mask = 0u32;
    for day in segments(s, 2) {
        let (i, rest) = if day.is_empty() {
            (0, "")
        } else {
            strtoul_prefix(day, u64::MAX).unwrap_or((0, day))
        };
        if !rest.is_empty() || i > 31 {
            return Err(ExtError::new(format!(
                "{day} is not a valid day for --monthdays"
            )));
        }
        mask |= 1 << i;
    }
    Ok(mask)
}

/// `time_parse_weekdays`: numbers (1 = Monday) or names compared on their
/// first two letters, three characters each; bits above 7 are lost in the
/// u8 as in the kernel struct.
pub fn parse_weekdays(s: &str) -> ExtResult<u8> {
    let mut mask = 0u32;
    for day in segments(s, 3) {
        match strtoul_prefix(day, u64::MAX) {
            Some((i, "")) => {
                if i == 0 {
                    return Err(ExtError::new("No, the week does NOT begin with Sunday."));
                }
                mask |= 1u32.wrapping_shl(i as u32);
            }
            _ => {
                let hits: Vec<usize> = (1..8)
                    .filter(|i| {
                        WEEK_DAYS
                            .get(*i)
                            .is_some_and(|w| day.get(..2).is_some_and(|d| w.starts_with(d)))
                    })
                    .collect();
                if hits.is_empty() {
                    return Err(ExtError::new(format!("{day} is not a valid day specifier")));
                }
                hits.iter().for_each(|i| mask |= 1 << i);
            }
        }
    }
    Ok(mask as u8)
}

fn fmt_daytime(out: &mut String, t: u32) {
    let _ = write!(out, "{:02}:{:02}:{:02}", t / 3600, t % 3600 / 60, t % 60);
}

fn fmt_date(out: &mut String, t: u32) {
    fmt_date_sep(out, t, 'T');
}

/// `time_print_date`: ISO 8601 with `T` on save, a space when listing.
fn fmt_date_sep(out: &mut String, t: u32, sep: char) {
    let t = i64::from(t);
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}{sep}{:02}:{:02}:{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    );
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;
    use super::*;

    #[test]
    fn dates_normalise_like_mktime() {
        assert_eq!(
            parse_date("2001-02-30").unwrap(),
            parse_date("2001-03-02").unwrap()
        );
        assert_eq!(parse_date("1970-01-01T02:00:00").unwrap(), 7200);
        assert!(parse_date("1970-00-01").is_err());
        assert!(parse_date("2001-02-31T24").is_err());
        assert!(parse_date("1969").is_err());
    }

    #[test]
    fn save_form() {
        assert_eq!(
            roundtrip("-m time --timestart 01:00 --weekdays 8,Mo,Sux,2 --monthdays 1,,2,123").unwrap(),
            "-m time --timestart 01:00:00 --timestop 23:59:59 --monthdays 1,2,12 --weekdays Mon,Tue,Sun --datestop 2038-01-19T03:14:07"
        );
        assert_eq!(
            roundtrip("-m time ! --weekdays 1 --localtz").unwrap(),
            "-m time --weekdays Tue,Wed,Thu,Fri,Sat,Sun --datestop 2038-01-19T03:14:07 --kerneltz"
        );
        assert!(roundtrip("-m time --utc --kerneltz").is_err());
        assert!(roundtrip("-m time --weekdays 0").is_err());
        assert!(roundtrip("-m time --timestart 1:00 --timestop 2:00 --contiguous").is_err());
    }

    #[test]
    fn eval_utc_days_and_contiguous() {
        use super::super::testutil::{facts, first_match};
        use crate::ext::facts::{L4Facts, MatchResult};
        // 2024-03-01 (a Friday) 23:30:00 UTC.
        let t = 1_709_335_800u64 * 1_000_000_000;
        let f = facts(&[], 0, 64, L4Facts::None, t);
        let m = |r: &str| first_match(r).eval(&f);
        assert_eq!(m("-m time --weekdays Fr --monthdays 1"), MatchResult::Yes);
        assert_eq!(m("-m time --weekdays Sa"), MatchResult::No);
        assert_eq!(
            m("-m time --timestart 23:00 --timestop 01:00"),
            MatchResult::Yes
        );
        // With --contiguous the late-evening part still counts as Friday.
        assert_eq!(
            m("-m time --timestart 23:00 --timestop 01:00 --weekdays Fr --contiguous"),
            MatchResult::Yes
        );
        assert_eq!(m("-m time --datestop 2024-03-01T23:00:00"), MatchResult::No);
        assert_eq!(m("-m time --kerneltz"), MatchResult::Unknown("time"));
    }
}
