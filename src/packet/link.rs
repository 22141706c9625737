//! Link layers: finds the IPv4 header inside a captured frame and records the L2 facts that
//! netfilter matches on (`-m mac` source MAC, `-m pkttype`, VLAN tags).
//!
//! Invariants: no allocation; every length is checked before use; a frame that holds no IPv4
//! packet yields a [`Skip`] whose text is the one the kernel oracle prints for the same frame
//! (`extract_ipv4` in shared/oracle/kernel_oracle.py: "short frame", "not IPv4",
//! "ethertype 0x86dd", "bad IPv4 header", "unsupported linktype N"). Link types the oracle does
//! not read (PPP, NFLOG, LOOP, LINKTYPE_IPV6) are decoded here with the same wording.

use std::fmt;

/// LINKTYPE_* values (<https://www.tcpdump.org/linktypes.html>).
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const PPP: u32 = 9;
    /// DLT_RAW on some BSDs (12 and 14 both appear in old files).
    pub const RAW_BSD12: u32 = 12;
    pub const RAW_BSD14: u32 = 14;
    pub const RAW: u32 = 101;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const NFLOG: u32 = 239;
    pub const LINUX_SLL2: u32 = 276;
}

const ETH_P_IP: u16 = 0x0800;
const ETH_P_8021Q: u16 = 0x8100;
const ETH_P_8021AD: u16 = 0x88a8;
/// VLAN tags kept per frame; deeper stacks are still walked, and counted in `Vlans::extra`.
pub const MAX_VLANS: usize = 4;

/// Why a frame carries no IPv4 packet to evaluate. Display gives the oracle's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    ShortFrame,
    NotIpv4,
    EtherType(u16),
    BadIpv4Header,
    UnsupportedLinktype(u32),
    PppProtocol(u16),
    NflogNoPayload,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::ShortFrame => f.write_str("short frame"),
            Skip::NotIpv4 => f.write_str("not IPv4"),
            Skip::EtherType(t) => write!(f, "ethertype 0x{t:04x}"),
            Skip::BadIpv4Header => f.write_str("bad IPv4 header"),
            Skip::UnsupportedLinktype(l) => write!(f, "unsupported linktype {l}"),
            Skip::PppProtocol(p) => write!(f, "ppp protocol 0x{p:04x}"),
            Skip::NflogNoPayload => f.write_str("nflog record without payload"),
        }
    }
}

/// `skb->pkt_type` (include/uapi/linux/if_packet.h), from the SLL header or the destination MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PktType {
    /// PACKET_HOST: unicast (to us, as far as a capture can tell).
    Unicast,
    Broadcast,
    Multicast,
    /// PACKET_OTHERHOST: unicast to another host (SLL only).
    OtherHost,
    /// PACKET_OUTGOING (SLL only).
    Outgoing,
    /// Any other SLL packet type value.
    Other(u16),
}

impl PktType {
    /// From a destination MAC, as `eth_type_trans` classifies it (broadcast before multicast).
    pub fn from_dst_mac(mac: [u8; 6]) -> Self {
        if mac == [0xff; 6] {
            PktType::Broadcast
        } else if mac[0] & 1 != 0 {
            PktType::Multicast
        } else {
            PktType::Unicast
        }
    }

    fn from_sll(v: u16) -> Self {
        match v {
            0 => PktType::Unicast,
            1 => PktType::Broadcast,
            2 => PktType::Multicast,
            3 => PktType::OtherHost,
            4 => PktType::Outgoing,
            other => PktType::Other(other),
        }
    }
}

/// One 802.1Q / 802.1ad tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VlanTag {
    /// 0x8100 or 0x88a8.
    pub tpid: u16,
    pub tci: u16,
}

impl VlanTag {
    pub fn vid(&self) -> u16 {
        self.tci & 0x0fff
    }
    pub fn pcp(&self) -> u8 {
        (self.tci >> 13) as u8
    }
    pub fn dei(&self) -> bool {
        self.tci & 0x1000 != 0
    }
}

/// The VLAN tags of a frame, outermost first, without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vlans {
    tags: [VlanTag; MAX_VLANS],
    len: u8,
    /// Tags beyond [`MAX_VLANS`] (walked but not kept).
    pub extra: u16,
}

impl Vlans {
    pub fn as_slice(&self) -> &[VlanTag] {
        self.tags.get(..usize::from(self.len)).unwrap_or(&[])
    }

    fn push(&mut self, tag: VlanTag) {
        match self.tags.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = tag;
                self.len += 1;
            }
            None => self.extra = self.extra.saturating_add(1),
        }
    }
}

/// Link-layer facts of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct L2 {
    pub linktype: u32,
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    pub vlans: Vlans,
    pub pkttype: Option<PktType>,
    /// The EtherType / protocol field that selected IPv4, when the link has one.
    pub ethertype: Option<u16>,
}

fn be16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(off)?, *b.get(off + 1)?]))
}

fn mac_at(b: &[u8], off: usize) -> Option<[u8; 6]> {
    b.get(off..off + 6)?.try_into().ok()
}

/// Splits `frame` of link type `linktype` into its L2 facts and the bytes of the IPv4 packet.
pub fn strip(linktype: u32, frame: &[u8]) -> Result<(L2, &[u8]), Skip> {
    let mut l2 = L2 {
        linktype,
        ..L2::default()
    };
    let (ethertype, off) = match linktype {
        linktype::ETHERNET => ethernet(frame, &mut l2)?,
        linktype::RAW | linktype::RAW_BSD12 | linktype::RAW_BSD14 | linktype::IPV4 => {
            return raw(frame, l2)
        }
        linktype::IPV6 => return Err(Skip::NotIpv4),
        linktype::LINUX_SLL => sll(frame, &mut l2)?,
        linktype::LINUX_SLL2 => sll2(frame, &mut l2)?,
        linktype::NULL | linktype::LOOP => return null_loop(linktype, frame, l2),
        linktype::PPP => return ppp(frame, l2),
        linktype::NFLOG => return nflog(frame, l2),
        other => return Err(Skip::UnsupportedLinktype(other)),
    };
    if ethertype != ETH_P_IP {
        return Err(Skip::EtherType(ethertype));
    }
    l2.ethertype = Some(ethertype);
    let ip = frame.get(off..).unwrap_or(&[]);
    check_ipv4(ip)?;
    Ok((l2, ip))
}

/// The oracle's final check on the IPv4 slice: at least a minimal header, version 4.
fn check_ipv4(ip: &[u8]) -> Result<(), Skip> {
    match ip.first() {
        Some(b) if ip.len() >= 20 && b >> 4 == 4 => Ok(()),
        _ => Err(Skip::BadIpv4Header),
    }
}

/// Ethernet II with any number of stacked 802.1Q/802.1ad tags (the kernel's `vlan_do_receive`
/// peels them one by one; a truncated tag leaves its TPID as the EtherType, as in the oracle).
fn ethernet(frame: &[u8], l2: &mut L2) -> Result<(u16, usize), Skip> {
    let (Some(dst), Some(src), Some(mut et)) =
        (mac_at(frame, 0), mac_at(frame, 6), be16(frame, 12))
    else {
        return Err(Skip::ShortFrame);
    };
    l2.dst_mac = Some(dst);
    l2.src_mac = Some(src);
    l2.pkttype = Some(PktType::from_dst_mac(dst));
    let mut off = 14usize;
    while et == ETH_P_8021Q || et == ETH_P_8021AD {
        let (Some(tci), Some(inner)) = (be16(frame, off), be16(frame, off + 2)) else {
            break;
        };
        l2.vlans.push(VlanTag { tpid: et, tci });
        et = inner;
        off += 4;
    }
    Ok((et, off))
}

/// Raw IP link types: the frame is the IP packet; the version nibble decides.
fn raw(frame: &[u8], l2: L2) -> Result<(L2, &[u8]), Skip> {
    match frame.first() {
        Some(b) if b >> 4 == 4 => {
            check_ipv4(frame)?;
            Ok((l2, frame))
        }
        _ => Err(Skip::NotIpv4),
    }
}

/// Linux cooked capture v1: packet type, ARPHRD, address length, 8 address bytes, protocol.
fn sll(frame: &[u8], l2: &mut L2) -> Result<(u16, usize), Skip> {
    let (Some(pkttype), Some(hatype), Some(alen), Some(proto)) = (
        be16(frame, 0),
        be16(frame, 2),
        be16(frame, 4),
        be16(frame, 14),
    ) else {
        return Err(Skip::ShortFrame);
    };
    l2.pkttype = Some(PktType::from_sll(pkttype));
    // ARPHRD_ETHER (1) with a 6-byte address: the link-layer source address is a MAC.
    if hatype == 1 && alen == 6 {
        l2.src_mac = mac_at(frame, 6);
    }
    Ok((proto, 16))
}

/// Linux cooked capture v2: protocol, reserved, ifindex, ARPHRD, packet type, address length,
/// 8 address bytes.
fn sll2(frame: &[u8], l2: &mut L2) -> Result<(u16, usize), Skip> {
    if frame.len() < 20 {
        return Err(Skip::ShortFrame);
    }
    let proto = be16(frame, 0).ok_or(Skip::ShortFrame)?;
    let hatype = be16(frame, 8).ok_or(Skip::ShortFrame)?;
    let pkttype = frame.get(10).copied().ok_or(Skip::ShortFrame)?;
    let alen = frame.get(11).copied().ok_or(Skip::ShortFrame)?;
    l2.pkttype = Some(PktType::from_sll(u16::from(pkttype)));
    if hatype == 1 && alen == 6 {
        l2.src_mac = mac_at(frame, 12);
    }
    Ok((proto, 20))
}

/// BSD loopback: a 4-byte address family, host byte order for NULL (the oracle reads it
/// little-endian; a big-endian writer's AF_INET is 0x02000000), network order for LOOP.
fn null_loop(linktype: u32, frame: &[u8], l2: L2) -> Result<(L2, &[u8]), Skip> {
    let fam: [u8; 4] = frame
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; 4]);
    let af = if linktype == linktype::LOOP {
        u32::from_be_bytes(fam)
    } else {
        u32::from_le_bytes(fam)
    };
    let af = if linktype == linktype::NULL && af > 0xffff {
        af.swap_bytes()
    } else {
        af
    };
    if af != 2 {
        return Err(Skip::NotIpv4);
    }
    let ip = frame.get(4..).unwrap_or(&[]);
    check_ipv4(ip)?;
    Ok((l2, ip))
}

/// PPP (RFC 1661) with optional HDLC address/control bytes ff 03 and protocol-field
/// compression (an odd first byte is a one-byte protocol). 0x0021 is IPv4.
fn ppp(frame: &[u8], l2: L2) -> Result<(L2, &[u8]), Skip> {
    let mut off = if frame.get(..2) == Some(&[0xff, 0x03][..]) {
        2
    } else {
        0
    };
    let first = *frame.get(off).ok_or(Skip::ShortFrame)?;
    let proto = if first & 1 == 1 {
        off += 1;
        u16::from(first)
    } else {
        let p = be16(frame, off).ok_or(Skip::ShortFrame)?;
        off += 2;
        p
    };
    if proto != 0x0021 {
        return Err(Skip::PppProtocol(proto));
    }
    let ip = frame.get(off..).unwrap_or(&[]);
    check_ipv4(ip)?;
    Ok((l2, ip))
}

/// NFLOG: family, version, resource id, then netlink-style TLVs (length and type in host byte
/// order, little-endian in practice; 4-byte aligned). NFULA_PAYLOAD (9) holds the IP packet.
fn nflog(frame: &[u8], l2: L2) -> Result<(L2, &[u8]), Skip> {
    let family = *frame.first().ok_or(Skip::ShortFrame)?;
    if family != 2 {
        return Err(Skip::NotIpv4);
    }
    let mut off = 4usize;
    while let (Some(a), Some(b), Some(c), Some(d)) = (
        frame.get(off),
        frame.get(off + 1),
        frame.get(off + 2),
        frame.get(off + 3),
    ) {
        let len = usize::from(u16::from_le_bytes([*a, *b]));
        // Mask NLA_F_NESTED / NLA_F_NET_BYTEORDER.
        let ty = u16::from_le_bytes([*c, *d]) & 0x3fff;
        if len < 4 {
            break;
        }
        if ty == 9 {
            let ip = frame.get(off + 4..off + len).ok_or(Skip::ShortFrame)?;
            check_ipv4(ip)?;
            return Ok((l2, ip));
        }
        off += (len + 3) & !3;
    }
    Err(Skip::NflogNoPayload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4() -> Vec<u8> {
        let mut v = vec![
            0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        v.extend_from_slice(&[0; 4]);
        v
    }

    #[test]
    fn ethernet_stacked_vlans() {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        for (tpid, vid) in [(0x88a8u16, 100u16), (0x8100, 200), (0x8100, 300)] {
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&vid.to_be_bytes());
        }
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&ipv4());
        let (l2, ip) = strip(1, &f).unwrap();
        assert_eq!(ip, &ipv4()[..]);
        let vids: Vec<u16> = l2.vlans.as_slice().iter().map(VlanTag::vid).collect();
        assert_eq!(vids, [100, 200, 300]);
        assert_eq!(l2.pkttype, Some(PktType::Broadcast));
        assert_eq!(l2.src_mac, Some([2, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn ethernet_skips() {
        assert_eq!(strip(1, &[0; 13]), Err(Skip::ShortFrame));
        let mut f = vec![0; 12];
        f.extend_from_slice(&[0x86, 0xdd, 0x60]);
        assert_eq!(strip(1, &f).unwrap_err().to_string(), "ethertype 0x86dd");
        // A tag cut short keeps its TPID as the EtherType.
        let mut f = vec![1; 12];
        f.extend_from_slice(&[0x81, 0x00, 0, 1]);
        assert_eq!(strip(1, &f).unwrap_err().to_string(), "ethertype 0x8100");
        let mut f = vec![0; 12];
        f.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
        assert_eq!(strip(1, &f).unwrap_err().to_string(), "bad IPv4 header");
        assert_eq!(
            strip(147, &f).unwrap_err().to_string(),
            "unsupported linktype 147"
        );
    }

    #[test]
    fn raw_null_loop_ppp_nflog() {
        let ip = ipv4();
        assert_eq!(strip(101, &ip).unwrap().1, &ip[..]);
        assert_eq!(strip(228, &ip).unwrap().1, &ip[..]);
        assert_eq!(strip(101, &[0x60, 0, 0, 0]), Err(Skip::NotIpv4));
        assert_eq!(strip(229, &[0x60, 0, 0, 0]), Err(Skip::NotIpv4));
        for (lt, fam) in [
            (0u32, [2u8, 0, 0, 0]),
            (0, [0, 0, 0, 2]),
            (108, [0, 0, 0, 2]),
        ] {
            let f = [&fam[..], &ip[..]].concat();
            assert_eq!(strip(lt, &f).unwrap().1, &ip[..], "linktype {lt}");
        }
        assert_eq!(
            strip(108, &[[2u8, 0, 0, 0].as_slice(), &ip].concat()),
            Err(Skip::NotIpv4)
        );
        for prefix in [&[0xff, 0x03, 0x00, 0x21][..], &[0x00, 0x21], &[0x21]] {
            assert_eq!(strip(9, &[prefix, &ip].concat()).unwrap().1, &ip[..]);
        }
        assert_eq!(
            strip(9, &[0x00, 0x57, 0x60]).unwrap_err().to_string(),
            "ppp protocol 0x0057"
        );
        let mut nf = vec![2, 0, 0, 1, 8, 0, 1, 0, 0, 0, 0, 0];
        nf.extend_from_slice(&((4 + ip.len()) as u16).to_le_bytes());
        nf.extend_from_slice(&9u16.to_le_bytes());
        nf.extend_from_slice(&ip);
        assert_eq!(strip(239, &nf).unwrap().1, &ip[..]);
        assert_eq!(strip(239, &nf[..12]), Err(Skip::NflogNoPayload));
    }

    #[test]
    fn sll_and_sll2() {
        let ip = ipv4();
        let mut f = vec![0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        f.extend_from_slice(&ip);
        let (l2, got) = strip(113, &f).unwrap();
        assert_eq!(
            (got, l2.pkttype, l2.src_mac),
            (&ip[..], Some(PktType::Outgoing), Some([1, 2, 3, 4, 5, 6]))
        );
        let mut f = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 2, 6, 9, 8, 7, 6, 5, 4, 0, 0,
        ];
        f.extend_from_slice(&ip);
        let (l2, got) = strip(276, &f).unwrap();
        assert_eq!(
            (got, l2.pkttype, l2.src_mac),
            (&ip[..], Some(PktType::Multicast), Some([9, 8, 7, 6, 5, 4]))
        );
        assert_eq!(strip(276, &f[..19]), Err(Skip::ShortFrame));
    }
}
