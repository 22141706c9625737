//! From a decoded packet to what conntrack and the rules see of it.

use crate::conntrack::{
    self, IcmpMessage, L4Info, PacketInfo, Quoted, QuotedL4, TcpOptions, TcpSegment, UdpDatagram,
};
use crate::ext::facts::L4Facts;
use crate::packet::{Packet, Plain, PlainL4, L4};
use std::net::IpAddr;

/// The conntrack view of `pkt` at `hook`. `checksum_ok` is the caller's
/// verdict on the layer-4 checksum (it may be told to trust captures).
pub fn ct_info(pkt: &Packet, ts_ns: u64, hook: conntrack::Hook, checksum_ok: bool) -> PacketInfo {
    let l4 = match &pkt.l4 {
        L4::Tcp(t) if t.header_ok() => L4Info::Tcp(TcpSegment {
            sport: t.sport(),
            dport: t.dport(),
            flags: t.flags8(),
            seq: t.seq(),
            ack: t.ack(),
            window: t.window(),
            doff: t.doff(),
            l4_len: pkt.ip.payload().len() as u32,
            opts: tcp_options(t.option_bytes()),
        }),
        L4::Udp(u) => L4Info::Udp(UdpDatagram {
            sport: u.sport(),
            dport: u.dport(),
            length_field: u.length(),
            l4_len: pkt.ip.payload().len() as u32,
        }),
        L4::Icmp(i) => L4Info::Icmp(IcmpMessage {
            kind: i.kind(),
            code: i.code(),
            id: i.id_seq().map_or_else(|| id_field(i.bytes()), |(id, _)| id),
            quoted: if i.is_error() { quoted(i) } else { None },
        }),
        L4::Sctp { .. } | L4::UdpLite { .. } => L4Info::Other {
            ports: pkt.l4.ports(),
        },
        L4::Tcp(_) | L4::Truncated { .. } | L4::NonFirstFragment => L4Info::Unreadable,
        _ => L4Info::Other { ports: None },
    };
    PacketInfo {
        src: IpAddr::V4(pkt.ip.src()),
        dst: IpAddr::V4(pkt.ip.dst()),
        proto: pkt.ip.proto(),
        l4,
        ts_ns,
        hook,
        checksum_ok,
    }
}

/// [`ct_info`] of a plain frame arriving from the wire (conntrack at PREROUTING), read
/// straight from its bytes: the same value `ct_info(&decode(frame), ..)` gives.
pub fn ct_info_plain(p: &Plain, ts_ns: u64, checksum_ok: bool) -> PacketInfo {
    let (h, l4_len) = (&p.head, p.payload().len() as u32);
    let l4 = match p.l4 {
        PlainL4::Tcp => L4Info::Tcp(TcpSegment {
            sport: h.sport,
            dport: h.dport,
            flags: h.flags,
            seq: h.seq,
            ack: h.ack,
            window: h.window,
            doff: h.doff,
            l4_len,
            opts: tcp_options(p.tcp_options()),
        }),
        PlainL4::Udp => L4Info::Udp(UdpDatagram {
            sport: h.sport,
            dport: h.dport,
            length_field: h.udp_len,
            l4_len,
        }),
    };
    PacketInfo {
        src: IpAddr::V4(p.src().into()),
        dst: IpAddr::V4(p.dst().into()),
        proto: p.proto(),
        l4,
        ts_ns,
        hook: conntrack::Hook::PreRouting,
        checksum_ok,
    }
}

/// [`TcpOptions::parse`] of a TCP header's option bytes, with the layouts most segments carry
/// answered without the parse loop: none, a lone MSS option, and NOP NOP timestamps (what
/// Linux sends on an established connection). None of these holds a window scale, SACK
/// permitted or SACK option, so their parse is the empty one, `present` set when there are
/// option bytes. Every lane packet's view is built here.
#[inline(always)]
fn tcp_options(raw: &[u8]) -> TcpOptions {
    const MSS: u8 = 2;
    const NOP: u8 = 1;
    const TIMESTAMP: u8 = 8;
    match raw {
        [] => TcpOptions::default(),
        [MSS, 4, _, _] | [NOP, NOP, TIMESTAMP, 10, _, _, _, _, _, _, _, _] => TcpOptions {
            present: true,
            ..TcpOptions::default()
        },
        _ => TcpOptions::parse(raw),
    }
}

/// Bytes 4..6 of an ICMP header (`un.echo.id`), whatever the type.
fn id_field(b: &[u8]) -> u16 {
    match (b.get(4), b.get(5)) {
        (Some(h), Some(l)) => u16::from_be_bytes([*h, *l]),
        _ => 0,
    }
}

fn quoted(i: &crate::packet::Icmp) -> Option<Quoted> {
    let q = i.quoted()?;
    let l4 = match q.l4() {
        _ if q.ip.frag_offset() != 0 => QuotedL4::Other,
        L4::Icmp(inner) => match inner.id_seq() {
            Some((id, _)) => QuotedL4::Icmp {
                kind: inner.kind(),
                code: inner.code(),
                id,
            },
            None => QuotedL4::Truncated,
        },
        _ => match q.ports() {
            Some((src, dst)) => QuotedL4::Ports { src, dst },
            None if conntrack::proto::icmp::has_ports(q.ip.proto()) => QuotedL4::Truncated,
            None => QuotedL4::Other,
        },
    };
    Some(Quoted {
        src: IpAddr::V4(q.ip.src()),
        dst: IpAddr::V4(q.ip.dst()),
        proto: q.ip.proto(),
        fragment: q.ip.frag_offset() != 0,
        l4,
    })
}

/// The layer-4 header as matches see it.
pub fn l4_facts<'p>(pkt: &Packet<'p>) -> (L4Facts<'p>, bool) {
    match &pkt.l4 {
        L4::Tcp(t) if t.header_ok() => (
            L4Facts::Tcp {
                sport: t.sport(),
                dport: t.dport(),
                flags: t.flags8(),
                seq: t.seq(),
                ack: t.ack(),
                window: t.window(),
                options: t.option_bytes(),
                header_len: t.header_len() as u8,
            },
            false,
        ),
        L4::Udp(u) => (
            L4Facts::Udp {
                sport: u.sport(),
                dport: u.dport(),
            },
            false,
        ),
        L4::Icmp(i) => (
            L4Facts::Icmp {
                kind: i.kind(),
                code: i.code(),
            },
            false,
        ),
        L4::Esp { spi } => (L4Facts::Spi(*spi), false),
        L4::Ah { spi, .. } => (L4Facts::Spi(*spi), false),
        L4::Sctp { .. } | L4::Dccp { .. } | L4::UdpLite { .. } => match pkt.l4.ports() {
            Some((sport, dport)) => (L4Facts::Ports { sport, dport }, false),
            None => (L4Facts::None, true),
        },
        L4::Tcp(_) | L4::Truncated { .. } => (L4Facts::None, true),
        _ => (L4Facts::None, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{decode_link, link::linktype, plain};

    /// The layouts answered without the parse loop parse as the loop parses them, and so do
    /// their near misses (another length, a code, a byte more or less).
    #[test]
    fn common_option_layouts_parse_as_the_parser_does() {
        let mut rng = crate::test_rng::Rng(0x0b7e_5eed_0f7c_9011);
        let layouts: [&[u8]; 4] = [
            &[],
            &[2, 4, 5, 180],
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            &[
                2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
            ],
        ];
        for _ in 0..20_000 {
            let base = layouts[(rng.next() % 4) as usize];
            let mut raw = base.to_vec();
            match rng.next() % 4 {
                0 => {}
                1 if !raw.is_empty() => {
                    let at = (rng.next() as usize) % raw.len();
                    raw[at] = [0, 1, 2, 3, 4, 5, 8, 10, 12][(rng.next() % 9) as usize];
                }
                2 => raw.push(rng.next() as u8),
                _ => {
                    raw.pop();
                }
            }
            assert_eq!(tcp_options(&raw), TcpOptions::parse(&raw), "{raw:?}");
        }
        assert!(tcp_options(&[2, 4, 5, 180]).present);
        assert!(!tcp_options(&[]).present);
    }

    #[test]
    fn plain_info_is_the_decoded_info() {
        let mut tcp = vec![2, 0, 0, 0, 0, 0x10, 2, 0, 0, 0, 0, 0x20, 8, 0];
        tcp.extend_from_slice(&[
            0x45, 0, 0, 52, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 1, 0, 2,
        ]);
        tcp.extend_from_slice(&[0x30, 0x39, 0, 80, 0, 0, 0, 9, 0, 0, 0, 7, 0x80, 0x10, 1, 0]);
        // Data offset 8: NOP, NOP, SACK with one block, then window scale 7 and padding.
        tcp.extend_from_slice(&[0, 0, 0, 0, 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
        let mut udp = tcp[..34].to_vec();
        udp[14 + 9] = 17;
        udp[14 + 3] = 30;
        udp.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 10, 0xab, 0xcd, 1, 2, 0, 0, 0, 0]);
        for frame in [tcp, udp] {
            let p = plain(linktype::ETHERNET, &frame).expect("plain");
            let pkt = decode_link(linktype::ETHERNET, &frame).expect("decodes");
            for ok in [false, true] {
                let want = ct_info(&pkt, 7, conntrack::Hook::PreRouting, ok);
                assert_eq!(ct_info_plain(&p, 7, ok), want);
            }
        }
    }
}
