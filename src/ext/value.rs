//! Value grammars shared by extensions: numbers as `strtoul` reads them, ports,
//! port ranges, value/mask pairs, comma lists.
//!
//! Each parser follows the libxtables function named in its doc, including its
//! quirks (base-0 numbers accept `0x` hex and leading-zero octal).

use super::netdb;
use super::spec::{ExtError, ExtResult, OptCall};

/// `strtoul(s, &end, base)` with iptables' `xtables_strtoul_base` checks: the
/// whole string must be consumed, leading blanks and a `+` are allowed, a `-`
/// is refused outright (1.8.9 checks for it before calling strtoumax, so even
/// `-0` fails). Base 0 detects `0x` and leading `0`.
pub fn strtoul(s: &str, base: u32, max: u64) -> Option<u64> {
    // Plain decimal (no blanks, sign or base prefix; at most 19 digits, so no
    // overflow) is nearly every number of a rule file: read it directly.
    let b = s.as_bytes();
    if (base == 0 || base == 10)
        && (1..=19).contains(&b.len())
        && (b[0] != b'0' || b.len() == 1)
        && b.iter().all(u8::is_ascii_digit)
    {
        let v = b.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
        return (v <= max).then_some(v);
    }
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
    if neg {
        return None;
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

/// `strtoumax(s, &end, 0)` as `xtables_strtoul` uses it with an end pointer:
/// the number at the start of `s` and the rest. `None` when there is no
/// digit, a `-` sign, or the value overflows 64 bits (ERANGE).
pub fn strtoumax_prefix(s: &str) -> Option<(u64, &str)> {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if t.starts_with('-') {
        return None;
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let hex = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .filter(|r| r.starts_with(|c: char| c.is_ascii_hexdigit()));
    let (radix, body) = match hex {
        Some(r) => (16, r),
        None if t.starts_with('0') => (8, t),
        None => (10, t),
    };
    let len = body
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(body.len());
    if len == 0 {
        return None;
    }
    let (digits, rest) = body.split_at(len);
    let v = u64::from_str_radix(digits, radix).ok()?;
    Some((v, rest))
}

/// `xtables_strtoui(s, &end, ..)` with an end pointer and a maximum: the
/// longest number at the start of `s` (base 0) and the rest, `None` when no
/// digit was read, a `-` was written, or the value is above `max`.
pub fn strtoul_prefix(s: &str, max: u64) -> Option<(u64, &str)> {
    strtoumax_prefix(s).filter(|(v, _)| *v <= max)
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

/// `xtables_strtoui(s, &end, &v, min, max)`: a leading number in range and
/// the unparsed rest.
pub fn uint_prefix(s: &str, min: u64, max: u64) -> Option<(u64, &str)> {
    strtoumax_prefix(s).filter(|(v, _)| *v >= min && *v <= max)
}

/// `xtables_strtoui(s, NULL, ..)` as 1.8.9 has it: the whole string is one
/// base-0 number in `min..=max`; unlike [`number`], `-0` is refused.
pub fn uint(s: &str, min: u64, max: u64) -> Option<u64> {
    uint_prefix(s, min, max).and_then(|(v, rest)| rest.is_empty().then_some(v))
}

/// `xtopt_parse_mint` (XTTYPE_UINT*RC): up to `maxiter` `:`-separated
/// numbers ≤ `lmax`; an empty first field is 0 and an empty second `lmax`.
pub fn mint(s: &str, lmax: u64, maxiter: usize, ext: &str, opt: &str) -> ExtResult<Vec<u64>> {
    let mut vals = Vec::new();
    let mut arg = s;
    loop {
        if vals.len() == maxiter {
            return Err(ExtError::new(format!(
                "{ext}: Too many components for option \"--{opt}\" (max: {maxiter})"
            )));
        }
        let (value, rest) = if arg.is_empty() || arg.starts_with(':') {
            (if vals.len() == 1 { lmax } else { 0 }, arg)
        } else {
            let (v, rest) = uint_prefix(arg, 0, lmax).ok_or_else(|| {
                ExtError::new(format!(
                    "{ext}: bad value for option \"--{opt}\" near \"{arg}\", or out of range (0-{lmax})."
                ))
            })?;
            if !rest.is_empty() && !rest.starts_with(':') {
                return Err(ExtError::new(format!(
                    "{ext}: Argument to \"--{opt}\" has unexpected characters near \"{rest}\"."
                )));
            }
            (v, rest)
        };
        vals.push(value);
        match rest.strip_prefix(':') {
            Some(r) => arg = r,
            None => return Ok(vals),
        }
    }
}

/// A port as `getaddrinfo(NULL, name)` resolves it (`xtables_getportbyname`):
/// a decimal number ≤ 65535, else a service name (tcp's entry first).
pub fn getportbyname(s: &str) -> Option<u16> {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let t2 = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !t2.is_empty() && t2.bytes().all(|b| b.is_ascii_digit()) {
        // glibc: strtoul(.., 10); a value above 0xffff (also `-N`) is EAI_SERVICE.
        if t.starts_with('-') && t2.bytes().any(|b| b != b'0') {
            return None;
        }
        return t2
            .parse::<u64>()
            .ok()
            .filter(|v| *v <= 0xffff)
            .map(|v| v as u16);
    }
    netdb::service_port(s, "tcp").or_else(|| netdb::service_port(s, "udp"))
}

/// `xtopt_parse_mport` (XTTYPE_PORTRC): `a`, `a:b`, `a:`, `:b`, `:`; a
/// missing low end is 0 and a missing high end 65535; no order check.
pub fn mport(s: &str, ext: &str, opt: &str) -> ExtResult<(u16, u16)> {
    let mut range = [0u16, u16::MAX];
    let mut n = 0;
    for part in s.split(':') {
        if n == 2 {
            return Err(ExtError::new(format!(
                "{ext}: Too many components for option \"--{opt}\" (max: 2)"
            )));
        }
        if !part.is_empty() {
            range[n] = getportbyname(part).ok_or_else(|| {
                ExtError::new(format!("Port \"{part}\" does not resolve to anything."))
            })?;
        }
        n += 1;
    }
    if n == 1 {
        range[1] = range[0];
    }
    Ok((range[0], range[1]))
}

/// glibc `inet_aton` (what `getaddrinfo` does with a numeric host): 1 to 4
/// base-0 parts; the last part fills the remaining bytes (`10` is 0.0.0.10,
/// `1.2` is 1.0.0.2).
pub fn inet_aton(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut vals = Vec::with_capacity(4);
    for p in &parts {
        if p.starts_with(['+', '-', ' ']) {
            return None;
        }
        let (v, rest) = strtoumax_prefix(p)?;
        if !rest.is_empty() {
            return None;
        }
        vals.push(v);
    }
    let (last, head) = vals.split_last()?;
    let mut addr: u32 = 0;
    for (i, v) in head.iter().enumerate() {
        if *v > 255 {
            return None;
        }
        addr |= (*v as u32) << (24 - 8 * i);
    }
    let bits = 32 - 8 * head.len() as u32;
    if bits < 32 && *last >= 1u64 << bits || *last > u64::from(u32::MAX) {
        return None;
    }
    Some(addr | *last as u32)
}

/// Prints `addr` + `xtables_ipmask_to_numeric(mask)`: nothing for /32, `/N`
/// for a contiguous mask, `/a.b.c.d` otherwise.
pub fn fmt_addr_mask(out: &mut String, addr: u32, mask: u32) {
    use std::fmt::Write;
    let _ = write!(out, "{}", std::net::Ipv4Addr::from(addr));
    let ones = mask.leading_ones();
    if mask.checked_shl(ones).unwrap_or(0) != 0 {
        let _ = write!(out, "/{}", std::net::Ipv4Addr::from(mask));
    } else if ones != 32 {
        let _ = write!(out, "/{ones}");
    }
}

/// `xtables_parse_val_mask` without a name map (XTTYPE_MARKMASK32):
/// `value[/mask]`, base-0 numbers ≤ 0xffffffff; mask defaults to all ones.
pub fn val_mask(s: &str, ext: &str, opt: &str) -> ExtResult<(u32, u32)> {
    let bad = || {
        ExtError::new(format!(
            "{ext}: bad integer value for option \"--{opt}\", or out of range."
        ))
    };
    let garbage = || {
        ExtError::new(format!(
            "{ext}: trailing garbage after value for option \"--{opt}\"."
        ))
    };
    let max = u64::from(u32::MAX);
    let (v, rest) = uint_prefix(s, 0, max).ok_or_else(bad)?;
    if rest.is_empty() {
        return Ok((v as u32, u32::MAX));
    }
    let m = rest.strip_prefix('/').ok_or_else(garbage)?;
    let (m, rest) = uint_prefix(m, 0, max).ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(garbage());
    }
    Ok((v as u32, m as u32))
}

/// `xtables_print_val_mask` without a name map: ` 0xV` or ` 0xV/0xM`.
pub fn fmt_val_mask(out: &mut String, val: u32, mask: u32) {
    use std::fmt::Write;
    if mask == u32::MAX {
        let _ = write!(out, " 0x{val:x}");
    } else {
        let _ = write!(out, " 0x{val:x}/0x{mask:x}");
    }
}

/// C `atoll`: optional blanks and sign, then decimal digits; anything after
/// them is ignored (`3x` is 3, `x` is 0). Values past i64 saturate.
pub fn atoll(s: &str) -> i64 {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let len = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let digits = t.get(..len).unwrap_or("");
    let v = if digits.is_empty() {
        0
    } else {
        digits.parse::<i64>().unwrap_or(i64::MAX)
    };
    if neg {
        -v
    } else {
        v
    }
}

/// C `atoi`: [`atoll`] truncated to `int`.
pub fn atoi(s: &str) -> i32 {
    atoll(s) as i32
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
        assert_eq!(strtoul("-0", 0, u64::MAX), None);
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
        assert_eq!(strtoul("", 0, 100), None);
        assert_eq!(strtoul("101", 0, 100), None);
        assert_eq!(strtoul("9x", 0, 100), None);
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

    #[test]
    fn prefix_numbers_and_ranges() {
        assert_eq!(strtoumax_prefix("12:3"), Some((12, ":3")));
        assert_eq!(strtoumax_prefix("0x1fz"), Some((31, "z")));
        assert_eq!(strtoumax_prefix("-1"), None);
        assert_eq!(uint("-0", 0, 9), None);
        assert_eq!(mint("5:", 100, 2, "x", "o").unwrap(), vec![5, 100]);
        assert_eq!(mint(":", 100, 2, "x", "o").unwrap(), vec![0, 100]);
        assert!(mint("1:2:3", 100, 2, "x", "o").is_err());
        assert!(mint("1x", 100, 2, "x", "o").is_err());
        assert_eq!(mport("4:3", "x", "o"), Ok((4, 3)));
        assert_eq!(mport(":", "x", "o"), Ok((0, 65535)));
        assert_eq!(mport("ssh", "x", "o"), Ok((22, 22)));
        assert!(mport("0x10", "x", "o").is_err());
        assert!(mport("65536", "x", "o").is_err());
    }

    #[test]
    fn c_atoi() {
        assert_eq!(atoi("3x/sec"), 3);
        assert_eq!(atoi("x"), 0);
        assert_eq!(atoi("-1/s"), -1);
        assert_eq!(atoll(" +42"), 42);
    }

    #[test]
    fn value_masks() {
        assert_eq!(
            val_mask("0xfeedcafe/0xff", "mark", "mark"),
            Ok((0xfeed_cafe, 0xff))
        );
        assert_eq!(
            val_mask("4294967295", "mark", "mark"),
            Ok((u32::MAX, u32::MAX))
        );
        assert!(val_mask("4294967296", "mark", "mark").is_err());
        assert!(val_mask("1x", "mark", "mark").is_err());
        let mut s = String::new();
        fmt_val_mask(&mut s, 0, 0xff0);
        assert_eq!(s, " 0x0/0xff0");
    }

    #[test]
    fn inet_aton_like_glibc() {
        assert_eq!(inet_aton("10"), Some(10));
        assert_eq!(inet_aton("1.2"), Some(0x0100_0002));
        assert_eq!(inet_aton("1.2.3.4"), Some(0x0102_0304));
        assert_eq!(inet_aton("1.2.3.256"), None);
        assert_eq!(inet_aton("1..2"), None);
        let mut s = String::new();
        fmt_addr_mask(&mut s, 0x0101_0101, 0xffff_ff00);
        assert_eq!(s, "1.1.1.1/24");
    }
}
