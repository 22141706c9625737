//! The one-line packet notation shared by the replay output, the oracle and
//! `iptwalk trace --packet`: `tcp 10.0.0.104:40000>10.0.0.77:22 S`.
//!
//! Invariants: [`Summary`] prints byte for byte what the kernel oracle's `summarize(parse_ip(ip))`
//! prints (shared/oracle/kernel_oracle.py), including its corner cases: ports for TCP, UDP,
//! SCTP, DCCP and UDP-Lite when 4 bytes are there; TCP flags from byte 13 only, as the letters
//! `FSRPAUEC`, and an empty flag string still preceded by a space; ICMP `type= code=`, with the
//! quoted datagram of an error (at least 28 bytes after the ICMP type) as `[quotes ...]`; ` frag`
//! for MF or a non-zero offset (non-first fragments show no ports). It formats straight from the
//! IPv4 bytes without allocating. [`parse`] reads the same notation back into a well-formed
//! packet with valid checksums, so that `summary(parse(s)) == s` for every summary we print.

use super::text::{endpoint, Dotted, Endpoints, Line, Num, TextOut};
use std::fmt::{self, Write as _};

use super::decode::{decode_ipv4, Packet};
use super::link::{Skip, L2};

/// Quote nesting printed at most (the oracle's recursion would give up near 1000 levels).
const MAX_QUOTE_DEPTH: usize = 16;

/// Display adapter printing the summary of an IPv4 packet's bytes.
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a> {
    ip: &'a [u8],
}

impl<'a> Summary<'a> {
    /// Summary of the IPv4 bytes as the oracle holds them (see [`crate::packet::Ipv4::bytes`]).
    pub fn of_ip(ip: &'a [u8]) -> Self {
        Summary { ip }
    }
}

impl Summary<'_> {
    /// The summary as a `String`. A TCP or UDP packet that is not a fragment (nearly every
    /// record) is built on the stack, without the formatting machinery; the text is the same
    /// (a test compares the two on generated headers).
    pub fn text(&self) -> String {
        let mut line = Line::<64>::default();
        match self.write_ports(&mut line) {
            Some(()) => line.as_str().to_string(),
            None => super::text::text_of(self, 64),
        }
    }

    /// Appends the summary's text to `out` (a JSON line: the text is ASCII with no `"`, `\\`
    /// or control character, so it goes in as it is), the same bytes as [`Summary::text`].
    /// Returns the endpoint texts it made (for TCP and UDP).
    pub fn write_to(&self, out: &mut Vec<u8>) -> Endpoints {
        let mut made = Endpoints::default();
        match self.ports() {
            Some(p) => {
                let (src, dst) = (endpoint(p.src, p.sport), endpoint(p.dst, p.dport));
                out.extend_from_slice(p.name);
                src.append_to(out);
                out.push(b'>');
                dst.append_to(out);
                made.keep(p.src, p.sport, src);
                made.keep(p.dst, p.dport, dst);
                if let Some(flags) = p.flags {
                    let (word, n) = &FLAG_WORDS[usize::from(flags)];
                    out.push_word(word, *n);
                }
            }
            None => out.extend_from_slice(self.text().as_bytes()),
        }
        made
    }

    /// [`Summary::write_to`] for a packet whose endpoints' text is known already: `known`
    /// gives the text of `src:sport>dst:dport` (as `N` bytes of which the first `n` are
    /// the text), or `None`. Returns whether it wrote the summary (nothing written if not).
    /// Inlined: its call and saved registers cost ~18 instructions a JSON line.
    #[inline(always)]
    pub(crate) fn write_known<'t, const N: usize>(
        &self,
        out: &mut Vec<u8>,
        known: impl FnOnce((u32, u16), (u32, u16)) -> Option<(&'t [u8; N], usize)>,
    ) -> bool {
        let Some(p) = self.ports() else {
            return false;
        };
        let Some((text, n)) = known((p.src, p.sport), (p.dst, p.dport)) else {
            return false;
        };
        let len = out.len();
        out.extend_from_slice(p.name);
        out.extend_from_slice(text);
        out.truncate(len + p.name.len() + n.min(N));
        if let Some(flags) = p.flags {
            let (word, n) = &FLAG_WORDS[usize::from(flags)];
            out.push_word(word, *n);
        }
        true
    }

    /// What an unfragmented TCP or UDP packet whose ports are there shows; `None` for any
    /// other.
    #[inline]
    fn ports(&self) -> Option<Ports> {
        let ip = self.ip;
        let proto = *ip.get(9)?;
        let name = match proto {
            6 => b"tcp ",
            17 => b"udp ",
            _ => return None,
        };
        if be16(ip, 6)? & 0x3fff != 0 {
            return None;
        }
        let ihl = usize::from(*ip.first()? & 0x0f) * 4;
        let l4 = ip.get(ihl..)?;
        let flags = match proto {
            6 => l4.get(13).copied(),
            _ => None,
        };
        Some(Ports {
            name,
            src: addr(ip, 12).0,
            sport: be16(l4, 0)?,
            dst: addr(ip, 16).0,
            dport: be16(l4, 2)?,
            flags,
        })
    }

    /// [`write_summary`]'s text for an unfragmented TCP or UDP packet whose ports are there;
    /// `None`, nothing written, for any other.
    fn write_ports<T: TextOut>(&self, out: &mut T) -> Option<()> {
        let p = self.ports()?;
        out.push_ascii(p.name)
            .push_dotted(p.src)
            .push(b':')
            .push_num(p.sport.into())
            .push(b'>')
            .push_dotted(p.dst)
            .push(b':')
            .push_num(p.dport.into());
        if let Some(flags) = p.flags {
            let (word, n) = &FLAG_WORDS[usize::from(flags)];
            out.push_word(word, *n);
        }
        Some(())
    }
}

/// The pieces of a TCP or UDP summary: `NAME SRC:SPORT>DST:DPORT FLAGS`.
struct Ports {
    /// `tcp ` or `udp ` (a fixed length: copied as a constant).
    name: &'static [u8; 4],
    src: u32,
    sport: u16,
    dst: u32,
    dport: u16,
    /// The TCP flag byte (13), for TCP.
    flags: Option<u8>,
}

/// Every TCP flag byte's text in a summary, a space and its letters ([`TCP_FLAG_LETTERS`]), at
/// the start of a word, and its length: one copy rather than a letter at a time.
const FLAG_WORDS: [([u8; 16], usize); 256] = {
    let mut t = [([0u8; 16], 0usize); 256];
    let mut v = 0;
    while v < 256 {
        let (mut word, mut n) = ([0u8; 16], 1);
        word[0] = b' ';
        let mut bit = 0;
        while bit < 8 {
            if v & (1 << bit) != 0 {
                word[n] = TCP_FLAG_LETTERS[bit];
                n += 1;
            }
            bit += 1;
        }
        t[v] = (word, n);
        v += 1;
    }
    t
};

impl Packet<'_> {
    /// The packet's one-line summary (a `Display` value; nothing is allocated until printed).
    pub fn summary(&self) -> Summary<'_> {
        Summary::of_ip(self.ip.bytes())
    }
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_summary(f, self.ip, 0)
    }
}

/// The letters of TCP flag byte 13, lowest bit first (`tcp_flag_str` in the oracle).
pub const TCP_FLAG_LETTERS: &[u8; 8] = b"FSRPAUEC";

/// Writes the flag letters of byte 13.
pub fn write_tcp_flags(f: &mut impl fmt::Write, flags: u8) -> fmt::Result {
    for (bit, letter) in TCP_FLAG_LETTERS.iter().enumerate() {
        if flags & (1 << bit) != 0 {
            f.write_char(char::from(*letter))?;
        }
    }
    Ok(())
}

fn be16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(off)?, *b.get(off + 1)?]))
}

fn addr(b: &[u8], off: usize) -> Dotted {
    match b.get(off..off + 4) {
        Some(&[a, b2, c, d]) => Dotted(u32::from_be_bytes([a, b2, c, d])),
        _ => Dotted(0),
    }
}

/// `parse_ip` + `summarize`, fused. `ip` has at least 20 bytes when it comes from a decoded
/// packet; shorter input prints what is there with missing fields as zero.
fn write_summary(f: &mut fmt::Formatter<'_>, ip: &[u8], depth: usize) -> fmt::Result {
    let b0 = ip.first().copied().unwrap_or(0);
    let ihl = usize::from(b0 & 0x0f) * 4;
    let proto = ip.get(9).copied().unwrap_or(0);
    let (src, dst) = (addr(ip, 12), addr(ip, 16));
    let frag_word = be16(ip, 6).unwrap_or(0);
    let frag = frag_word & 0x3fff != 0;
    let l4 = ip.get(ihl..).unwrap_or(&[]);
    match proto {
        6 => f.write_str("tcp")?,
        17 => f.write_str("udp")?,
        1 => f.write_str("icmp")?,
        p => write!(f, "proto{}", Num(p.into()))?,
    }
    let later_fragment = frag && frag_word & 0x1fff != 0;
    let ports = if later_fragment {
        None
    } else {
        be16(l4, 0).zip(be16(l4, 2))
    };
    match ports {
        Some((sp, dp)) if matches!(proto, 6 | 17 | 132 | 33 | 136) => {
            let mut line = Line::<48>::default();
            line.push(b' ')
                .push_dotted(src.0)
                .push(b':')
                .push_num(sp.into());
            line.push(b'>')
                .push_dotted(dst.0)
                .push(b':')
                .push_num(dp.into());
            f.write_str(line.as_str())?;
            if let (6, Some(&flags)) = (proto, l4.get(13)) {
                f.write_char(' ')?;
                write_tcp_flags(f, flags)?;
            }
        }
        _ => {
            write!(f, " {src}>{dst}")?;
            // The oracle reads type and code only when 4 bytes (with the checksum) are there.
            if let (false, 1, Some(&[ty, code, _, _])) = (later_fragment, proto, l4.get(..4)) {
                write!(f, " type={} code={}", Num(ty.into()), Num(code.into()))?;
                let quoting = matches!(ty, 3 | 4 | 5 | 11 | 12) && l4.len() >= 28;
                if let (true, Some(inner)) = (quoting && depth < MAX_QUOTE_DEPTH, l4.get(8..)) {
                    f.write_str(" [quotes ")?;
                    write_summary(f, inner, depth + 1)?;
                    f.write_char(']')?;
                }
            }
        }
    }
    if frag {
        f.write_str(" frag")?;
    }
    Ok(())
}

/// Why a summary line could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty packet description")]
    Empty,
    #[error("unknown protocol `{0}` (expected tcp, udp, icmp, sctp, dccp, udplite, esp, ah, gre or protoN)")]
    Protocol(String),
    #[error("expected `SRC>DST` or `SRC:PORT>DST:PORT`, found `{0}`")]
    Addresses(String),
    #[error("protocol {0} needs ports (`SRC:PORT>DST:PORT`)")]
    PortsRequired(u8),
    #[error("protocol {0} has no ports")]
    PortsNotAllowed(u8),
    #[error("invalid TCP flags `{0}` (letters F S R P A U E C)")]
    Flags(String),
    #[error("invalid field `{0}` (expected key=value with a number in range)")]
    Field(String),
    #[error("unknown field `{0}`")]
    UnknownField(String),
    #[error("unbalanced `[quotes ...]`")]
    Quote,
    #[error("the packet would exceed 65535 bytes")]
    TooLong,
}

/// A packet built from its summary; owns its bytes, decode with [`SynthPacket::packet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthPacket {
    bytes: Vec<u8>,
}

impl SynthPacket {
    /// The IPv4 bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The decoded view (the bytes are a well-formed IPv4 packet, so this succeeds).
    pub fn packet(&self) -> Result<Packet<'_>, Skip> {
        decode_ipv4(L2::default(), &self.bytes)
    }
}

mod build;
pub use build::parse;

#[cfg(test)]
mod tests;
