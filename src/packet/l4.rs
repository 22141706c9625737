//! Transport headers as netfilter reads them: TCP (RFC 9293, with AccECN's AE bit), UDP, ICMP
//! (with the quoted datagram of error messages), and the ports / SPI / key of SCTP, DCCP,
//! UDP-Lite, ESP, AH and GRE (what `xt_sctp`, `xt_dccp`, `xt_esp`, `xt_ah` and the conntrack
//! l4 trackers look at).
//!
//! Invariants: views are built only when their fixed header is present (copied into an array,
//! so accessors cannot fail); variable parts (TCP options, payloads) are bounds-checked slices;
//! nothing allocates.

use super::ipv4::Ipv4;

/// Protocol numbers (IANA).
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const DCCP: u8 = 33;
    pub const GRE: u8 = 47;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const SCTP: u8 = 132;
    pub const UDPLITE: u8 = 136;
}

/// TCP flag bits of [`Tcp::flags`]: byte 13 in the low 8 bits, the AE bit and the three
/// reserved bits of byte 12 above them.
pub mod tcp_flags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    /// AccECN (RFC 9768), formerly NS.
    pub const AE: u16 = 0x100;
    pub const RESERVED: u16 = 0xe00;
}

/// Decoded transport layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4<'a> {
    Tcp(Tcp<'a>),
    Udp(Udp<'a>),
    Icmp(Icmp<'a>),
    Sctp {
        sport: u16,
        dport: u16,
        vtag: Option<u32>,
        first_chunk: Option<u8>,
    },
    /// `kind` is the DCCP packet type (RFC 4340 §5.1), when the generic header is present.
    Dccp {
        sport: u16,
        dport: u16,
        kind: Option<u8>,
    },
    UdpLite {
        sport: u16,
        dport: u16,
    },
    Esp {
        spi: u32,
    },
    Ah {
        spi: u32,
        next: u8,
    },
    /// `key` is the GRE key (for PPTP's enhanced GRE v1: payload length and call id).
    Gre {
        flags_version: u16,
        proto: u16,
        key: Option<u32>,
    },
    /// A protocol without a decoder here.
    Other,
    /// A fragment with a non-zero offset: it carries no transport header.
    NonFirstFragment,
    /// Fewer bytes than the protocol's fixed header.
    Truncated {
        proto: u8,
        have: usize,
    },
}

impl L4<'_> {
    /// Source and destination ports, for the protocols that have them.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match *self {
            L4::Tcp(t) => Some((t.sport(), t.dport())),
            L4::Udp(u) => Some((u.sport(), u.dport())),
            L4::Sctp { sport, dport, .. }
            | L4::Dccp { sport, dport, .. }
            | L4::UdpLite { sport, dport } => Some((sport, dport)),
            _ => None,
        }
    }
}

fn be16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(off)?, *b.get(off + 1)?]))
}

fn be32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Decodes the transport header of protocol `proto` from `data` (the IP payload). `data` is
/// assumed to start at the transport header (not a non-first fragment: the caller checks).
pub fn decode(proto: u8, data: &[u8]) -> L4<'_> {
    let truncated = L4::Truncated {
        proto,
        have: data.len(),
    };
    let ports = || Some((be16(data, 0)?, be16(data, 2)?));
    match proto {
        proto::TCP => Tcp::new(data).map_or(truncated, L4::Tcp),
        proto::UDP => Udp::new(data).map_or(truncated, L4::Udp),
        proto::ICMP => Icmp::new(data).map_or(truncated, L4::Icmp),
        proto::SCTP => ports().map_or(truncated, |(sport, dport)| L4::Sctp {
            sport,
            dport,
            vtag: be32(data, 4),
            first_chunk: data.get(12).copied(),
        }),
        proto::DCCP => ports().map_or(truncated, |(sport, dport)| L4::Dccp {
            sport,
            dport,
            kind: (data.len() >= 12)
                .then(|| data.get(8).map(|b| (b >> 1) & 0x0f))
                .flatten(),
        }),
        proto::UDPLITE => ports().map_or(truncated, |(sport, dport)| L4::UdpLite { sport, dport }),
        proto::ESP => be32(data, 0).map_or(truncated, |spi| L4::Esp { spi }),
        proto::AH => match (data.first(), be32(data, 4)) {
            (Some(&next), Some(spi)) => L4::Ah { spi, next },
            _ => truncated,
        },
        proto::GRE => gre(data).unwrap_or(truncated),
        _ => L4::Other,
    }
}

/// GRE (RFC 2784/2890; RFC 2637 for version 1): the key follows the optional checksum word.
fn gre(data: &[u8]) -> Option<L4<'_>> {
    let flags_version = be16(data, 0)?;
    let proto = be16(data, 2)?;
    let key_off = if flags_version & 0x8000 != 0 { 8 } else { 4 };
    let key = if flags_version & 0x2000 != 0 {
        be32(data, key_off)
    } else {
        None
    };
    Some(L4::Gre {
        flags_version,
        proto,
        key,
    })
}

/// TCP header view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tcp<'a> {
    hdr: [u8; 20],
    bytes: &'a [u8],
}

impl<'a> Tcp<'a> {
    /// Needs the 20-byte fixed header; the data offset is checked by [`Tcp::header_ok`].
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        Some(Tcp {
            hdr: bytes.get(..20)?.try_into().ok()?,
            bytes,
        })
    }
    pub fn sport(&self) -> u16 {
        u16::from_be_bytes([self.hdr[0], self.hdr[1]])
    }
    pub fn dport(&self) -> u16 {
        u16::from_be_bytes([self.hdr[2], self.hdr[3]])
    }
    pub fn seq(&self) -> u32 {
        u32::from_be_bytes([self.hdr[4], self.hdr[5], self.hdr[6], self.hdr[7]])
    }
    pub fn ack(&self) -> u32 {
        u32::from_be_bytes([self.hdr[8], self.hdr[9], self.hdr[10], self.hdr[11]])
    }
    /// Data offset in 32-bit words.
    pub fn doff(&self) -> u8 {
        self.hdr[12] >> 4
    }
    pub fn header_len(&self) -> usize {
        usize::from(self.doff()) * 4
    }
    /// The data offset is at least 5 and within the segment (`tcp_error`'s "truncated packet").
    pub fn header_ok(&self) -> bool {
        self.header_len() >= 20 && self.header_len() <= self.bytes.len()
    }
    /// All 12 flag bits, see [`tcp_flags`].
    pub fn flags(&self) -> u16 {
        (u16::from(self.hdr[12] & 0x0f) << 8) | u16::from(self.hdr[13])
    }
    /// Byte 13 alone (FIN..CWR), what `--tcp-flags` and the summary use.
    pub fn flags8(&self) -> u8 {
        self.hdr[13]
    }
    pub fn has(&self, flag: u16) -> bool {
        self.flags() & flag != 0
    }
    pub fn window(&self) -> u16 {
        u16::from_be_bytes([self.hdr[14], self.hdr[15]])
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.hdr[16], self.hdr[17]])
    }
    pub fn urgent(&self) -> u16 {
        u16::from_be_bytes([self.hdr[18], self.hdr[19]])
    }
    /// Option bytes (empty unless the data offset is valid).
    pub fn option_bytes(&self) -> &'a [u8] {
        if !self.header_ok() {
            return &[];
        }
        self.bytes.get(20..self.header_len()).unwrap_or(&[])
    }
    /// The options, parsed as `tcp_parse_options` does.
    pub fn options(&self) -> TcpOptions<'a> {
        TcpOptions {
            rest: self.option_bytes(),
        }
    }
    /// Payload after the header (empty when the data offset is invalid).
    pub fn payload(&self) -> &'a [u8] {
        if !self.header_ok() {
            return &[];
        }
        self.bytes.get(self.header_len()..).unwrap_or(&[])
    }
    /// The whole segment (header and payload).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// One TCP option. Known kinds with a wrong length come out as [`TcpOption::Other`], because
/// the kernel (`tcp_parse_options`, conntrack's `tcp_options`) ignores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    /// SACK blocks as raw bytes, 8 per block; see [`sack_blocks`].
    Sack(&'a [u8]),
    Timestamp {
        val: u32,
        ecr: u32,
    },
    Other {
        kind: u8,
        data: &'a [u8],
    },
}

/// The (left, right) edges of a SACK option's blocks.
pub fn sack_blocks(raw: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    raw.chunks_exact(8)
        .filter_map(|c| Some((be32(c, 0)?, be32(c, 4)?)))
}

/// Iterator over TCP options; stops at End of Option List or at a malformed length
/// (`opsize < 2` or past the header: "don't parse partial options").
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = TcpOption<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&kind, after) = self.rest.split_first()?;
            match kind {
                0 => {
                    self.rest = &[];
                    return None;
                }
                1 => {
                    self.rest = after;
                    continue;
                }
                _ => {}
            }
            let size = usize::from(*after.first()?);
            let Some(data) = self.rest.get(2..size).filter(|_| size >= 2) else {
                self.rest = &[];
                return None;
            };
            self.rest = self.rest.get(size..).unwrap_or(&[]);
            return Some(match (kind, data.len()) {
                (2, 2) => TcpOption::Mss(be16(data, 0).unwrap_or(0)),
                (3, 1) => TcpOption::WindowScale(data.first().copied().unwrap_or(0)),
                (4, 0) => TcpOption::SackPermitted,
                (5, n) if n >= 8 && n % 8 == 0 => TcpOption::Sack(data),
                (8, 8) => TcpOption::Timestamp {
                    val: be32(data, 0).unwrap_or(0),
                    ecr: be32(data, 4).unwrap_or(0),
                },
                _ => TcpOption::Other { kind, data },
            });
        }
    }
}

/// UDP header view (RFC 768).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udp<'a> {
    hdr: [u8; 8],
    bytes: &'a [u8],
}

impl<'a> Udp<'a> {
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        Some(Udp {
            hdr: bytes.get(..8)?.try_into().ok()?,
            bytes,
        })
    }
    pub fn sport(&self) -> u16 {
        u16::from_be_bytes([self.hdr[0], self.hdr[1]])
    }
    pub fn dport(&self) -> u16 {
        u16::from_be_bytes([self.hdr[2], self.hdr[3]])
    }
    /// The length field (header included).
    pub fn length(&self) -> u16 {
        u16::from_be_bytes([self.hdr[4], self.hdr[5]])
    }
    /// `udp_error`'s check: `8 <= length <= bytes after the IP header`.
    pub fn length_ok(&self) -> bool {
        let l = usize::from(self.length());
        l >= 8 && l <= self.bytes.len()
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.hdr[6], self.hdr[7]])
    }
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(8..).unwrap_or(&[])
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// ICMP message view (RFC 792).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmp<'a> {
    hdr: [u8; 4],
    bytes: &'a [u8],
}

impl<'a> Icmp<'a> {
    /// Needs type, code and checksum; id/sequence are read only when present.
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        Some(Icmp {
            hdr: bytes.get(..4)?.try_into().ok()?,
            bytes,
        })
    }
    pub fn kind(&self) -> u8 {
        self.hdr[0]
    }
    pub fn code(&self) -> u8 {
        self.hdr[1]
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.hdr[2], self.hdr[3]])
    }
    /// Echo (0, 8), timestamp (13, 14), information (15, 16) and address mask (17, 18)
    /// messages carry an identifier and a sequence number.
    pub fn is_query(&self) -> bool {
        matches!(self.kind(), 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18)
    }
    /// Error messages quote the offending datagram (`icmp_is_err`: 3, 4, 5, 11, 12).
    pub fn is_error(&self) -> bool {
        matches!(self.kind(), 3 | 4 | 5 | 11 | 12)
    }
    /// (identifier, sequence) of a query message with its 8-byte header present.
    pub fn id_seq(&self) -> Option<(u16, u16)> {
        if !self.is_query() {
            return None;
        }
        Some((be16(self.bytes, 4)?, be16(self.bytes, 6)?))
    }
    /// The quoted datagram of an error message: its IPv4 header and what follows it.
    pub fn quoted(&self) -> Option<Quoted<'a>> {
        if !self.is_error() {
            return None;
        }
        let inner = self.bytes.get(8..)?;
        let ip = Ipv4::new(inner)?;
        // Trimmed to the quoted total length: RFC 4884 extensions may follow the datagram.
        let l4 = ip.bytes().get(ip.header_len().max(20)..).unwrap_or(&[]);
        Some(Quoted { ip, l4 })
    }
    /// Everything after the 4-byte type/code/checksum.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes.get(4..).unwrap_or(&[])
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// The datagram an ICMP error quotes: the inner IPv4 header (possibly cut short) and the bytes
/// of its transport header that were quoted (RFC 792 guarantees 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted<'a> {
    pub ip: Ipv4<'a>,
    pub l4: &'a [u8],
}

impl<'a> Quoted<'a> {
    /// The quoted transport header decoded with what was quoted (a TCP header is usually cut
    /// to 8 bytes: then only [`Quoted::ports`] and the sequence number are known).
    pub fn l4(&self) -> L4<'a> {
        if self.ip.frag_offset() != 0 {
            return L4::NonFirstFragment;
        }
        decode(self.ip.proto(), self.l4)
    }
    /// Ports of a quoted TCP/UDP/SCTP/DCCP/UDP-Lite header (needs its first 4 bytes).
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.ip.proto() {
            proto::TCP | proto::UDP | proto::SCTP | proto::DCCP | proto::UDPLITE => {
                Some((be16(self.l4, 0)?, be16(self.l4, 2)?))
            }
            _ => None,
        }
    }
    /// Type, code and identifier of a quoted ICMP query.
    pub fn icmp(&self) -> Option<(u8, u8, u16)> {
        if self.ip.proto() != proto::ICMP {
            return None;
        }
        Some((*self.l4.first()?, *self.l4.get(1)?, be16(self.l4, 4)?))
    }
    /// Sequence number of a quoted TCP header (bytes 4..8).
    pub fn tcp_seq(&self) -> Option<u32> {
        (self.ip.proto() == proto::TCP)
            .then(|| be32(self.l4, 4))
            .flatten()
    }
}

#[cfg(test)]
mod tests;
