//! Test-only: a tiny pcap reader (Ethernet + IPv4 + TCP/UDP/ICMP) that builds [`PacketInfo`]s,
//! so kernel-truth scenarios can be replayed without depending on `packet::` (written in
//! parallel). Deliberately minimal: no pcapng, no VLAN stacking beyond one tag, no IPv6.

use std::net::{IpAddr, Ipv4Addr};

use crate::conntrack::{
    Hook, IcmpMessage, L4Info, PacketInfo, Quoted, QuotedL4, TcpOptions, TcpSegment, UdpDatagram,
};

/// Reads the records of a classic pcap file (any byte order, µs or ns timestamps).
pub fn records(bytes: &[u8]) -> Vec<Vec<u8>> {
    let magic = u32::from_le_bytes(bytes[0..4].try_into().unwrap());
    let le = matches!(magic, 0xa1b2_c3d4 | 0xa1b2_3c4d);
    let rd = |b: &[u8]| {
        let a: [u8; 4] = b.try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let incl = rd(&bytes[off + 8..off + 12]) as usize;
        out.push(bytes[off + 16..off + 16 + incl].to_vec());
        off += 16 + incl;
    }
    out
}

fn be16(b: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([b[o], b[o + 1]])
}

fn be32(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn v4(b: &[u8], o: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(b[o], b[o + 1], b[o + 2], b[o + 3]))
}

/// RFC 1071 one's-complement sum, folded.
fn csum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        for pair in part.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            sum += hi | pair.get(1).map_or(0, |lo| u32::from(*lo));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Whether the layer-4 checksum verifies (UDP checksum 0 means "none" and passes).
fn l4_checksum_ok(ip: &[u8], proto: u8, l4: &[u8]) -> bool {
    match proto {
        1 => csum(&[l4]) == 0xffff,
        6 | 17 => {
            if proto == 17 && l4.len() >= 8 && be16(l4, 6) == 0 {
                return true;
            }
            let len = (l4.len() as u16).to_be_bytes();
            let pseudo = [&ip[12..20], &[0, proto], &len[..]].concat();
            csum(&[&pseudo, l4]) == 0xffff
        }
        _ => true,
    }
}

/// Decodes an Ethernet frame; `None` for non-IPv4 frames and fragments.
pub fn decode(frame: &[u8], ts_ns: u64, hook: Hook) -> Option<PacketInfo> {
    let mut et = be16(frame, 12);
    let mut off = 14;
    if et == 0x8100 {
        et = be16(frame, 16);
        off = 18;
    }
    if et != 0x0800 {
        return None;
    }
    let ip = &frame[off..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let tot = usize::from(be16(ip, 2)).min(ip.len());
    let frag = be16(ip, 6);
    if frag & 0x3fff != 0 {
        return None;
    }
    let proto = ip[9];
    let (src, dst) = (v4(ip, 12), v4(ip, 16));
    let l4 = &ip[ihl..tot];
    let info = match proto {
        6 if l4.len() >= 20 => {
            let doff = l4[12] >> 4;
            let opt_end = (usize::from(doff) * 4).clamp(20, l4.len());
            L4Info::Tcp(TcpSegment {
                sport: be16(l4, 0),
                dport: be16(l4, 2),
                seq: be32(l4, 4),
                ack: be32(l4, 8),
                doff,
                flags: l4[13],
                window: be16(l4, 14),
                l4_len: l4.len() as u32,
                opts: TcpOptions::parse(&l4[20..opt_end]),
            })
        }
        17 if l4.len() >= 8 => L4Info::Udp(UdpDatagram {
            sport: be16(l4, 0),
            dport: be16(l4, 2),
            length_field: be16(l4, 4),
            l4_len: l4.len() as u32,
        }),
        1 if l4.len() >= 8 => L4Info::Icmp(IcmpMessage {
            kind: l4[0],
            code: l4[1],
            id: be16(l4, 4),
            quoted: if matches!(l4[0], 3 | 4 | 5 | 11 | 12) {
                quoted(&l4[8..])
            } else {
                None
            },
        }),
        6 | 17 | 1 => L4Info::Unreadable,
        132 | 136 if l4.len() >= 4 => L4Info::Other {
            ports: Some((be16(l4, 0), be16(l4, 2))),
        },
        _ => L4Info::Other { ports: None },
    };
    let checksum_ok = l4_checksum_ok(ip, proto, l4);
    Some(PacketInfo {
        src,
        dst,
        proto,
        l4: info,
        ts_ns,
        hook,
        checksum_ok,
    })
}

fn quoted(q: &[u8]) -> Option<Quoted> {
    if q.len() < 20 {
        return None;
    }
    let ihl = usize::from(q[0] & 0x0f) * 4;
    let proto = q[9];
    let l4 = q.get(ihl..).unwrap_or(&[]);
    let ql4 = match proto {
        1 if l4.len() >= 8 => QuotedL4::Icmp {
            kind: l4[0],
            code: l4[1],
            id: be16(l4, 4),
        },
        6 | 17 | 132 | 136 if l4.len() >= 4 => QuotedL4::Ports {
            src: be16(l4, 0),
            dst: be16(l4, 2),
        },
        1 | 6 | 17 | 132 | 136 => QuotedL4::Truncated,
        _ => QuotedL4::Other,
    };
    Some(Quoted {
        src: v4(q, 12),
        dst: v4(q, 16),
        proto,
        fragment: be16(q, 6) & 0x1fff != 0,
        l4: ql4,
    })
}
