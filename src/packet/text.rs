//! Fast text forms of addresses and numbers for per-packet output.
//!
//! `Ipv4Addr`'s `Display` formats into a scratch buffer to support padding, and integer
//! `Display` goes through `pad_integral`; with several addresses and ports in each record's
//! summary, conntrack view and JSON line, that machinery cost more than replaying the packet.
//! These adapters write the same text with one `write_str` each. Invariant: the output is
//! byte-identical to `std`'s `Display` (unit tests compare them).

use std::fmt;
use std::net::IpAddr;

/// A short line built on the stack: digits, dots and ASCII pieces, then one `write_str`.
/// Holds `N` bytes; anything past that is dropped, so callers size it for their worst case.
#[derive(Debug, Clone, Copy)]
pub struct Line<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Line<N> {
    fn default() -> Self {
        Line {
            bytes: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> Line<N> {
    pub fn push(&mut self, c: u8) -> &mut Self {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = c;
            self.len += 1;
        }
        self
    }

    /// ASCII text (the callers' constants: separators, names).
    pub fn push_str(&mut self, s: &str) -> &mut Self {
        for &c in s.as_bytes() {
            self.push(c);
        }
        self
    }

    pub fn push_u8(&mut self, v: u8) -> &mut Self {
        if v >= 100 {
            self.push(b'0' + v / 100);
        }
        if v >= 10 {
            self.push(b'0' + v / 10 % 10);
        }
        self.push(b'0' + v % 10)
    }

    pub fn push_num(&mut self, v: u64) -> &mut Self {
        if v < 10 {
            return self.push(b'0' + v as u8);
        }
        let mut digits = [0u8; 20];
        let (mut i, mut v) = (digits.len(), v);
        while v > 0 {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        for &d in &digits[i..] {
            self.push(d);
        }
        self
    }

    /// An IPv4 address in host byte order, dotted-quad.
    pub fn push_dotted(&mut self, a: u32) -> &mut Self {
        let [w, x, y, z] = a.to_be_bytes();
        self.push_u8(w)
            .push(b'.')
            .push_u8(x)
            .push(b'.')
            .push_u8(y)
            .push(b'.')
            .push_u8(z)
    }

    /// The bytes pushed so far (ASCII).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is pushed, and never a partial character.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// An IPv4 address (host byte order) printed dotted-quad, as `Ipv4Addr` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dotted(pub u32);

impl fmt::Display for Dotted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Line::<15>::default().push_dotted(self.0).as_str())
    }
}

/// An address of either family; IPv4 takes the fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr(pub IpAddr);

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => Dotted(u32::from(a)).fmt(f),
            IpAddr::V6(a) => a.fmt(f),
        }
    }
}

/// An unsigned number in decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num(pub u64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Line::<20>::default().push_num(self.0).as_str())
    }
}

/// `value.to_string()` into a string sized for `capacity` bytes up front: the writes of a
/// summary or tuple then never grow (reallocate) the string as `to_string` does.
pub fn text_of(value: impl fmt::Display, capacity: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(capacity);
    // Writing into a String cannot fail; a Display that fails leaves what it wrote.
    let _ = write!(s, "{value}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn same_text_as_std() {
        for a in [
            0u32,
            1,
            0x0a00_0001,
            0xc0a8_6401,
            0x6464_6464,
            u32::MAX,
            0x0100_00ff,
        ] {
            assert_eq!(Dotted(a).to_string(), Ipv4Addr::from(a).to_string());
            assert_eq!(
                Addr(IpAddr::from(Ipv4Addr::from(a))).to_string(),
                Ipv4Addr::from(a).to_string()
            );
        }
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        assert_eq!(Addr(IpAddr::V6(v6)).to_string(), "2001:db8::1");
        for v in [0u64, 7, 10, 99, 100, 65535, 1 << 40, u64::MAX] {
            assert_eq!(Num(v).to_string(), v.to_string());
        }
    }
}
