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

/// Where the fast writers put their text: a [`Line`] on the stack, or straight into a growing
/// buffer (`Vec<u8>`: a JSON line, without a stack line copied in between).
pub trait TextOut {
    fn push(&mut self, c: u8) -> &mut Self;

    /// ASCII bytes (the callers' constants, digits).
    fn push_ascii(&mut self, b: &[u8]) -> &mut Self;

    /// The first `n` bytes of `word` (n ≤ 16). All sixteen may be copied and the length moved
    /// by `n` only: a fixed-size copy is cheaper than a short variable one.
    fn push_word(&mut self, word: &[u8; 16], n: usize) -> &mut Self;

    /// ASCII text (the callers' constants: separators, names).
    fn push_str(&mut self, s: &str) -> &mut Self {
        self.push_ascii(s.as_bytes())
    }

    #[inline]
    fn push_u8(&mut self, v: u8) -> &mut Self {
        let (word, n) = short_num_word(v.into());
        self.push_word(&word, n)
    }

    #[inline]
    fn push_num(&mut self, v: u64) -> &mut Self {
        if v < 100_000_000 {
            let (word, n) = short_num_word(v);
            return self.push_word(&word, n);
        }
        let mut digits = [0u8; 20];
        let (mut i, mut v) = (digits.len(), v);
        while v > 0 {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.push_ascii(&digits[i..])
    }

    /// An IPv4 address in host byte order, dotted-quad.
    #[inline]
    fn push_dotted(&mut self, a: u32) -> &mut Self {
        let (word, n) = dotted_word(a);
        self.push_word(&word, n)
    }
}

impl<const N: usize> TextOut for Line<N> {
    fn push(&mut self, c: u8) -> &mut Self {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = c;
            self.len += 1;
        }
        self
    }

    /// Copied at once when they fit (byte by byte up to the limit otherwise).
    fn push_ascii(&mut self, b: &[u8]) -> &mut Self {
        match self.bytes.get_mut(self.len..self.len + b.len()) {
            Some(room) => {
                room.copy_from_slice(b);
                self.len += b.len();
            }
            None => {
                for &c in b {
                    self.push(c);
                }
            }
        }
        self
    }

    fn push_word(&mut self, word: &[u8; 16], n: usize) -> &mut Self {
        match self.bytes.get_mut(self.len..self.len + 16) {
            Some(room) => {
                room.copy_from_slice(word);
                self.len += n;
                self
            }
            None => self.push_ascii(&word[..n]),
        }
    }
}

impl TextOut for Vec<u8> {
    fn push(&mut self, c: u8) -> &mut Self {
        Vec::push(self, c);
        self
    }

    fn push_ascii(&mut self, b: &[u8]) -> &mut Self {
        self.extend_from_slice(b);
        self
    }

    /// Sixteen bytes copied, then the length cut back (bytes have no drop: a store).
    #[inline]
    fn push_word(&mut self, word: &[u8; 16], n: usize) -> &mut Self {
        let len = self.len();
        self.extend_from_slice(word);
        self.truncate(len + n.min(16));
        self
    }
}

impl<const N: usize> Line<N> {
    /// The bytes pushed so far (ASCII).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is pushed, and never a partial character.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    /// Appends the line to `out`: all `N` bytes copied (a fixed-size copy), then the length
    /// cut back to the line's.
    #[inline]
    pub fn append_to(&self, out: &mut Vec<u8>) {
        let len = out.len();
        out.extend_from_slice(&self.bytes);
        out.truncate(len + self.len);
    }
}

/// `a:p`, an IPv4 address (host byte order) and a port, as tuples and summaries print an
/// endpoint: the address's and the port's words placed at once (at most 15 + 1 + 5 bytes).
#[inline]
pub fn endpoint(a: u32, port: u16) -> Line<32> {
    let (address, n) = dotted_word(a);
    let (digits, m) = short_num_word(port.into());
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(&address);
    let n = n.min(15);
    bytes[n] = b':';
    bytes[n + 1..n + 17].copy_from_slice(&digits);
    Line {
        bytes,
        len: n + 1 + m.min(5),
    }
}

/// Endpoint texts a record has made already (its summary's), to copy when its conntrack
/// tuples show the same endpoints rather than make them again.
#[derive(Debug, Clone, Copy, Default)]
pub struct Endpoints {
    made: [(u32, u16, Line<32>); 2],
    count: usize,
}

impl Endpoints {
    /// Keeps `text`, the [`endpoint`] of `a` and `port` (room for two).
    #[inline]
    pub fn keep(&mut self, a: u32, port: u16, text: Line<32>) {
        if let Some(slot) = self.made.get_mut(self.count) {
            *slot = (a, port, text);
            self.count += 1;
        }
    }

    /// The [`endpoint`] of `a` and `port`, copied when kept.
    #[inline]
    pub fn text(&self, a: u32, port: u16) -> Line<32> {
        for (x, p, text) in self.made.iter().take(self.count) {
            if (*x, *p) == (a, port) {
                return *text;
            }
        }
        endpoint(a, port)
    }
}

/// A number below 10⁸ (ports, counts, lengths) as its digits at the start of a word, and
/// their count. The eight digits are made at once, in parallel lanes of one 64-bit word
/// (SWAR): the two 4-digit halves in 32-bit lanes, split into 2-digit quarters in 16-bit
/// lanes, split into digits in bytes, most significant first in little-endian order; then the
/// leading zeros (zero bytes at the low end) are shifted out. No lane ever carries into the
/// next (the largest products are noted below); a test compares every number below 2·10⁶ and
/// a spread of larger ones with `std`.
#[inline]
fn short_num_word(v: u64) -> ([u8; 16], usize) {
    let v = v % 100_000_000;
    // Halves: 9999 · 10486 < 2^27 (a 32-bit lane), and `>> 20` divides 0..=9999 by 100.
    let x = (v / 10_000) | ((v % 10_000) << 32);
    let hundreds = ((x * 10_486) >> 20) & 0x0000_007f_0000_007f;
    // Quarters: 99 · 103 < 2^14 (a 16-bit lane), and `>> 10` divides 0..=99 by 10.
    let x = hundreds | ((x - hundreds * 100) << 16);
    let tens = ((x * 103) >> 10) & 0x000f_000f_000f_000f;
    let digits = tens | ((x - tens * 10) << 8);
    // Leading zero digits are the zero bytes at the low end; a zero keeps its last digit.
    let zeros = (digits.trailing_zeros() / 8).min(7) as usize;
    let ascii = (digits | 0x3030_3030_3030_3030) >> (8 * zeros);
    let mut word = [0u8; 16];
    word[..8].copy_from_slice(&ascii.to_le_bytes());
    (word, 8 - zeros)
}

/// An IPv4 address (host byte order) dotted-quad at the start of a word, and its length: each
/// octet's text (with its dot) copied from [`OCTETS`], four bytes at a time.
#[inline]
fn dotted_word(a: u32) -> ([u8; 16], usize) {
    let mut text = [0u8; 16];
    let mut n = 0;
    for o in a.to_be_bytes() {
        let (word, len) = OCTETS[usize::from(o)];
        text[n..n + 4].copy_from_slice(&word);
        n += len;
    }
    // Without the last octet's dot.
    (text, n - 1)
}

/// Every octet's decimal text followed by a dot, padded to four bytes, and the length of
/// text and dot.
const OCTETS: [([u8; 4], usize); 256] = {
    let mut t = [([0u8; 4], 0usize); 256];
    let mut v = 0;
    while v < 256 {
        let (h, d, u) = ((v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8);
        t[v] = if v >= 100 {
            ([b'0' + h, b'0' + d, b'0' + u, b'.'], 4)
        } else if v >= 10 {
            ([b'0' + d, b'0' + u, b'.', 0], 3)
        } else {
            ([b'0' + u, b'.', 0, 0], 2)
        };
        v += 1;
    }
    t
};

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
    fn every_octet_in_every_place_reads_as_std_writes_it() {
        for v in 0u32..256 {
            for a in [
                v << 24,
                v << 16 | 7,
                v << 8 | 0x0a00_0000,
                v | 0xff00_0000,
                v * 0x0101_0101,
            ] {
                assert_eq!(Dotted(a).to_string(), Ipv4Addr::from(a).to_string());
            }
        }
        // A line too short keeps what fits, as byte-by-byte pushes did.
        let mut short = Line::<9>::default();
        assert_eq!(short.push_dotted(0xc0a8_6401).as_str(), "192.168.1");
        let mut short = Line::<12>::default();
        assert_eq!(
            short.push_num(12_345).push_num(678_901).as_str(),
            "12345678901"
        );
        let spread = (0..2_000_000u64)
            .chain((1..100_000u64).map(|i| i * 999 + i % 7))
            .chain((0..20).map(|p| 10u64.pow(p)))
            .chain((1..20).map(|p| 10u64.pow(p) - 1))
            .chain([99_999_999, 100_000_000, 123_456_789_012, u64::MAX]);
        for v in spread {
            let mut line = Line::<40>::default();
            line.push(b'x').push_num(v);
            assert_eq!(line.as_str(), format!("x{v}"));
        }
    }

    /// Straight into a buffer, the same text as through a line, after what is there.
    #[test]
    fn a_buffer_gets_the_line_text() {
        for v in [0u64, 9, 10, 99_999_999, 100_000_000, u64::MAX] {
            for a in [0u32, 0x0a00_0001, u32::MAX] {
                let mut buf = b"x".to_vec();
                buf.push_num(v)
                    .push_str(" ")
                    .push_dotted(a)
                    .push_u8(200)
                    .push_str("ok");
                let mut line = Line::<80>::default();
                line.push(b'x')
                    .push_num(v)
                    .push(b' ')
                    .push_dotted(a)
                    .push_u8(200)
                    .push_str("ok");
                assert_eq!(buf, line.as_bytes());
            }
        }
    }

    #[test]
    fn endpoints_read_as_std_writes_them() {
        let mut kept = Endpoints::default();
        for (a, p) in [
            (0u32, 0u16),
            (0x0a00_0001, 80),
            (u32::MAX, u16::MAX),
            (0x0102_0304, 9),
        ] {
            assert_eq!(
                endpoint(a, p).as_str(),
                format!("{}:{p}", Ipv4Addr::from(a))
            );
            // Only two are kept; the others are made when asked for.
            kept.keep(a, p, endpoint(a, p));
            assert_eq!(kept.text(a, p).as_str(), endpoint(a, p).as_str());
            assert_eq!(kept.text(a, p ^ 1).as_str(), endpoint(a, p ^ 1).as_str());
        }
    }

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
