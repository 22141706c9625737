//! ICMP tracking: `nf_conntrack_proto_icmp.c`.
//!
//! Queries (echo, timestamp, information, address mask) are tracked as connections keyed by
//! id, type and code; only a request may create one (`valid_new`), so a reply without its
//! request is INVALID. Errors (`icmp_is_err`) carry no connection of their own: the quoted
//! header is turned into a tuple, inverted, and looked up (`nf_conntrack_inet_error`); the
//! lookup itself lives in the table. ICMPv6 (nf_conntrack_proto_icmpv6.c) follows the same
//! scheme with its own numbers; neighbour discovery and MLD are UNTRACKED. Invariant: this file
//! never reads the table.

use std::net::IpAddr;

use super::L4Result;
use crate::conntrack::params::Params;
use crate::conntrack::tuple::{L4Key, Tuple, PROTO_ICMP, PROTO_ICMPV6};
use crate::conntrack::InvalidReason;

/// Highest ICMP type the kernel knows (`NR_ICMP_TYPES`); higher types are INVALID.
pub const NR_ICMP_TYPES: u8 = 18;

/// An ICMP message as the evaluator decodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Message {
    /// Type.
    pub kind: u8,
    /// Code.
    pub code: u8,
    /// Bytes 4..6 of the header (`un.echo.id`), read whatever the type.
    pub id: u16,
    /// For error types: the quoted IP header and the start of its payload.
    pub quoted: Option<Quoted>,
}

/// The packet quoted inside an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted {
    /// Quoted source address.
    pub src: IpAddr,
    /// Quoted destination address.
    pub dst: IpAddr,
    /// Quoted protocol.
    pub proto: u8,
    /// Quoted header has a non-zero fragment offset (`ipv4_get_l4proto` refuses it).
    pub fragment: bool,
    /// What could be read after the quoted IP header.
    pub l4: QuotedL4,
}

/// The quoted layer-4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotedL4 {
    /// At least 4 bytes: the two ports.
    Ports {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
    /// A quoted ICMP header (8 bytes).
    Icmp {
        /// Type.
        kind: u8,
        /// Code.
        code: u8,
        /// Identifier.
        id: u16,
    },
    /// A protocol without ports (or any bytes present; not needed).
    Other,
    /// Too short to read what the protocol needs.
    Truncated,
}

/// `icmp_is_err`: destination unreachable, source quench, redirect, time exceeded, parameter problem.
pub const fn is_error(kind: u8) -> bool {
    matches!(kind, 3 | 4 | 5 | 11 | 12)
}

/// ICMPv6 errors are the types below 128 (`icmpv6_error`).
pub const fn is_error_v6(kind: u8) -> bool {
    kind < 128
}

/// `noct_valid_new` of nf_conntrack_proto_icmpv6.c: MLD (130, 131, 132, 143) and neighbour
/// discovery (133 to 136) are never tracked; the kernel marks them UNTRACKED.
pub const fn untracked_v6(kind: u8) -> bool {
    matches!(kind, 130..=136 | 143)
}

/// `nf_conntrack_icmpv6_packet`: only an echo request (128) or node information query (139)
/// may create an entry; packets of a confirmed entry are always fine.
pub fn packet_v6(orig_kind: u8, confirmed: bool, p: &Params) -> L4Result {
    if confirmed || matches!(orig_kind, 128 | 139) {
        L4Result::Accept {
            timeout: Some(p.icmpv6_timeout),
        }
    } else {
        L4Result::Invalid(InvalidReason::IcmpNotRequest)
    }
}

/// Protocols whose tuple carries ports (`nf_ct_get_tuple`): TCP, UDP, UDP-Lite, SCTP.
pub const fn has_ports(proto: u8) -> bool {
    matches!(proto, 6 | 17 | 136 | 132)
}

/// The tuple the quoted packet belongs to, inverted (`nf_ct_get_tuplepr` + `nf_ct_invert_tuple`):
/// the error travels against the quoted packet.
pub fn error_lookup_tuple(q: Option<&Quoted>) -> Result<Tuple, InvalidReason> {
    let q = q.ok_or(InvalidReason::IcmpErrorQuote)?;
    if q.fragment {
        return Err(InvalidReason::IcmpErrorQuote);
    }
    let l4 = match (q.proto, q.l4) {
        (_, QuotedL4::Truncated) => return Err(InvalidReason::IcmpErrorQuote),
        (PROTO_ICMP | PROTO_ICMPV6, QuotedL4::Icmp { kind, code, id }) => {
            L4Key::Icmp { id, kind, code }
        }
        (PROTO_ICMP | PROTO_ICMPV6, _) => return Err(InvalidReason::IcmpErrorQuote),
        (p, QuotedL4::Ports { src, dst }) if has_ports(p) => L4Key::Ports { src, dst },
        (p, _) if has_ports(p) => return Err(InvalidReason::IcmpErrorQuote),
        _ => L4Key::None,
    };
    let quoted = Tuple {
        src: q.src,
        dst: q.dst,
        proto: q.proto,
        l4,
    };
    quoted.invert().ok_or(InvalidReason::IcmpErrorQuote)
}

/// `nf_conntrack_icmp_packet`: only an entry whose original tuple is a request is valid.
pub fn packet(orig_kind: u8, p: &Params) -> L4Result {
    if matches!(orig_kind, 8 | 13 | 15 | 17) {
        L4Result::Accept {
            timeout: Some(p.icmp_timeout),
        }
    } else {
        L4Result::Invalid(InvalidReason::IcmpNotRequest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(x: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, x))
    }

    #[test]
    fn quoted_udp_is_inverted() {
        let q = Quoted {
            src: ip(1),
            dst: ip(2),
            proto: 17,
            fragment: false,
            l4: QuotedL4::Ports { src: 5000, dst: 53 },
        };
        let t = error_lookup_tuple(Some(&q)).unwrap();
        assert_eq!(t.to_string(), "10.0.0.2:53>10.0.0.1:5000");
    }

    #[test]
    fn quoted_echo_becomes_reply() {
        let q = Quoted {
            src: ip(1),
            dst: ip(2),
            proto: 1,
            fragment: false,
            l4: QuotedL4::Icmp {
                kind: 8,
                code: 0,
                id: 4,
            },
        };
        let t = error_lookup_tuple(Some(&q)).unwrap();
        assert_eq!(
            t.l4,
            L4Key::Icmp {
                id: 4,
                kind: 0,
                code: 0
            }
        );
    }

    #[test]
    fn unusable_quotes() {
        let base = Quoted {
            src: ip(1),
            dst: ip(2),
            proto: 6,
            fragment: false,
            l4: QuotedL4::Truncated,
        };
        assert!(error_lookup_tuple(Some(&base)).is_err());
        assert!(error_lookup_tuple(None).is_err());
        let frag = Quoted {
            fragment: true,
            l4: QuotedL4::Ports { src: 1, dst: 2 },
            ..base
        };
        assert!(error_lookup_tuple(Some(&frag)).is_err());
        let err_in_err = Quoted {
            proto: 1,
            l4: QuotedL4::Icmp {
                kind: 3,
                code: 3,
                id: 0,
            },
            ..base
        };
        assert!(error_lookup_tuple(Some(&err_in_err)).is_err());
        let esp = Quoted {
            proto: 50,
            l4: QuotedL4::Other,
            ..base
        };
        assert_eq!(error_lookup_tuple(Some(&esp)).unwrap().l4, L4Key::None);
    }

    #[test]
    fn icmpv6_classes() {
        let p = Params::default();
        assert!(is_error_v6(1) && is_error_v6(4) && !is_error_v6(128));
        assert!(untracked_v6(135) && untracked_v6(143) && !untracked_v6(128) && !untracked_v6(137));
        assert_eq!(
            packet_v6(128, false, &p),
            L4Result::Accept { timeout: Some(30) }
        );
        assert!(matches!(packet_v6(129, false, &p), L4Result::Invalid(_)));
        assert_eq!(
            packet_v6(129, true, &p),
            L4Result::Accept { timeout: Some(30) }
        );
    }

    #[test]
    fn only_requests_are_valid_entries() {
        let p = Params::default();
        assert_eq!(packet(8, &p), L4Result::Accept { timeout: Some(30) });
        assert!(matches!(packet(0, &p), L4Result::Invalid(_)));
        assert!(is_error(3) && is_error(11) && !is_error(8));
    }
}
