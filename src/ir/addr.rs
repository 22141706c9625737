//! IPv4 addresses and masks of `-s`/`-d` (and extensions that take them).
//!
//! Follows libxtables: `xtables_ipparse_multiple` (comma lists, each
//! `host[/mask]`, mask as a prefix length or dotted quad), and
//! `__numeric_to_ipaddr` (1–4 dotted parts, each a base-0 number ≤ 255;
//! missing trailing parts are zero: `10` is 10.0.0.0). iptwalk never asks DNS:
//! only `localhost` (from /etc/hosts) resolves; other names are an error.

use std::fmt;
use std::net::Ipv4Addr;

/// An address with a mask; `addr` is already ANDed with `mask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ipv4Net {
    pub addr: u32,
    pub mask: u32,
}

impl Ipv4Net {
    pub const ANY: Ipv4Net = Ipv4Net { addr: 0, mask: 0 };

    pub fn new(addr: u32, mask: u32) -> Ipv4Net {
        Ipv4Net {
            addr: addr & mask,
            mask,
        }
    }

    pub fn contains(self, ip: u32) -> bool {
        ip & self.mask == self.addr
    }

    pub fn is_any(self) -> bool {
        self.mask == 0 && self.addr == 0
    }

    /// Prefix length when the mask is contiguous.
    pub fn prefix_len(self) -> Option<u8> {
        let ones = self.mask.leading_ones();
        (self.mask.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
    }
}

impl Ipv4Net {
    /// Appends the save form, as `print_ip` in iptables.c: `a.b.c.d/len`, or
    /// `/m.m.m.m` when the mask is not contiguous. Written byte by byte
    /// because `fmt` machinery dominates saving a large ruleset.
    pub fn push_to(self, out: &mut String) {
        push_dotted(out, self.addr);
        out.push('/');
        match self.prefix_len() {
            Some(len) => push_u8(out, len),
            None => push_dotted(out, self.mask),
        }
    }
}

fn push_dotted(out: &mut String, v: u32) {
    for (i, b) in v.to_be_bytes().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_u8(out, b);
    }
}

/// A byte in decimal without going through `fmt`.
pub fn push_u8(out: &mut String, b: u8) {
    if b >= 100 {
        out.push(char::from(b'0' + b / 100));
    }
    if b >= 10 {
        out.push(char::from(b'0' + b / 10 % 10));
    }
    out.push(char::from(b'0' + b % 10));
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(31);
        self.push_to(&mut s);
        f.write_str(&s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrError {
    /// `host/network `%s' not found`
    HostNotFound(String),
    /// `invalid mask `%s' specified`
    BadMask(String),
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrError::HostNotFound(h) => write!(f, "host/network `{h}' not found"),
            AddrError::BadMask(m) => write!(f, "invalid mask `{m}' specified"),
        }
    }
}

/// A comma-separated list of `host[/mask]` (`xtables_ipparse_multiple`).
pub fn parse_list(s: &str) -> Result<Vec<Ipv4Net>, AddrError> {
    s.split(',').map(parse_one).collect()
}

/// `a.b.c.d` or `a.b.c.d/len` in plain decimal (what iptables-save writes
/// and nearly every file has), in one pass over the bytes; `None` for
/// anything else, which [`parse_one`] and [`parse_list`] then read.
pub fn parse_plain(s: &str) -> Option<Ipv4Net> {
    let b = s.as_bytes();
    let (mut addr, mut at) = (0u32, 0);
    for part in 0..4 {
        if part > 0 {
            (b.get(at) == Some(&b'.')).then_some(())?;
            at += 1;
        }
        let (n, next) = plain_number(b, at, 3)?;
        if n > 255 {
            return None;
        }
        addr = addr << 8 | n;
        at = next;
    }
    let mask = match b.get(at) {
        None => u32::MAX,
        Some(b'/') => {
            // 0-32 without leading zeros (`08` is octal to iptables, and an error).
            let (len, next) = plain_number(b, at + 1, 2)?;
            (next == b.len()).then_some(())?;
            match len {
                0 => 0,
                1..=32 => u32::MAX << (32 - len),
                _ => return None,
            }
        }
        Some(_) => return None,
    };
    Some(Ipv4Net::new(addr, mask))
}

/// The decimal number of 1 to `max_digits` digits at `b[at..]`, without a
/// leading zero (a `0` ends the number), and the index after it.
fn plain_number(b: &[u8], mut at: usize, max_digits: usize) -> Option<(u32, usize)> {
    let digit = |at: usize| {
        b.get(at)
            .filter(|c| c.is_ascii_digit())
            .map(|c| u32::from(c - b'0'))
    };
    let mut n = digit(at)?;
    at += 1;
    if n == 0 {
        return Some((0, at));
    }
    for _ in 1..max_digits {
        let Some(d) = digit(at) else { break };
        n = n * 10 + d;
        at += 1;
    }
    Some((n, at))
}

/// One `host[/mask]`.
pub fn parse_one(s: &str) -> Result<Ipv4Net, AddrError> {
    // Byte scans: `split_once`/`contains` with a char pattern cost more than
    // the rest of the parse on short words like these.
    let (host, mask) = match s.bytes().position(|b| b == b'/') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mask = match mask {
        None => u32::MAX,
        Some(m) if m.bytes().any(|b| b == b'.') => {
            numeric(m, true).ok_or_else(|| AddrError::BadMask(m.to_string()))?
        }
        Some(m) => {
            let bits = crate::ext::value::number(m, 0, 32)
                .ok_or_else(|| AddrError::BadMask(m.to_string()))?;
            if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            }
        }
    };
    let addr = match numeric(host, false) {
        Some(a) => a,
        None if host == "localhost" => u32::from(Ipv4Addr::LOCALHOST),
        None => return Err(AddrError::HostNotFound(host.to_string())),
    };
    Ok(Ipv4Net::new(addr, mask))
}

/// `__numeric_to_ipaddr`: up to four dotted base-0 bytes; a mask needs all four.
pub fn numeric(s: &str, is_mask: bool) -> Option<u32> {
    if let Some(v) = plain_dotted_quad(s) {
        return Some(v);
    }
    // iptables copies the text into a 20-byte buffer first.
    let s = s.get(..s.len().min(19)).unwrap_or(s);
    let mut bytes = [0u8; 4];
    let mut parts = 0;
    for (i, p) in s.splitn(4, '.').enumerate() {
        bytes[i] = crate::ext::value::number(p, 0, 255)? as u8;
        parts = i + 1;
    }
    if is_mask && parts < 4 {
        return None;
    }
    Some(u32::from_be_bytes(bytes))
}

/// `a.b.c.d` in plain decimal (no leading zeros, each part ≤ 255): what
/// nearly every rule file writes, read without the general base-0 path.
fn plain_dotted_quad(s: &str) -> Option<u32> {
    // A byte loop: `str::split` costs more than the parsing itself here.
    let (mut v, mut n, mut digits, mut dots) = (0u32, 0u32, 0, 0);
    for &c in s.as_bytes() {
        match c {
            b'0'..=b'9' if digits < 3 && !(digits == 1 && n == 0) => {
                n = n * 10 + u32::from(c - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && n <= 255 && dots < 3 => {
                v = v << 8 | n;
                (n, digits, dots) = (0, 0, dots + 1);
            }
            _ => return None,
        }
    }
    (dots == 3 && digits > 0 && n <= 255).then_some(v << 8 | n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_network() {
        let n = parse_one("10.11.12.13/8").unwrap();
        assert_eq!(n.to_string(), "10.0.0.0/8");
        assert_eq!(parse_one("1.2.3.4").unwrap().to_string(), "1.2.3.4/32");
        assert_eq!(parse_one("10").unwrap().to_string(), "10.0.0.0/32");
        assert_eq!(
            parse_one("1.2.3.4/255.0.255.0").unwrap().to_string(),
            "1.0.3.0/255.0.255.0"
        );
        assert_eq!(parse_one("0/0").unwrap(), Ipv4Net::ANY);
        assert!(parse_one("1.2.3.4/33").is_err());
        assert!(parse_one("example.com").is_err());
        assert_eq!(parse_list("1.1.1.1,2.2.2.2").unwrap().len(), 2);
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    /// The byte-loop fast path agrees with the general base-0 reader
    /// wherever it answers, and declines everything unusual.
    #[test]
    fn plain_dotted_quad_agrees_with_the_general_path() {
        for s in [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "192.168.100.100",
        ] {
            let general = {
                let mut bytes = [0u8; 4];
                for (i, p) in s.split('.').enumerate() {
                    bytes[i] = p.parse().unwrap();
                }
                u32::from_be_bytes(bytes)
            };
            assert_eq!(plain_dotted_quad(s), Some(general), "{s}");
        }
        for s in [
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1..2.3",
            "1.2.3.",
            "0x1.2.3.4",
            "",
            "1.2.3.1000",
        ] {
            assert_eq!(plain_dotted_quad(s), None, "{s}");
        }
        for s in [
            "1.2.3.4/0",
            "1.2.3.4/8",
            "1.2.3.4/32",
            "10.1.2.3/24",
            "0.0.0.0/0",
            "255.255.255.255/31",
        ] {
            assert_eq!(parse_plain(s), parse_one(s).ok(), "{s}");
        }
        for s in [
            "1.2.3.4/33",
            "1.2.3.4/08",
            "1.2.3.4/",
            "1.2.3.4/1/2",
            "1.2.3/8",
            "1.2.3.4.5/8",
            "1.2.3.4/255.0.0.0",
            "1.2.3.4/0x8",
            "1.2.3.4,5.6.7.8",
            "1.2.3.4 ",
            "/8",
            "01.2.3.4/8",
            "1.2.3.4/100",
        ] {
            assert_eq!(parse_plain(s), None, "{s}");
        }
        // What the fast path declines still reads as iptables reads it.
        assert_eq!(numeric("010.0.0.1", false), Some(0x0800_0001));
        assert_eq!(numeric("1.2.3", false), Some(0x0102_0300));
    }
}
