//! The plain frame: Ethernet II without VLAN tags, carrying a whole, well-formed IPv4 TCP or
//! UDP packet. Nearly every record of a capture has this shape, and the established-flow lane
//! needs only a few of its fields, so [`plain`] reads them in one pass over fixed offsets
//! instead of building a [`Packet`](super::Packet).
//!
//! Invariant: for every frame [`plain`] accepts, [`decode_link`](super::decode_link) gives a
//! packet with no [`Malformed`](super::Malformed) problem, not a fragment, whose IPv4 bytes,
//! transport header and packet type are the ones [`Plain`] reports. Frames of any other shape
//! (other link types, VLAN tags, fragments, IP options are fine but a bad length is not,
//! protocols other than TCP and UDP) get `None` and go the general way. The differential test
//! below holds the two decoders to this on mutated frames.

use super::checksum;
use super::l4::proto::{TCP, UDP};
use super::link::{linktype, PktType};

/// EtherType of IPv4.
const ETH_P_IP: [u8; 2] = [0x08, 0x00];
/// Ethernet II header length (two MACs and the EtherType).
const ETH_HLEN: usize = 14;
/// MF and the fragment offset: a fragment has either (`ip_is_fragment`).
const IP_FRAGMENT: u16 = 0x3fff;

/// The transport of a plain frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainL4 {
    /// TCP with a data offset of at least 5 words, within the segment.
    Tcp,
    /// UDP whose length field is at least 8 and within the datagram.
    Udp,
}

/// The fixed transport header's fields, read once by [`plain`]; zero where the protocol has
/// no such field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlainHead {
    pub sport: u16,
    pub dport: u16,
    /// TCP: sequence and acknowledgment numbers, window, flags byte (FIN..CWR) and data
    /// offset (in 32-bit words).
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub flags: u8,
    pub doff: u8,
    /// UDP: the length field.
    pub udp_len: u16,
}

/// The fields of a plain frame, borrowed from the capture record.
///
/// The headers are referenced in place as fixed-size arrays (a field is one load at a
/// constant offset, with no bounds check) and the transport fields decoded once: copying
/// the headers into byte arrays made the compiler keep forty single bytes and reassemble
/// each field from them, for every packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plain<'a> {
    /// The IPv4 packet trimmed to its total length (what `Ipv4::bytes` gives): link padding
    /// never reaches the checksums or the transport.
    pub ip: &'a [u8],
    /// The fixed IPv4 header.
    hdr: &'a [u8; 20],
    /// IHL × 4, at least 20.
    header_len: usize,
    /// The transport header and data (`ip` from `header_len` on), sliced once: the lane asks
    /// for it three times.
    payload: &'a [u8],
    /// From the destination MAC, as `eth_type_trans` classifies it.
    pub pkttype: PktType,
    pub l4: PlainL4,
    pub head: PlainHead,
}

/// The plain frame in `data` of link type `link`, if it is one (see the module docs).
pub fn plain(link: u32, data: &[u8]) -> Option<Plain<'_>> {
    if link != linktype::ETHERNET || data.get(12..ETH_HLEN)? != ETH_P_IP {
        return None;
    }
    let dst_mac: [u8; 6] = data.get(..6)?.try_into().ok()?;
    let ip = data.get(ETH_HLEN..)?;
    let fixed: &[u8; 20] = ip.get(..20)?.try_into().ok()?;
    let header_len = usize::from(fixed[0] & 0x0f) * 4;
    let total = usize::from(be16(fixed, 2));
    let fragment = be16(fixed, 6) & IP_FRAGMENT != 0;
    // ip_rcv_core's checks (version, IHL, lengths) and `ip_is_fragment`.
    if fixed[0] >> 4 != 4 || header_len < 20 || total < header_len || fragment {
        return None;
    }
    let ip = ip.get(..total)?;
    let payload = ip.get(header_len..)?;
    let (l4, head) = match fixed[9] {
        TCP => {
            let t: &[u8; 20] = payload.get(..20)?.try_into().ok()?;
            let doff = t[12] >> 4;
            let fits = doff >= 5 && usize::from(doff) * 4 <= payload.len();
            let head = PlainHead {
                sport: be16(t, 0),
                dport: be16(t, 2),
                seq: be32(t, 4),
                ack: be32(t, 8),
                window: be16(t, 14),
                flags: t[13],
                doff,
                udp_len: 0,
            };
            (fits.then_some(PlainL4::Tcp)?, head)
        }
        UDP => {
            let u: &[u8; 8] = payload.get(..8)?.try_into().ok()?;
            let len = be16(u, 4);
            let fits = len >= 8 && usize::from(len) <= payload.len();
            let head = PlainHead {
                sport: be16(u, 0),
                dport: be16(u, 2),
                udp_len: len,
                ..PlainHead::default()
            };
            (fits.then_some(PlainL4::Udp)?, head)
        }
        _ => return None,
    };
    Some(Plain {
        ip,
        hdr: fixed,
        header_len,
        payload,
        pkttype: PktType::from_dst_mac(dst_mac),
        l4,
        head,
    })
}

/// The big-endian 16-bit field at `at` of a fixed-size header.
fn be16<const N: usize>(b: &[u8; N], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// The big-endian 32-bit field at `at` of a fixed-size header.
fn be32<const N: usize>(b: &[u8; N], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<'a> Plain<'a> {
    /// Source address, as a number.
    pub fn src(&self) -> u32 {
        be32(self.hdr, 12)
    }
    /// Destination address, as a number.
    pub fn dst(&self) -> u32 {
        be32(self.hdr, 16)
    }
    pub fn ttl(&self) -> u8 {
        self.hdr[8]
    }
    pub fn proto(&self) -> u8 {
        self.hdr[9]
    }
    pub fn total_len(&self) -> u16 {
        be16(self.hdr, 2)
    }
    /// The transport header and data.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// The TCP options (bytes 20 to the data offset of the segment); empty for UDP.
    pub fn tcp_options(&self) -> &'a [u8] {
        let end = usize::from(self.head.doff) * 4;
        self.payload().get(20..end).unwrap_or_default()
    }
    /// The IPv4 header checksum verifies (`ip_fast_csum`).
    pub fn header_checksum_ok(&self) -> bool {
        // The fixed part in place; options (rare) from the packet.
        let options = self.ip.get(20..self.header_len).unwrap_or(&[]);
        checksum::header_verifies_split(self.hdr, options)
    }
    /// Whether the transport checksum verifies, as `Packet::l4_checksum_ok` computes it for
    /// TCP and UDP (a UDP checksum of 0 means none was sent).
    pub fn l4_checksum_ok(&self) -> bool {
        let data = self.payload();
        if self.l4 == PlainL4::Udp && data.get(6..8) == Some(&[0, 0]) {
            return true;
        }
        let h = self.hdr;
        let addrs = [h[12], h[13], h[14], h[15], h[16], h[17], h[18], h[19]];
        checksum::segment_verifies(addrs, self.proto(), data)
    }
    /// Source and destination port.
    pub fn ports(&self) -> (u16, u16) {
        (self.head.sport, self.head.dport)
    }
    /// The TCP flags byte (FIN..CWR), 0 for UDP.
    pub fn tcp_flags(&self) -> u8 {
        self.head.flags
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::packet::{decode_link, L4};

    /// An Ethernet frame around an IPv4 header with `ihl` words (right checksum) and the
    /// transport bytes `l4`, then `pad` bytes of Ethernet padding.
    pub(crate) fn frame(proto: u8, ihl: u8, l4: &[u8], pad: usize) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 0x10, 2, 0, 0, 0, 0, 0x20, 0x08, 0x00];
        let total = usize::from(ihl) * 4 + l4.len();
        let mut ip = vec![0x40 | ihl, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
        ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        ip.extend_from_slice(&[10, 0, 0, 1, 10, 1, 0, 2]);
        ip.resize(usize::from(ihl) * 4, 1);
        let ck = checksum::finish(checksum::sum(&ip, 0));
        ip[10..12].copy_from_slice(&ck.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(l4);
        f.resize(f.len() + pad, 0);
        f
    }

    fn tcp_segment() -> Vec<u8> {
        let mut t = vec![
            0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x12, 0xff, 0xff,
        ];
        t.extend_from_slice(&[0, 0, 0, 0, 2, 4, 5, 0xb4, b'h', b'i']);
        t
    }

    fn udp_datagram() -> Vec<u8> {
        vec![0x30, 0x39, 0, 53, 0, 10, 0, 0, 1, 2]
    }

    /// The general decoder agrees with `plain` on everything `plain` accepts, and `plain`
    /// accepts what the lane could take.
    fn agree(link: u32, data: &[u8]) {
        let fast = plain(link, data);
        let slow = decode_link(link, data).ok();
        let Some(p) = fast else {
            let lane_shaped = slow.is_some_and(|s| {
                s.problem.is_none()
                    && !s.ip.is_fragment()
                    && s.l2.vlans.as_slice().is_empty()
                    && link == linktype::ETHERNET
                    && matches!(s.l4, L4::Tcp(_) | L4::Udp(_))
            });
            assert!(
                !lane_shaped,
                "plain refused a lane-shaped frame {data:02x?}"
            );
            return;
        };
        let s = slow.unwrap_or_else(|| panic!("plain accepted an undecodable {data:02x?}"));
        assert!(s.problem.is_none() && !s.ip.is_fragment(), "{data:02x?}");
        assert_eq!(p.ip, s.ip.bytes());
        assert_eq!(
            (p.src(), p.dst()),
            (u32::from(s.ip.src()), u32::from(s.ip.dst()))
        );
        assert_eq!(
            (p.ttl(), p.proto(), p.total_len()),
            (s.ip.ttl(), s.ip.proto(), s.ip.total_len())
        );
        assert_eq!(p.payload(), s.ip.payload());
        assert_eq!(p.header_checksum_ok(), s.ip_checksum_ok());
        assert_eq!(Some(p.l4_checksum_ok()), s.l4_checksum_ok());
        assert_eq!(Some(p.ports()), s.ports());
        assert_eq!(Some(p.pkttype), s.l2.pkttype);
        match (p.l4, &s.l4) {
            (PlainL4::Tcp, L4::Tcp(t)) => {
                assert!(t.header_ok());
                assert_eq!(p.tcp_flags(), t.flags8());
            }
            (PlainL4::Udp, L4::Udp(_)) => assert_eq!(p.tcp_flags(), 0),
            other => panic!("transport differs: {other:?}"),
        }
    }

    #[test]
    fn accepts_tcp_and_udp_like_decode() {
        for (proto, l4) in [(TCP, tcp_segment()), (UDP, udp_datagram())] {
            for ihl in [5, 6, 15] {
                for pad in [0, 1, 18] {
                    let f = frame(proto, ihl, &l4, pad);
                    assert!(plain(linktype::ETHERNET, &f).is_some());
                    agree(linktype::ETHERNET, &f);
                }
            }
        }
    }

    #[test]
    fn agrees_with_decode_on_every_mutation() {
        // Every byte of the headers through every value that changes a decision, and every
        // truncation: lengths, IHL, data offset, fragment bits, version, EtherType, protocol,
        // checksum, MAC group bit.
        for base in [
            frame(TCP, 5, &tcp_segment(), 4),
            frame(UDP, 6, &udp_datagram(), 0),
        ] {
            for cut in 0..=base.len() {
                agree(linktype::ETHERNET, &base[..cut]);
            }
            for at in 0..base.len().min(14 + 24 + 20) {
                for v in [
                    0u8, 1, 2, 4, 5, 8, 0x0f, 0x10, 0x20, 0x40, 0x45, 0x50, 0x60, 0x80, 0xf0, 0xff,
                ] {
                    let mut f = base.clone();
                    f[at] = v;
                    agree(linktype::ETHERNET, &f);
                    agree(linktype::RAW, &f[14..]);
                }
            }
        }
    }

    #[test]
    fn refuses_other_shapes() {
        let tcp = tcp_segment();
        let mut vlan = frame(TCP, 5, &tcp, 0);
        vlan.splice(12..12, [0x81, 0x00, 0, 7]);
        assert_eq!(plain(linktype::ETHERNET, &vlan), None);
        let mut frag = frame(TCP, 5, &tcp, 0);
        frag[14 + 6] = 0x20; // MF
        assert_eq!(plain(linktype::ETHERNET, &frag), None);
        assert_eq!(
            plain(
                linktype::ETHERNET,
                &frame(1, 5, &[8, 0, 0, 0, 0, 0, 0, 0], 0)
            ),
            None
        );
        let f = frame(TCP, 5, &tcp, 0);
        assert_eq!(plain(linktype::RAW, &f[14..]), None);
    }
}
