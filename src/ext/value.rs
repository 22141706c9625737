//! Value grammars shared by extensions: numbers as `strtoul` reads them, ports,
//! port ranges, value/mask pairs, comma lists.
//!
//! Each parser follows the libxtables function named in its doc, including its
//! quirks (base-0 numbers accept `0x` hex and leading-zero octal).

use super::netdb;
use super::spec::{ExtError, ExtResult, OptCall};

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

/// `xtables_parse_protocol` as extensions call it (`XTTYPE_PROTOCOL`):
/// a number 0-255, `all`, a name or alias from /etc/protocols, or one of
/// iptables' built-in names, all case-sensitive (only `-p` lowercases).
pub fn xt_protocol(s: &str) -> ExtResult<u8> {
    if let Some(n) = number(s, 0, 255) {
        return Ok(n as u8);
    }
    const BUILTIN: &[(&str, u8)] = &[
        ("tcp", 6),
        ("sctp", 132),
        ("udp", 17),
        ("udplite", 136),
        ("icmp", 1),
        ("icmpv6", 58),
        ("esp", 50),
        ("ah", 51),
        ("mh", 135),
    ];
    if s == "all" {
        return Ok(0);
    }
    netdb::protocol_number(s)
        .or_else(|| BUILTIN.iter().find(|(n, _)| *n == s).map(|(_, p)| *p))
        .ok_or_else(|| ExtError::new(format!("unknown protocol \"{s}\" specified")))
}

/// `xtopt_parse_int` (libxtables/xtoptions.c): an `XTTYPE_UINT*` option's
/// number, base 0, within `min..=max`, with its error message.
pub fn xt_uint(call: &OptCall, ext: &str, min: u64, max: u64) -> ExtResult<u64> {
    number(call.arg(), min, max).ok_or_else(|| {
        call.err(format!(
            "{ext}: bad value for option \"--{}\", or out of range ({min}-{max}).",
            call.key
        ))
    })
}

/// `xtopt_parse_mint` for the `XTTYPE_UINT*RC` range types: `a`, `a:b`, `a:`,
/// `:b`; an empty first part is 0, an empty second part is `max`. Returns the
/// bounds and whether a second part was given (`cb->nvals == 2`).
pub fn xt_range(call: &OptCall, ext: &str, max: u64) -> ExtResult<(u64, u64, bool)> {
    let s = call.arg();
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 2 {
        return Err(call.err(format!(
            "{ext}: Too many components for option \"--{}\" (max: 2)",
            call.key
        )));
    }
    let one = |p: &str, dflt: u64| -> ExtResult<u64> {
        if p.is_empty() {
            return Ok(dflt);
        }
        strtoul(p, 0, max).ok_or_else(|| {
            call.err(format!(
                "{ext}: bad value for option \"--{}\" near \"{p}\", or out of range (0-{max}).",
                call.key
            ))
        })
    };
    let lo = one(parts.first().copied().unwrap_or(""), 0)?;
    match parts.get(1) {
        Some(hi) => Ok((lo, one(hi, max)?, true)),
        None => Ok((lo, lo, false)),
    }
}

/// `xtables_options_fcheck`'s message for a missing `XTOPT_MAND` option.
pub fn xt_mandatory(ext: &str, option: &str) -> ExtError {
    ExtError::new(format!("{ext}: option \"--{option}\" must be specified"))
}

/// `xtables_options_fcheck`'s message for two options in each other's `.excl`.
pub fn xt_exclusive(ext: &str, a: &str, b: &str) -> ExtError {
    ExtError::new(format!(
        "{ext}: option \"--{a}\" cannot be used together with \"--{b}\"."
    ))
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
    // xtables_strtoul refuses a leading '-' outright (even "-0").
    if t.starts_with('-') {
        return None;
    }
    let body = t.strip_prefix('+').unwrap_or(t);
    let neg = false;
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
    fn extension_protocols_are_case_sensitive() {
        assert_eq!(xt_protocol("TCP"), Ok(6)); // an /etc/protocols alias
        assert_eq!(xt_protocol("ipcomp"), Ok(108));
        assert!(xt_protocol("AH").is_err());
        assert_eq!(xt_protocol("0x32"), Ok(50));
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
