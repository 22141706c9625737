//! From a captured frame to a [`Packet`]: the zero-copy view of everything netfilter matches
//! on (L2 facts, IPv4 header, transport header, fragment state) plus what the kernel would
//! reject the packet for before or inside conntrack.
//!
//! Invariants: decoding never allocates and never panics; a frame without an IPv4 packet is a
//! [`Skip`] (reported as `{"index":N,"skipped":"<reason>"}`), a version-4 packet with a broken
//! header still decodes (the oracle injects it; the kernel then drops it in `ip_rcv_core`) and
//! carries the first problem found in [`Packet::problem`]. Checks follow `ip_rcv_core` (IHL,
//! header present, total length vs captured bytes), `tcp_error` (data offset), `udp_error`
//! (length field); checksums are computed on demand by [`Packet::l4_checksum_ok`] and
//! [`Packet::ip_checksum_ok`] because the kernel only looks at them in PREROUTING with
//! `nf_conntrack_checksum=1`.

use std::fmt;

use super::capture::Frame;
use super::checksum;
use super::ipv4::Ipv4;
use super::l4::{self, proto, Icmp, Tcp, Udp, L4};
use super::link::{self, Skip, L2};

/// What makes a decoded IPv4 packet invalid for the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// IHL below 5 (`ip_rcv_core`: `iph->ihl < 5`).
    IhlTooSmall(u8),
    /// Fewer bytes than IHL says (`pskb_may_pull(skb, iph->ihl*4)` fails).
    HeaderTruncated { header: usize, captured: usize },
    /// Total length beyond the captured bytes (`skb->len < len`; also a snaplen cut).
    TotalLengthExceedsCaptured { total: u16, captured: usize },
    /// Total length smaller than the header (`len < iph->ihl*4`).
    TotalLengthBelowHeader { total: u16, header: usize },
    /// Fewer bytes than the transport protocol's fixed header.
    L4Truncated { proto: u8, have: usize },
    /// TCP data offset below 5 or past the segment (`tcp_error`: "truncated packet").
    TcpDataOffset { doff: u8, have: usize },
    /// UDP length field below 8 or past the datagram (`udp_error`: "truncated/malformed").
    UdpLength { length: u16, have: usize },
    /// UDP-Lite checksum coverage (the length field) non-zero and below 8 or past the datagram
    /// (`udplite_error`: "invalid checksum coverage").
    UdpLiteCoverage { coverage: u16, have: usize },
    /// UDP-Lite checksum 0 (`udplite_error`: "checksum missing"; UDP-Lite mandates it).
    UdpLiteNoChecksum,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::IhlTooSmall(ihl) => write!(f, "IPv4 IHL {ihl} < 5"),
            Malformed::HeaderTruncated { header, captured } => {
                write!(
                    f,
                    "IPv4 header of {header} bytes but only {captured} captured"
                )
            }
            Malformed::TotalLengthExceedsCaptured { total, captured } => {
                write!(
                    f,
                    "IPv4 total length {total} exceeds the {captured} captured bytes"
                )
            }
            Malformed::TotalLengthBelowHeader { total, header } => {
                write!(
                    f,
                    "IPv4 total length {total} is below the header length {header}"
                )
            }
            Malformed::L4Truncated { proto, have } => {
                write!(f, "protocol {proto} header truncated ({have} bytes)")
            }
            Malformed::TcpDataOffset { doff, have } => {
                write!(
                    f,
                    "TCP data offset {doff} invalid for a {have}-byte segment"
                )
            }
            Malformed::UdpLength { length, have } => {
                write!(f, "UDP length {length} invalid for a {have}-byte datagram")
            }
            Malformed::UdpLiteCoverage { coverage, have } => {
                write!(
                    f,
                    "UDP-Lite checksum coverage {coverage} invalid for a {have}-byte datagram"
                )
            }
            Malformed::UdpLiteNoChecksum => f.write_str("UDP-Lite checksum missing"),
        }
    }
}

/// A decoded IPv4 packet, borrowing the frame (or reassembly) buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub l2: L2,
    pub ip: Ipv4<'a>,
    pub l4: L4<'a>,
    /// The first reason the kernel would treat this packet as malformed, if any.
    pub problem: Option<Malformed>,
}

/// Decodes a capture record.
pub fn decode<'a>(frame: &Frame<'a>) -> Result<Packet<'a>, Skip> {
    decode_link(frame.linktype, frame.data)
}

/// Decodes `data` framed by link type `linktype`.
pub fn decode_link(linktype: u32, data: &[u8]) -> Result<Packet<'_>, Skip> {
    let (l2, ip) = link::strip(linktype, data)?;
    decode_ipv4(l2, ip)
}

/// [`decode_link`] of an Ethernet frame `data` that [`plain`](fn@super::plain) accepted, whose
/// IPv4 packet is `ip` (its [`Plain::ip`](super::Plain)). Such a frame has no VLAN tag (the
/// EtherType at 12 is IPv4), so the link header is read at its fixed offsets, and `ip` is
/// already what [`Ipv4::new`] trims the rest of the frame to: the packet is the same.
/// By the invariant of [`plain`](fn@super::plain), such a packet has no problem and is no
/// fragment, so neither `ip_rcv_core`'s nor the transport checks are made again.
pub fn decode_plain<'a>(data: &[u8], ip: &'a [u8]) -> Result<Packet<'a>, Skip> {
    let mac = |at: usize| -> Option<[u8; 6]> { data.get(at..at + 6)?.try_into().ok() };
    let dst_mac = mac(0);
    let l2 = L2 {
        linktype: link::linktype::ETHERNET,
        src_mac: mac(6),
        dst_mac,
        pkttype: dst_mac.map(link::PktType::from_dst_mac),
        ethertype: Some(0x0800),
        ..L2::default()
    };
    let ip = Ipv4::new(ip).ok_or(Skip::BadIpv4Header)?;
    let pkt = Ok(Packet {
        l2,
        ip,
        l4: l4::decode(ip.proto(), ip.payload()),
        problem: None,
    });
    debug_assert_eq!(pkt, decode_link(link::linktype::ETHERNET, data));
    pkt
}

/// Decodes an IPv4 packet (e.g. a reassembled datagram) with the given L2 facts.
pub fn decode_ipv4(l2: L2, bytes: &[u8]) -> Result<Packet<'_>, Skip> {
    let ip = Ipv4::new(bytes).ok_or(Skip::BadIpv4Header)?;
    let mut problem = ip_problem(&ip, bytes.len());
    let l4 = if ip.frag_offset() != 0 {
        L4::NonFirstFragment
    } else if ip.ihl() < 5 || ip.header_len() > bytes.len() {
        L4::Truncated {
            proto: ip.proto(),
            have: 0,
        }
    } else {
        l4::decode(ip.proto(), ip.payload())
    };
    // Transport-level checks only make sense on a whole datagram.
    if problem.is_none() && !ip.is_fragment() {
        problem = l4_problem(&l4, ip.payload());
    }
    Ok(Packet {
        l2,
        ip,
        l4,
        problem,
    })
}

/// The checks of `ip_rcv_core`, in its order.
fn ip_problem(ip: &Ipv4<'_>, captured: usize) -> Option<Malformed> {
    let header = ip.header_len();
    let total = ip.total_len();
    if ip.ihl() < 5 {
        Some(Malformed::IhlTooSmall(ip.ihl()))
    } else if header > captured {
        Some(Malformed::HeaderTruncated { header, captured })
    } else if usize::from(total) > captured {
        Some(Malformed::TotalLengthExceedsCaptured { total, captured })
    } else if usize::from(total) < header {
        Some(Malformed::TotalLengthBelowHeader { total, header })
    } else {
        None
    }
}

fn l4_problem(l4: &L4<'_>, payload: &[u8]) -> Option<Malformed> {
    match *l4 {
        L4::Truncated { proto, have } => Some(Malformed::L4Truncated { proto, have }),
        L4::Tcp(t) if !t.header_ok() => Some(Malformed::TcpDataOffset {
            doff: t.doff(),
            have: t.bytes().len(),
        }),
        L4::Udp(u) if !u.length_ok() => Some(Malformed::UdpLength {
            length: u.length(),
            have: u.bytes().len(),
        }),
        L4::UdpLite { .. } => udplite_problem(payload),
        _ => None,
    }
}

/// `udplite_error`'s header checks: coverage (the length field, 0 = everything) within the
/// datagram and at least the header, and a non-zero checksum.
fn udplite_problem(payload: &[u8]) -> Option<Malformed> {
    let Some(Ok(h)) = payload.get(..8).map(<[u8; 8]>::try_from) else {
        return Some(Malformed::L4Truncated {
            proto: proto::UDPLITE,
            have: payload.len(),
        });
    };
    let coverage = u16::from_be_bytes([h[4], h[5]]);
    if coverage != 0 && (coverage < 8 || usize::from(coverage) > payload.len()) {
        return Some(Malformed::UdpLiteCoverage {
            coverage,
            have: payload.len(),
        });
    }
    (h[6] == 0 && h[7] == 0).then_some(Malformed::UdpLiteNoChecksum)
}

impl<'a> Packet<'a> {
    pub fn tcp(&self) -> Option<&Tcp<'a>> {
        match &self.l4 {
            L4::Tcp(t) => Some(t),
            _ => None,
        }
    }
    pub fn udp(&self) -> Option<&Udp<'a>> {
        match &self.l4 {
            L4::Udp(u) => Some(u),
            _ => None,
        }
    }
    pub fn icmp(&self) -> Option<&Icmp<'a>> {
        match &self.l4 {
            L4::Icmp(i) => Some(i),
            _ => None,
        }
    }
    /// Source and destination ports, when the transport header has them.
    pub fn ports(&self) -> Option<(u16, u16)> {
        self.l4.ports()
    }
    /// MF set or non-zero offset: defragmentation must see it before raw PREROUTING.
    pub fn is_fragment(&self) -> bool {
        self.ip.is_fragment()
    }
    /// The IPv4 header checksum verifies (`ip_rcv_core` drops the packet otherwise).
    pub fn ip_checksum_ok(&self) -> bool {
        self.ip.header_checksum_ok()
    }

    /// Whether the transport checksum verifies, as conntrack checks it in PREROUTING
    /// (`nf_ip_checksum` for TCP/UDP/ICMP, `nf_checksum_partial` for UDP-Lite,
    /// `sctp_compute_cksum` for SCTP; DCCP is no longer tracked by Linux). `None` when the
    /// kernel would not compute it: fragments, malformed packets, UDP with checksum 0 counts as
    /// `Some(true)` ("packet with no checksum"), other protocols. One pass over the payload.
    pub fn l4_checksum_ok(&self) -> Option<bool> {
        if self.is_fragment() || self.problem.is_some() {
            return None;
        }
        let data = self.ip.payload();
        let pseudo =
            |p| checksum::pseudo_header(self.ip.src(), self.ip.dst(), p, data.len() as u32);
        match self.l4 {
            L4::Tcp(_) => Some(checksum::verifies(data, pseudo(proto::TCP))),
            L4::Udp(u) if u.checksum() == 0 => Some(true),
            L4::Udp(_) => Some(checksum::verifies(data, pseudo(proto::UDP))),
            L4::Icmp(_) => Some(checksum::verifies(data, 0)),
            L4::UdpLite { .. } => {
                // udplite_error passes IPPROTO_UDP, not IPPROTO_UDPLITE, to
                // nf_checksum_partial: the kernel verifies the pseudo-header with protocol 17
                // (checked against Linux 6.18: an RFC 3828 checksum is INVALID there).
                let cov = data
                    .get(4..6)
                    .map_or(0, |c| u16::from_be_bytes([c[0], c[1]]));
                let covered = if cov == 0 {
                    data
                } else {
                    data.get(..usize::from(cov))?
                };
                Some(checksum::verifies(covered, pseudo(proto::UDP)))
            }
            L4::Sctp { .. } => {
                let wire: [u8; 4] = data.get(8..12)?.try_into().ok()?;
                Some(u32::from_le_bytes(wire) == checksum::sctp_crc32c(data))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
