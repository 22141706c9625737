//! The FTP helper (`nf_conntrack_ftp.c`): reads PORT/EPRT commands from the client and
//! 227 (PASV) / 229 (EPSV) replies from the server and asks for an expectation of the data
//! connection.
//!
//! As in the kernel, a segment is looked at only when
//! * the connection has seen traffic both ways (ctinfo ESTABLISHED or ESTABLISHED_REPLY),
//! * it carries data, and
//! * its sequence number is one remembered as "just after a newline" in that direction
//!   (`find_nl_seq`): every segment ending in `\n` remembers `seq + len` (`update_nl_seq`, two
//!   slots per direction). So the first line in each direction is never parsed, and a command
//!   split over segments, or starting mid-segment, is missed.
//!
//! Only the start of the segment is matched (`find_pattern`, case-insensitive); a segment that
//! is a prefix of a pattern, or matches the pattern but not its numbers, is dropped ("partial
//! matching"). An address other than the sender's (FTP bounce) creates no expectation, since
//! the module parameter `loose` is 0 by default. Invariant: the parsers are total on any bytes
//! and use the kernel's wrapping `u32`/`u16` arithmetic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::Action;
use crate::conntrack::tuple::{Dir, L4Key, Tuple};

/// `NUM_SEQ_TO_REMEMBER` in nf_conntrack_ftp.h.
const NUM_SEQ_TO_REMEMBER: usize = 2;

/// The module parameter `loose` (default 0): when set, addresses other than the sender's
/// are accepted.
const LOOSE: bool = false;

/// Per-connection state (`struct nf_ct_ftp_master`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FtpMaster {
    /// Sequence numbers that follow a newline, per direction.
    seq_aft_nl: [[u32; NUM_SEQ_TO_REMEMBER]; 2],
    /// How many of `seq_aft_nl[dir]` are set.
    seq_aft_nl_num: [usize; 2],
}

/// Which command or reply announced the data connection (`enum nf_ct_ftp_type`); the NAT
/// helper (`nf_nat_ftp`) rewrites each kind differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtpType {
    /// `PORT h1,h2,h3,h4,p1,p2` from the client.
    Port,
    /// `227 ... (h1,h2,h3,h4,p1,p2)` from the server.
    Pasv,
    /// `EPRT |1|addr|port|` from the client.
    Eprt,
    /// `229 ... (|||port|)` from the server.
    Epsv,
}

/// A parsed command or reply: what `nf_nat_ftp` needs to rewrite it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FtpMatch {
    /// The command or reply.
    pub kind: FtpType,
    /// Address named (for EPSV, the sender's own address).
    pub addr: IpAddr,
    /// Port named.
    pub port: u16,
    /// Offset of the numbers in the payload (`matchoff`).
    pub off: usize,
    /// Length of the numbers (`matchlen`).
    pub len: usize,
}

/// A pattern of `search[dir]`.
struct Search {
    pattern: &'static [u8],
    skip: u8,
    term: u8,
    kind: FtpType,
}

/// `search[IP_CT_DIR_MAX][2]`: commands from the client, replies from the server.
const SEARCH: [[Search; 2]; 2] = [
    [
        Search {
            pattern: b"PORT",
            skip: b' ',
            term: b'\r',
            kind: FtpType::Port,
        },
        Search {
            pattern: b"EPRT",
            skip: b' ',
            term: b'\r',
            kind: FtpType::Eprt,
        },
    ],
    [
        Search {
            pattern: b"227 ",
            skip: 0,
            term: 0,
            kind: FtpType::Pasv,
        },
        Search {
            pattern: b"229 ",
            skip: b'(',
            term: b')',
            kind: FtpType::Epsv,
        },
    ],
];

/// `find_pattern`'s three outcomes.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    No,
    Partial,
    Yes(FtpMatch),
}

/// The FTP helper's `help()` for one packet. `established` is ctinfo ESTABLISHED or
/// ESTABLISHED_REPLY; `l4` is the TCP segment up to the end of the IP datagram.
pub(crate) fn help(
    info: &mut FtpMaster,
    tuple: &[Tuple; 2],
    dir: Dir,
    established: bool,
    l4: &[u8],
) -> Action {
    // "Until there's been traffic both ways, don't look in packets."
    if !established || l4.len() < 20 {
        return Action::Accept;
    }
    let dataoff = usize::from(l4[12] >> 4) * 4;
    if dataoff >= l4.len() {
        return Action::Accept;
    }
    let data = &l4[dataoff..];
    let th_seq = u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]);
    let ends_in_nl = data.last() == Some(&b'\n');
    let seq = th_seq.wrapping_add(data.len() as u32);
    let d = dir.idx();
    let action = if !info.seq_aft_nl[d][..info.seq_aft_nl_num[d]].contains(&th_seq) {
        Action::Accept
    } else {
        match search(data, tuple[d].src, dir) {
            // Partial match: dropped without remembering the newline (`goto out`).
            Found::Partial => return Action::Drop("ftp: partial matching of a command"),
            Found::No => Action::Accept,
            Found::Yes(m) => expectation(tuple, dir, m),
        }
    };
    if ends_in_nl {
        update_nl_seq(info, seq, d);
    }
    action
}

/// The expectation for a parsed command: from the other side (`tuplehash[!dir].src`), any
/// source port, to the commanding side, at the port named.
fn expectation(tuple: &[Tuple; 2], dir: Dir, m: FtpMatch) -> Action {
    let other = &tuple[dir.flip().idx()];
    let mut daddr = other.dst;
    if m.addr != tuple[dir.idx()].src {
        // "DMZ machines opening holes to internal networks, or the packet filter itself."
        if !LOOSE {
            return Action::Accept;
        }
        daddr = m.addr;
    }
    Action::Expect {
        tuple: Tuple {
            src: other.src,
            dst: daddr,
            proto: 6,
            l4: L4Key::Ports {
                src: 0,
                dst: m.port,
            },
        },
        ftp: Some(m),
    }
}

/// Tries the two patterns of `dir` in order, as `help()`'s loop does.
fn search(data: &[u8], sender: IpAddr, dir: Dir) -> Found {
    for s in &SEARCH[dir.idx()] {
        let found = find_pattern(data, s, sender);
        if found != Found::No {
            return found;
        }
    }
    Found::No
}

/// `find_pattern`: the pattern at the very start, then up to `skip`, then the numbers.
fn find_pattern(data: &[u8], s: &Search, sender: IpAddr) -> Found {
    let plen = s.pattern.len();
    if data.len() <= plen {
        // Short packet: a prefix of the pattern might continue in the next segment.
        return if data.eq_ignore_ascii_case(&s.pattern[..data.len()]) {
            Found::Partial
        } else {
            Found::No
        };
    }
    if !data[..plen].eq_ignore_ascii_case(s.pattern) {
        return Found::No;
    }
    let mut i = plen;
    if s.skip != 0 {
        while data[i] != s.skip {
            if i == data.len() - 1 {
                return Found::Partial;
            }
            i += 1;
        }
        i += 1;
    }
    let rest = data.get(i..).unwrap_or(&[]);
    let parsed = match s.kind {
        FtpType::Port => try_rfc959(rest, s.term).map(|(n, a, p)| (0, n, IpAddr::V4(a), p)),
        FtpType::Pasv => try_rfc1123(rest).map(|(skip, n, a, p)| (skip, n, IpAddr::V4(a), p)),
        FtpType::Eprt => try_eprt(rest, sender.is_ipv4()).map(|(n, a, p)| (0, n, a, p)),
        FtpType::Epsv => try_epsv_response(rest).map(|(n, p)| (0, n, sender, p)),
    };
    match parsed {
        Some((skip, len, addr, port)) => Found::Yes(FtpMatch {
            kind: s.kind,
            addr,
            port,
            off: i + skip,
            len,
        }),
        None => Found::Partial,
    }
}

/// `try_number`: `n` numbers separated by `sep`, ended by `term` (or by anything when `term`
/// is 0). Returns the length up to the terminator.
fn try_number(data: &[u8], n: usize, sep: u8, term: u8) -> Option<(usize, [u32; 6])> {
    let mut a = [0u32; 6];
    let mut i = 0;
    for (len, &c) in data.iter().enumerate() {
        if i >= n {
            break;
        }
        if c.is_ascii_digit() {
            a[i] = a[i].wrapping_mul(10).wrapping_add(u32::from(c - b'0'));
        } else if c == sep {
            i += 1;
        } else {
            return ((c == term || term == 0) && i == n - 1 && len > 0).then_some((len, a));
        }
    }
    None
}

/// `try_rfc959`: `h1,h2,h3,h4,p1,p2`, combined with the kernel's shifts (no range check).
fn try_rfc959(data: &[u8], term: u8) -> Option<(usize, Ipv4Addr, u16)> {
    let (len, a) = try_number(data, 6, b',', term)?;
    let ip = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
    Some((len, Ipv4Addr::from(ip), ((a[4] << 8) | a[5]) as u16))
}

/// `try_rfc1123`: the 227 reply's numbers start at its first digit (RFC 1123 4.1.2.6).
fn try_rfc1123(data: &[u8]) -> Option<(usize, usize, Ipv4Addr, u16)> {
    let skip = data.iter().position(u8::is_ascii_digit)?;
    let (len, ip, port) = try_rfc959(&data[skip..], 0)?;
    Some((skip, len, ip, port))
}

/// `get_port`: digits up to `delim`; a zero port fails. Returns the index after `delim`.
fn get_port(data: &[u8], start: usize, delim: u8) -> Option<(usize, u16)> {
    let mut port: u16 = 0;
    for (i, &c) in data.iter().enumerate().skip(start) {
        if c == delim {
            return (port != 0).then_some((i + 1, port));
        } else if c.is_ascii_digit() {
            port = port.wrapping_mul(10).wrapping_add(u16::from(c - b'0'));
        } else {
            return None;
        }
    }
    None
}

/// The delimiter rule of EPRT and EPSV: printable, not a digit.
fn bad_delim(d: u8) -> bool {
    d.is_ascii_digit() || !(33..=126).contains(&d)
}

/// `try_eprt`: `|1|132.235.1.2|6275|` (or `|2|addr|port|` on IPv6 connections).
fn try_eprt(data: &[u8], v4: bool) -> Option<(usize, IpAddr, u16)> {
    if data.len() <= 3 {
        return None;
    }
    let delim = data[0];
    if bad_delim(delim) || data[2] != delim || data[1] != if v4 { b'1' } else { b'2' } {
        return None;
    }
    let (len, addr) = if v4 {
        let (len, a) = try_number(&data[3..], 4, b'.', delim)?;
        let ip = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
        (len, IpAddr::V4(Ipv4Addr::from(ip)))
    } else {
        let (len, a) = ipv6_addr(&data[3..], delim)?;
        (len, IpAddr::V6(a))
    };
    let (end, port) = get_port(data, 3 + len + 1, delim)?;
    Some((end, addr, port))
}

/// `get_ipv6_addr` (`in6_pton` up to `term`). The text up to the delimiter must be an IPv6
/// address; the kernel's parser is approximated by the standard one (the oracle is IPv4-only).
fn ipv6_addr(data: &[u8], term: u8) -> Option<(usize, Ipv6Addr)> {
    let end = data.iter().position(|&c| c == term)?;
    let text = std::str::from_utf8(&data[..end]).ok()?;
    Some((end, text.parse().ok()?))
}

/// `try_epsv_response`: `|||6446|`.
fn try_epsv_response(data: &[u8]) -> Option<(usize, u16)> {
    if data.len() <= 3 {
        return None;
    }
    let delim = data[0];
    if bad_delim(delim) || data[1] != delim || data[2] != delim {
        return None;
    }
    get_port(data, 3, delim)
}

/// `update_nl_seq`: remember `nl_seq`; with both slots full, replace the older one if
/// `nl_seq` is newer (sequence-space comparison).
fn update_nl_seq(info: &mut FtpMaster, nl_seq: u32, d: usize) {
    let n = info.seq_aft_nl_num[d];
    if info.seq_aft_nl[d][..n].contains(&nl_seq) {
        return;
    }
    if n < NUM_SEQ_TO_REMEMBER {
        info.seq_aft_nl[d][n] = nl_seq;
        info.seq_aft_nl_num[d] = n + 1;
        return;
    }
    let [a, b] = info.seq_aft_nl[d];
    let oldest = usize::from(!before(a, b));
    if before(info.seq_aft_nl[d][oldest], nl_seq) {
        info.seq_aft_nl[d][oldest] = nl_seq;
    }
}

/// `before(a, b)`: `(s32)(a - b) < 0`.
fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

#[cfg(test)]
mod tests;
