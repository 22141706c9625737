//! Connection tuples, their inversion, and the two directions of a connection.
//!
//! Models `struct nf_conntrack_tuple` and `nf_ct_invert_tuple` (nf_conntrack_core.c) with the
//! ICMP `invmap` of nf_conntrack_proto_icmp.c. A tuple is family-neutral ([`IpAddr`]); both
//! addresses of one tuple always have the same family. Invariant: for every tuple `t` where
//! `t.invert()` is `Some(r)`, `r.invert() == Some(t)`.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use crate::packet::text::{Addr, Endpoints, Line, TextOut};

/// Direction of a packet relative to its connection (`enum ip_conntrack_dir`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dir {
    /// Same direction as the packet that created the connection.
    #[default]
    Original = 0,
    /// The answering direction.
    Reply = 1,
}

impl Dir {
    /// Index into per-direction arrays (`seen[dir]`, `tuplehash[dir]`).
    pub const fn idx(self) -> usize {
        self as usize
    }

    /// The other direction (`!dir` in the kernel).
    pub const fn flip(self) -> Dir {
        match self {
            Dir::Original => Dir::Reply,
            Dir::Reply => Dir::Original,
        }
    }

    /// The name `-m conntrack --ctdir` and the oracle use.
    pub const fn name(self) -> &'static str {
        match self {
            Dir::Original => "ORIGINAL",
            Dir::Reply => "REPLY",
        }
    }
}

/// The layer-4 part of a tuple (`union nf_conntrack_man_proto` of src and dst).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum L4Key {
    /// TCP, UDP, UDP-Lite, SCTP, DCCP: source and destination port.
    Ports {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
    /// ICMP: identifier (`src.u.icmp.id`), type and code (`dst.u.icmp.{type,code}`).
    Icmp {
        /// Echo identifier (0 for types without one, as the kernel reads `un.echo.id` anyway).
        id: u16,
        /// ICMP type.
        kind: u8,
        /// ICMP code.
        code: u8,
    },
    /// Protocols tracked by the generic tracker: addresses and protocol only.
    None,
}

/// A conntrack tuple: one direction of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuple {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// Ports or ICMP identity.
    pub l4: L4Key,
}

/// Hashed as one well-mixed word: the connection table looks a tuple up for every packet, and
/// the derived hash fed the hasher a dozen pieces (enum tags, address octets one by one),
/// which cost more than the lookup itself. Equal tuples give equal words, as `Hash` requires.
impl Hash for Tuple {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let addr = |a: IpAddr| -> u64 {
            match a {
                IpAddr::V4(v4) => u64::from(u32::from(v4)),
                IpAddr::V6(v6) => {
                    let x = u128::from(v6);
                    (x as u64) ^ ((x >> 64) as u64).rotate_left(17) ^ (1 << 63)
                }
            }
        };
        let l4 = match self.l4 {
            L4Key::Ports { src, dst } => (1 << 32) | u64::from(src) << 16 | u64::from(dst),
            L4Key::Icmp { id, kind, code } => {
                (2 << 32) | u64::from(id) << 16 | u64::from(kind) << 8 | u64::from(code)
            }
            L4Key::None => 0,
        };
        let a = addr(self.src) << 32 ^ addr(self.dst);
        let b = l4 ^ u64::from(self.proto) << 40;
        let m = (a ^ b.rotate_left(23)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        // Fold the high half down: hash tables index buckets by the low bits.
        state.write_u64(m ^ m >> 29);
    }
}

/// ICMP types whose inverse is known (`invmap` in nf_conntrack_proto_icmp.c): echo (8) ↔ echo
/// reply (0), timestamp (13) ↔ timestamp reply (14), info request (15) ↔ info reply (16),
/// address mask request (17) ↔ reply (18).
pub const fn icmp_inverse_type(kind: u8) -> Option<u8> {
    match kind {
        8 => Some(0),
        0 => Some(8),
        13 => Some(14),
        14 => Some(13),
        15 => Some(16),
        16 => Some(15),
        17 => Some(18),
        18 => Some(17),
        _ => None,
    }
}

/// ICMPv6 types whose inverse is known (`invmap` in nf_conntrack_proto_icmpv6.c): echo
/// request (128) ↔ echo reply (129), node information query (139) ↔ reply (140).
pub const fn icmpv6_inverse_type(kind: u8) -> Option<u8> {
    match kind {
        128 => Some(129),
        129 => Some(128),
        139 => Some(140),
        140 => Some(139),
        _ => None,
    }
}

/// IP protocol number of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;
/// IP protocol number of GRE.
pub const PROTO_GRE: u8 = 47;
/// IP protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;

impl Tuple {
    /// The tuple of the answering direction (`nf_ct_invert_tuple`). `None` when the kernel cannot
    /// invert it: ICMP types without an inverse (errors, router advertisements, ...).
    pub fn invert(&self) -> Option<Tuple> {
        let l4 = match self.l4 {
            L4Key::Ports { src, dst } => L4Key::Ports { src: dst, dst: src },
            // The id and code are kept; only the type is mapped.
            L4Key::Icmp { id, kind, code } => {
                let inverse = if self.proto == PROTO_ICMPV6 {
                    icmpv6_inverse_type(kind)
                } else {
                    icmp_inverse_type(kind)
                };
                L4Key::Icmp {
                    id,
                    kind: inverse?,
                    code,
                }
            }
            L4Key::None => L4Key::None,
        };
        Some(Tuple {
            src: self.dst,
            dst: self.src,
            proto: self.proto,
            l4,
        })
    }
}

impl Tuple {
    /// The text of [`fmt::Display`] for tuples of any family.
    fn fmt_any_family(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = (Addr(self.src), Addr(self.dst));
        match self.l4 {
            L4Key::Ports { src, dst } => write!(f, "{a}:{src}>{b}:{dst}"),
            L4Key::Icmp { id, kind, code } => write!(f, "{a}>{b} type={kind} code={code} id={id}"),
            L4Key::None => write!(f, "{a}>{b}"),
        }
    }
}

impl Tuple {
    /// Writes the text of an IPv4 tuple (`false`, nothing written, for other families):
    /// conntrack views print two tuples for every replayed packet.
    fn write_v4<T: TextOut>(&self, out: &mut T) -> bool {
        let (IpAddr::V4(a), IpAddr::V4(b)) = (self.src, self.dst) else {
            return false;
        };
        out.push_dotted(u32::from(a));
        if let L4Key::Ports { src, .. } = self.l4 {
            out.push(b':').push_num(src.into());
        }
        out.push(b'>').push_dotted(u32::from(b));
        match self.l4 {
            L4Key::Ports { dst, .. } => {
                out.push(b':').push_num(dst.into());
            }
            L4Key::Icmp { id, kind, code } => {
                out.push_str(" type=").push_u8(kind);
                out.push_str(" code=").push_u8(code);
                out.push_str(" id=").push_num(id.into());
            }
            L4Key::None => {}
        }
        true
    }

    /// Appends [`fmt::Display`]'s text (ASCII: digits, dots, colons, `>`, `type=` ...) to
    /// `out`, without the formatting machinery for IPv4.
    pub fn write_text(&self, out: &mut Vec<u8>) {
        if !self.write_v4(out) {
            out.extend_from_slice(self.to_string().as_bytes());
        }
    }
}

/// Appends `orig`'s text, `between`, and `reply`'s text (a conntrack entry's two tuples). When
/// `reply` is `orig` inverted with IPv4 ports, as for every connection NAT left alone, its
/// endpoints are `orig`'s swapped: their text is made once (or taken from `made`, the
/// endpoints the record has already printed) and copied twice.
#[inline]
pub fn write_texts(
    orig: &Tuple,
    reply: &Tuple,
    between: &[u8],
    made: &Endpoints,
    out: &mut Vec<u8>,
) {
    if let (IpAddr::V4(a), IpAddr::V4(b), L4Key::Ports { src, dst }) = (orig.src, orig.dst, orig.l4)
    {
        let swapped = L4Key::Ports { src: dst, dst: src };
        if reply.src == orig.dst && reply.dst == orig.src && reply.l4 == swapped {
            let (x, y) = (made.text(a.into(), src), made.text(b.into(), dst));
            x.append_to(out);
            out.push(b'>');
            y.append_to(out);
            out.extend_from_slice(between);
            y.append_to(out);
            out.push(b'>');
            x.append_to(out);
            return;
        }
    }
    orig.write_text(out);
    out.extend_from_slice(between);
    reply.write_text(out);
}

impl fmt::Display for Tuple {
    /// The oracle's `tuple_str`: `a:p>b:q`, `a>b type=T code=C id=I`, or `a>b`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = Line::<64>::default();
        if self.write_v4(&mut line) {
            f.write_str(line.as_str())
        } else {
            self.fmt_any_family(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn a(x: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, x))
    }

    /// The stack-built text of IPv4 tuples is the general formatter's.
    #[test]
    fn fast_text_is_the_general_text() {
        struct General(Tuple);
        impl fmt::Display for General {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_any_family(f)
            }
        }
        let l4s = [
            L4Key::Ports { src: 0, dst: 65535 },
            L4Key::Icmp {
                id: 4660,
                kind: 8,
                code: 0,
            },
            L4Key::None,
        ];
        for l4 in l4s {
            let t = Tuple {
                src: IpAddr::V4(Ipv4Addr::new(255, 10, 0, 1)),
                dst: IpAddr::V4(Ipv4Addr::new(1, 200, 99, 0)),
                proto: 1,
                l4,
            };
            assert_eq!(t.to_string(), General(t).to_string());
            let mut buf = b"x".to_vec();
            t.write_text(&mut buf);
            assert_eq!(buf, format!("x{t}").as_bytes());
            let v6 = Tuple {
                src: "2001:db8::1".parse().unwrap(),
                dst: "::ffff:10.0.0.1".parse().unwrap(),
                ..t
            };
            let mut buf = Vec::new();
            v6.write_text(&mut buf);
            assert_eq!(buf, General(v6).to_string().as_bytes());
            // Both tuples of an entry, NAT-free (reused endpoints) or not.
            for (orig, reply) in [(t, t.invert()), (v6, v6.invert()), (t, Some(v6))] {
                let reply = reply.unwrap();
                let mut buf = b"x".to_vec();
                write_texts(&orig, &reply, b" | ", &Endpoints::default(), &mut buf);
                assert_eq!(buf, format!("x{orig} | {reply}").as_bytes());
                // With one endpoint already made (a packet of the reply direction).
                let mut made = Endpoints::default();
                let (IpAddr::V4(a), L4Key::Ports { dst, .. }) = (orig.dst, orig.l4) else {
                    continue;
                };
                made.keep(a.into(), dst, crate::packet::text::endpoint(a.into(), dst));
                let mut buf = Vec::new();
                write_texts(&orig, &reply, b" | ", &made, &mut buf);
                assert_eq!(buf, format!("{orig} | {reply}").as_bytes());
            }
        }
        assert_eq!(
            Tuple {
                src: a(1),
                dst: a(2),
                proto: 1,
                l4: l4s[1]
            }
            .to_string(),
            "10.0.0.1>10.0.0.2 type=8 code=0 id=4660"
        );
    }

    #[test]
    fn ports_swap() {
        let t = Tuple {
            src: a(1),
            dst: a(2),
            proto: PROTO_TCP,
            l4: L4Key::Ports {
                src: 40000,
                dst: 22,
            },
        };
        let r = t.invert().unwrap();
        assert_eq!(r.to_string(), "10.0.0.2:22>10.0.0.1:40000");
        assert_eq!(r.invert(), Some(t));
    }

    #[test]
    fn icmp_invmap() {
        for (q, r) in [(8, 0), (13, 14), (15, 16), (17, 18)] {
            let t = Tuple {
                src: a(1),
                dst: a(2),
                proto: PROTO_ICMP,
                l4: L4Key::Icmp {
                    id: 7,
                    kind: q,
                    code: 0,
                },
            };
            let inv = t.invert().unwrap();
            assert_eq!(
                inv.l4,
                L4Key::Icmp {
                    id: 7,
                    kind: r,
                    code: 0
                }
            );
            assert_eq!(inv.invert(), Some(t));
        }
        for kind in [3u8, 5, 9, 10, 11, 12, 19, 255] {
            let t = Tuple {
                src: a(1),
                dst: a(2),
                proto: PROTO_ICMP,
                l4: L4Key::Icmp {
                    id: 0,
                    kind,
                    code: 0,
                },
            };
            assert_eq!(t.invert(), None, "type {kind}");
        }
    }

    #[test]
    fn icmpv6_invmap() {
        let v6 = |x: u16| IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, x));
        let t = Tuple {
            src: v6(1),
            dst: v6(2),
            proto: PROTO_ICMPV6,
            l4: L4Key::Icmp {
                id: 3,
                kind: 128,
                code: 0,
            },
        };
        let r = t.invert().unwrap();
        assert_eq!(
            r.l4,
            L4Key::Icmp {
                id: 3,
                kind: 129,
                code: 0
            }
        );
        assert_eq!(r.invert(), Some(t));
        let ns = Tuple {
            l4: L4Key::Icmp {
                id: 0,
                kind: 135,
                code: 0,
            },
            ..t
        };
        assert_eq!(ns.invert(), None);
        // ICMPv4 numbers mean nothing in ICMPv6.
        let v4echo = Tuple {
            l4: L4Key::Icmp {
                id: 0,
                kind: 8,
                code: 0,
            },
            ..t
        };
        assert_eq!(v4echo.invert(), None);
    }

    #[test]
    fn display_formats() {
        let t = Tuple {
            src: a(1),
            dst: a(2),
            proto: PROTO_ICMP,
            l4: L4Key::Icmp {
                id: 9,
                kind: 8,
                code: 0,
            },
        };
        assert_eq!(t.to_string(), "10.0.0.1>10.0.0.2 type=8 code=0 id=9");
        let g = Tuple {
            src: a(1),
            dst: a(2),
            proto: 50,
            l4: L4Key::None,
        };
        assert_eq!(g.to_string(), "10.0.0.1>10.0.0.2");
        assert_eq!(Dir::Original.flip(), Dir::Reply);
        assert_eq!(Dir::Reply.name(), "REPLY");
    }
}
