//! The address/port ranges of the NAT targets (SNAT, DNAT, MASQUERADE,
//! REDIRECT), parsed as `parse_to` / `parse_ports` of libxt_NAT.c (1.8.9) and
//! printed as its `print_range`.
//!
//! Ports are only allowed when the rule names a protocol with ports
//! (tcp, udp, sctp, dccp or icmp; `!` is not looked at). Parsing order
//! matters for the messages: the port part is read before the address.

use crate::ext::netdb;
use crate::ext::spec::{ExtError, ExtResult};
use crate::ext::value::strtoul_prefix;
use crate::ext::RuleCtx;
use std::fmt::Write;
use std::net::Ipv4Addr;

/// `nf_nat_range2` without the flags that are separate options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NatRange {
    /// NF_NAT_RANGE_MAP_IPS: first and last address (host order).
    pub addrs: Option<(u32, u32)>,
    /// NF_NAT_RANGE_PROTO_SPECIFIED: first and last port.
    pub ports: Option<(u16, u16)>,
    /// NF_NAT_RANGE_PROTO_OFFSET: the base port of a shifted port map. Targets
    /// whose kernel revision has no base field keep the flag with base 0.
    pub base: Option<u16>,
}

/// `portok` in libxt_NAT.c: protocols whose port the NAT core can rewrite.
pub fn port_ok(ctx: &RuleCtx) -> bool {
    matches!(ctx.proto, 6 | 17 | 132 | 33 | 1)
}

/// `xtables_service_to_port(name, NULL)`: a service of any protocol.
pub fn service(s: &str) -> Option<u16> {
    netdb::service_port(s, "tcp").or_else(|| netdb::service_port(s, "udp"))
}

fn not_valid(s: &str) -> ExtError {
    ExtError::new(format!("Port `{s}' not valid"))
}

/// `parse_ports`: `P`, `P-Q` or `P-Q/BASE` (service names for P and BASE).
pub fn parse_ports(arg: &str, ctx: &RuleCtx, range: &mut NatRange) -> ExtResult {
    if !port_ok(ctx) {
        return Err(ExtError::new(
            "Need TCP, UDP, SCTP or DCCP with port specification",
        ));
    }
    let (port, end) = match strtoul_prefix(arg, 65535) {
        Some((p, end)) => (p as u16, end),
        None => (service(arg).ok_or_else(|| not_valid(arg))?, ""),
    };
    let rest = match end.as_bytes().first() {
        None => {
            range.ports = Some((port, port));
            return Ok(());
        }
        Some(b'-') => end.get(1..).unwrap_or(""),
        Some(b':') => {
            return Err(ExtError::new("Invalid port:port syntax - use dash"));
        }
        Some(_) => {
            return Err(ExtError::new(format!("Garbage after port value: `{end}'")));
        }
    };
    // A range: no service names for its end.
    let (max, end) = strtoul_prefix(rest, 65535).ok_or_else(|| not_valid(rest))?;
    let max = max as u16;
    if max < port {
        return Err(ExtError::new(format!("Port range `{rest}' funky")));
    }
    range.ports = Some((port, max));
    let base = match end.as_bytes().first() {
        None => return Ok(()),
        Some(b'/') => end.get(1..).unwrap_or(""),
        Some(_) => {
            return Err(ExtError::new(format!("Garbage after port range: `{end}'")));
        }
    };
    let base = match crate::ext::value::number(base, 1, 65535) {
        Some(b) => b as u16,
        None => service(base).ok_or_else(|| not_valid(base))?,
    };
    range.base = Some(base);
    Ok(())
}

/// `inet_pton(AF_INET, ..)`: exactly four decimal parts, no leading zeros.
pub fn inet_pton(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut v: u32 = 0;
    for p in parts {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if p.len() > 1 && p.starts_with('0') {
            return None;
        }
        let b: u32 = p.parse().ok()?;
        if b > 255 {
            return None;
        }
        v = v << 8 | b;
    }
    Some(v)
}

/// `inet_aton` (what getaddrinfo accepts for a numeric host, used by
/// `XTTYPE_HOST`/`HOSTMASK` options): 1 to 4 parts, each base 0 (`0x`, octal),
/// the last part filling the remaining bytes (`1.1.1` is 1.1.0.1).
pub fn inet_aton(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        nums.push(crate::ext::value::strtoul(p, 0, u64::from(u32::MAX))?);
    }
    let (last, head) = nums.split_last()?;
    let mut v: u32 = 0;
    for (i, n) in head.iter().enumerate() {
        if *n > 255 {
            return None;
        }
        v |= (*n as u32) << (24 - 8 * i);
    }
    let rest_bits = 32 - 8 * head.len() as u32;
    if rest_bits < 32 && *last >= 1u64 << rest_bits {
        return None;
    }
    Some(v | *last as u32)
}

/// `parse_to`: `[ADDR[-ADDR]][:PORTS]` (IPv4: a second `:` means no port).
pub fn parse_to(arg: &str, ctx: &RuleCtx) -> ExtResult<NatRange> {
    let mut range = NatRange::default();
    let mut addr = arg;
    if let Some(colon) = arg.find(':') {
        if arg.rfind(':') == Some(colon) {
            parse_ports(arg.get(colon + 1..).unwrap_or(""), ctx, &mut range)?;
            if colon == 0 {
                return Ok(range);
            }
            addr = arg.get(..colon).unwrap_or("");
        }
    }
    let bad = |s: &str| ExtError::new(format!("Bad IP address \"{s}\""));
    let (lo, hi) = match addr.split_once('-') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (addr, None),
    };
    let min = inet_pton(lo).ok_or_else(|| bad(lo))?;
    let max = match hi {
        Some(h) => inet_pton(h).ok_or_else(|| bad(h))?,
        None => min,
    };
    range.addrs = Some((min, max));
    Ok(range)
}

/// `print_range`: `A[-B][:P[-Q][/BASE]]`.
pub fn fmt_range(out: &mut String, r: &NatRange) {
    if let Some((lo, hi)) = r.addrs {
        let _ = write!(out, "{}", Ipv4Addr::from(lo));
        if hi != lo {
            let _ = write!(out, "-{}", Ipv4Addr::from(hi));
        }
    }
    if let Some((lo, hi)) = r.ports {
        out.push(':');
        fmt_ports(out, r, lo, hi);
    }
}

/// The port part alone (`--to-ports` of MASQUERADE/REDIRECT): `P[-Q][/BASE]`.
pub fn fmt_ports(out: &mut String, r: &NatRange, lo: u16, hi: u16) {
    let _ = write!(out, "{lo}");
    if hi != lo {
        let _ = write!(out, "-{hi}");
    }
    if let Some(b) = r.base {
        let _ = write!(out, "/{b}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: RuleCtx = RuleCtx {
        proto: 6,
        proto_inv: false,
    };

    fn round(s: &str) -> Result<String, String> {
        let r = parse_to(s, &TCP).map_err(|e| e.message)?;
        let mut out = String::new();
        fmt_range(&mut out, &r);
        Ok(out)
    }

    #[test]
    fn ranges_print_canonically() {
        assert_eq!(round("1.1.1.1:ssh").unwrap(), "1.1.1.1:22");
        assert_eq!(round("1.1.1.1:10-20/ftp").unwrap(), "1.1.1.1:10-20/21");
        assert_eq!(round("1.1.1.1:80-80").unwrap(), "1.1.1.1:80");
        assert_eq!(round(":0x50").unwrap(), ":80");
        assert_eq!(round("1.1.1.5-1.1.1.1").unwrap(), "1.1.1.5-1.1.1.1");
    }

    #[test]
    fn errors_as_libxt_nat() {
        assert_eq!(round("1.1.1.1:80-70").unwrap_err(), "Port range `70' funky");
        assert_eq!(
            round("1.1.1.1:80/90").unwrap_err(),
            "Garbage after port value: `/90'"
        );
        assert_eq!(
            round("1.1.1.1:1000-2000/0").unwrap_err(),
            "Port `0' not valid"
        );
        assert_eq!(round("1.1.1.1:").unwrap_err(), "Port `' not valid");
        assert_eq!(
            round("01.1.1.1").unwrap_err(),
            "Bad IP address \"01.1.1.1\""
        );
        assert_eq!(
            round("1.1.1.1:10:20").unwrap_err(),
            "Bad IP address \"1.1.1.1:10:20\""
        );
        assert_eq!(inet_aton("1.1.1"), Some(0x0101_0001));
        assert_eq!(inet_aton("0x1.2.3.0"), Some(0x0102_0300));
        assert_eq!(inet_aton("1.2.3.256"), None);
        assert_eq!(inet_aton("1.2.3.4.5"), None);
        let any = RuleCtx::default();
        assert!(parse_to("1.1.1.1:80", &any).is_err());
    }
}
