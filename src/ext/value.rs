//! Value grammars shared by extensions: numbers as `strtoul` reads them, ports,
//! port ranges, value/mask pairs, comma lists.
//!
//! Each parser follows the libxtables function named in its doc, including its
//! quirks (base-0 numbers accept `0x` hex and leading-zero octal).

use super::netdb;
use super::spec::{ExtError, ExtResult};

/// `strtoul(s, &end, base)` with iptables' `xtables_strtoul_base` checks: the
/// whole string must be consumed, leading blanks and a `+` are allowed, a `-`
/// wraps (and so fails any sane `max`). Base 0 detects `0x` and leading `0`.
pub fn strtoul(s: &str, base: u32, max: u64) -> Option<u64> {
    let t = s.trim_start_matches([' ', '\t', '\n']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = match base {
        0 if t.len() > 1 && (t.starts_with("0x") || t.starts_with("0X")) => (16, &t[2..]),
        0 if t.len() > 1 && t.starts_with('0') => (8, &t[1..]),
        0 => (10, t),
        16 => (
            16,
            t.strip_prefix("0x")
                .or_else(|| t.strip_prefix("0X"))
                .unwrap_or(t),
        ),
        b => (b, t),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    if neg && v != 0 {
        return None; // wraps to a huge value: out of any range iptables uses
    }
    (v <= max).then_some(v)
}

/// `xtables_strtoui(s, NULL, &v, min, max)` with base 0.
pub fn number(s: &str, min: u64, max: u64) -> Option<u64> {
    strtoul(s, 0, max).filter(|v| *v >= min)
}

/// `xtables_parse_port(port, proto)`: a number (base 0) or a service name.
pub fn port(s: &str, proto: &str) -> ExtResult<u16> {
    if let Some(v) = number(s, 0, u64::from(u16::MAX)) {
        return Ok(v as u16);
    }
    netdb::service_port(s, proto)
        .ok_or_else(|| ExtError::new(format!("invalid port/service `{s}' specified")))
}

/// `a`, `a:b`, `a:`, `:b`, `:` as libxt_tcp's `parse_tcp_ports` reads them.
pub fn port_range(s: &str, proto: &str) -> ExtResult<(u16, u16)> {
    match s.split_once(':') {
        None => {
            let p = port(s, proto)?;
            Ok((p, p))
        }
        Some((lo, hi)) => {
            let lo = if lo.is_empty() { 0 } else { port(lo, proto)? };
            let hi = if hi.is_empty() {
                u16::MAX
            } else {
                port(hi, proto)?
            };
            if lo > hi {
                return Err(ExtError::new("invalid portrange (min > max)"));
            }
            Ok((lo, hi))
        }
    }
}

/// Prints a port range as iptables' save functions do: `4` or `4:10`.
pub fn fmt_port_range(out: &mut String, (lo, hi): (u16, u16)) {
    use std::fmt::Write;
    if lo == hi {
        let _ = write!(out, "{lo}");
    } else {
        let _ = write!(out, "{lo}:{hi}");
    }
}

/// `value[/mask]` as `xtables_parse_mark_mask` reads it (mask defaults to all
/// ones).
pub fn mark_mask(s: &str) -> ExtResult<(u32, u32)> {
    let bad = || ExtError::new(format!("Bad MARK value \"{s}\""));
    let (v, m) = match s.split_once('/') {
        Some((v, m)) => (v, Some(m)),
        None => (s, None),
    };
    let value = strtoul(v, 0, u64::from(u32::MAX)).ok_or_else(bad)? as u32;
    let mask = match m {
        Some(m) => strtoul(m, 0, u64::from(u32::MAX)).ok_or_else(bad)? as u32,
        None => u32::MAX,
    };
    Ok((value, mask))
}

/// `xtables_strtoui(s, &end, ..)` with an end pointer: the longest number at
/// the start of `s` (base 0, as `strtoul` reads it) and the rest. `None` when
/// no digit was read or the value is above `max` (wrapped negatives are).
pub fn strtoul_prefix(s: &str, max: u64) -> Option<(u64, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n']);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let neg = t.starts_with('-');
    let hex = (body.starts_with("0x") || body.starts_with("0X"))
        && body.as_bytes().get(2).is_some_and(u8::is_ascii_hexdigit);
    let (radix, digits) = if hex {
        (16, body.get(2..).unwrap_or(""))
    } else if body.starts_with('0') {
        (8, body)
    } else {
        (10, body)
    };
    let len = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if len == 0 {
        return None;
    }
    let (num, rest) = digits.split_at(len);
    let v = u64::from_str_radix(num, radix).ok()?;
    if neg && v != 0 {
        return None;
    }
    (v <= max).then_some((v, rest))
}

/// An `XTTYPE_UINT*` option as libxtables' `xtopt_parse_int` reads it, with
/// its message: `EXT: bad value for option "--OPT", or out of range (MIN-MAX).`
pub fn uint_opt(s: &str, ext: &str, opt: &str, min: u64, max: u64) -> ExtResult<u64> {
    number(s, min, max).ok_or_else(|| {
        ExtError::new(format!(
            "{ext}: bad value for option \"--{opt}\", or out of range ({min}-{max})."
        ))
    })
}

/// An `XTTYPE_MARKMASK32` option (`xtopt_parse_markmask`): `VALUE[/MASK]`,
/// returning the mask only when one was written.
pub fn markmask_opt(s: &str, ext: &str, opt: &str) -> ExtResult<(u32, Option<u32>)> {
    let bad = || {
        ExtError::new(format!(
            "{ext}: bad integer value for option \"--{opt}\", or out of range."
        ))
    };
    let max = u64::from(u32::MAX);
    let (value, rest) = strtoul_prefix(s, max).ok_or_else(bad)?;
    let (mask, rest) = match rest.strip_prefix('/') {
        Some(m) => {
            let (mask, rest) = strtoul_prefix(m, max).ok_or_else(bad)?;
            (Some(mask as u32), rest)
        }
        None => (None, rest),
    };
    if !rest.is_empty() {
        return Err(ExtError::new(format!(
            "{ext}: trailing garbage after value for option \"--{opt}\"."
        )));
    }
    Ok((value as u32, mask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoul_like_c() {
        assert_eq!(strtoul("0x10", 0, 100), Some(16));
        assert_eq!(strtoul("010", 0, 100), Some(8));
        assert_eq!(strtoul("+7", 0, 100), Some(7));
        assert_eq!(strtoul("-1", 0, u64::MAX), None);
        assert_eq!(strtoul("", 0, 100), None);
        assert_eq!(strtoul("101", 0, 100), None);
        assert_eq!(strtoul("9x", 0, 100), None);
        assert_eq!(strtoul_prefix("10-20", 65535), Some((10, "-20")));
        assert_eq!(strtoul_prefix("0x1fz", 65535), Some((31, "z")));
        assert_eq!(strtoul_prefix("09", 65535), Some((0, "9")));
        assert_eq!(strtoul_prefix("x1", 65535), None);
        assert_eq!(strtoul_prefix("65536", 65535), None);
        assert_eq!(markmask_opt("1/0x3", "M", "m"), Ok((1, Some(3))));
        assert_eq!(markmask_opt("0xff", "M", "m"), Ok((255, None)));
        assert!(markmask_opt("1/", "M", "m").is_err());
        assert!(markmask_opt("1/2/3", "M", "m").is_err());
        assert!(markmask_opt("4294967296", "M", "m").is_err());
    }

    #[test]
    fn ports_and_ranges() {
        assert_eq!(port("ssh", "tcp"), Ok(22));
        assert_eq!(port_range("1024:", "tcp"), Ok((1024, 65535)));
        assert_eq!(port_range(":", "tcp"), Ok((0, 65535)));
        assert!(port_range("4:3", "tcp").is_err());
        assert!(port("65536", "tcp").is_err());
        assert!(port("-1", "tcp").is_err());
    }
}
