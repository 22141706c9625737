//! The words of an `ipset add` line: addresses, networks and ranges, ports
//! with their protocol, ICMP names, as ipset's userspace parses them
//! (lib/parse.c: `ipset_parse_ip`, `ipset_parse_net`, `ipset_parse_proto_port`,
//! lib/icmp.c for the ICMP names).
//!
//! Ranges and CIDRs expand the way ipset's kernel `uadt` functions walk them:
//! hash:ip adds every address (every netmask block), hash:net splits a range
//! into the fewest CIDRs (`ip_set_range_to_cidr`).

use crate::ext::netdb;
use std::net::Ipv4Addr;

/// ICMP codenames of ipset's lib/icmp.c, with type and code.
pub const ICMP_NAMES: &[(&str, u8, u8)] = &[
    ("echo-reply", 0, 0),
    ("pong", 0, 0),
    ("network-unreachable", 3, 0),
    ("host-unreachable", 3, 1),
    ("protocol-unreachable", 3, 2),
    ("port-unreachable", 3, 3),
    ("fragmentation-needed", 3, 4),
    ("source-route-failed", 3, 5),
    ("network-unknown", 3, 6),
    ("host-unknown", 3, 7),
    ("network-prohibited", 3, 9),
    ("host-prohibited", 3, 10),
    ("TOS-network-unreachable", 3, 11),
    ("TOS-host-unreachable", 3, 12),
    ("communication-prohibited", 3, 13),
    ("host-precedence-violation", 3, 14),
    ("precedence-cutoff", 3, 15),
    ("source-quench", 4, 0),
    ("network-redirect", 5, 0),
    ("host-redirect", 5, 1),
    ("TOS-network-redirect", 5, 2),
    ("TOS-host-redirect", 5, 3),
    ("echo-request", 8, 0),
    ("ping", 8, 0),
    ("router-advertisement", 9, 0),
    ("router-solicitation", 10, 0),
    ("ttl-zero-during-transit", 11, 0),
    ("ttl-zero-during-reassembly", 11, 1),
    ("ip-header-bad", 12, 0),
    ("required-option-missing", 12, 1),
    ("timestamp-request", 13, 0),
    ("timestamp-reply", 14, 0),
    ("address-mask-request", 17, 0),
    ("address-mask-reply", 18, 0),
];

/// The first codename of an ICMP type/code (what `ipset save` prints).
pub fn icmp_name(kind: u8, code: u8) -> Option<&'static str> {
    ICMP_NAMES
        .iter()
        .find(|(_, t, c)| *t == kind && *c == code)
        .map(|(n, _, _)| *n)
}

/// A dotted-quad IPv4 address (ipset resolves host names too; a file meant
/// for an offline replay should not depend on DNS, so they are refused).
pub fn ip(s: &str) -> Result<u32, String> {
    s.parse::<Ipv4Addr>()
        .map(u32::from)
        .map_err(|_| format!("cannot parse {s} as an IPv4 address"))
}

/// The netmask of a prefix length.
pub fn mask(cidr: u8) -> u32 {
    if cidr == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(cidr.min(32)))
    }
}

fn prefix(s: &str, min: u8) -> Result<u8, String> {
    match s.parse::<u8>() {
        Ok(c) if (min..=32).contains(&c) => Ok(c),
        _ => Err(format!("invalid CIDR prefix /{s}: it must be {min}-32")),
    }
}

/// `IP`, `IP/CIDR` or `FROM-TO`: the inclusive address range it names.
pub fn ip_range(s: &str) -> Result<(u32, u32), String> {
    if let Some((a, b)) = s.split_once('-') {
        let (a, b) = (ip(a)?, ip(b)?);
        if a > b {
            return Err(format!("range {s}: the first address is above the last"));
        }
        return Ok((a, b));
    }
    if let Some((a, c)) = s.split_once('/') {
        let m = mask(prefix(c, 1)?);
        let a = ip(a)? & m;
        return Ok((a, a | !m));
    }
    let a = ip(s)?;
    Ok((a, a))
}

/// `IP[/CIDR]` of a hash:net element: address (masked) and prefix length
/// (32 when absent).
pub fn net(s: &str) -> Result<(u32, u8), String> {
    match s.split_once('/') {
        Some((a, c)) => {
            let c = prefix(c, 1)?;
            Ok((ip(a)? & mask(c), c))
        }
        None => Ok((ip(s)?, 32)),
    }
}

/// `ip_set_range_to_cidr`: the fewest CIDR blocks covering `from..=to`, in
/// ascending order.
pub fn range_to_cidrs(from: u32, to: u32) -> Vec<(u32, u8)> {
    let mut out = Vec::new();
    let mut a = u64::from(from);
    let end = u64::from(to);
    while a <= end {
        let mut c = 32u8;
        // Widen the block while it stays aligned at `a` and inside the range.
        while c > 1 {
            let size = 1u64 << (33 - u32::from(c));
            if a % size != 0 || a + size - 1 > end {
                break;
            }
            c -= 1;
        }
        out.push((a as u32, c));
        a += 1u64 << (32 - u32::from(c));
    }
    out
}

/// A `[PROTO:]PORT[-PORT]` word (`ipset_parse_proto_port`): the protocol
/// number and the inclusive port range; ICMP gives `type << 8 | code`.
/// Without a protocol the port is TCP.
pub fn proto_port(s: &str) -> Result<(u8, u16, u16), String> {
    let (proto, rest) = match s.split_once(':') {
        Some((p, r)) => {
            let num = p
                .parse::<u8>()
                .ok()
                .or_else(|| netdb::protocol_number(p))
                .ok_or_else(|| format!("unknown protocol {p}"))?;
            (num, r)
        }
        None => (6, s),
    };
    match proto {
        6 | 17 | 132 | 136 => {
            let pname = netdb::protocol_name(proto).unwrap_or("tcp");
            let (a, b) = match rest.split_once('-') {
                Some((a, b)) => (port(a, pname)?, port(b, pname)?),
                None => {
                    let p = port(rest, pname)?;
                    (p, p)
                }
            };
            Ok((proto, a.min(b), a.max(b)))
        }
        1 => {
            let v = icmp(rest)?;
            Ok((1, v, v))
        }
        _ if rest == "0" => Ok((proto, 0, 0)),
        _ => Err(format!(
            "protocol {proto} has no ports: only {}:0 is allowed",
            s.split(':').next().unwrap_or(s)
        )),
    }
}

/// A port number or service name.
pub fn port(s: &str, proto: &str) -> Result<u16, String> {
    s.parse::<u16>()
        .ok()
        .or_else(|| netdb::service_port(s, proto))
        .ok_or_else(|| format!("cannot parse {s} as a {proto} port"))
}

/// `icmp:NAME` or `icmp:TYPE/CODE` as `type << 8 | code`.
fn icmp(s: &str) -> Result<u16, String> {
    if let Some((t, c)) = s.split_once('/') {
        if let (Ok(t), Ok(c)) = (t.parse::<u8>(), c.parse::<u8>()) {
            return Ok(u16::from(t) << 8 | u16::from(c));
        }
    }
    ICMP_NAMES
        .iter()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, t, c)| u16::from(*t) << 8 | u16::from(*c))
        .ok_or_else(|| format!("unknown ICMP type {s}"))
}

/// How `ipset save` prints a protocol and port.
pub fn fmt_proto_port(proto: u8, port: u16) -> String {
    let pname = netdb::protocol_name(proto)
        .map(str::to_string)
        .unwrap_or_else(|| proto.to_string());
    if proto == 1 {
        let (t, c) = ((port >> 8) as u8, port as u8);
        return match icmp_name(t, c) {
            Some(n) => format!("icmp:{n}"),
            None => format!("icmp:{t}/{c}"),
        };
    }
    format!("{pname}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_nets() {
        assert_eq!(ip_range("10.0.1.0/30"), Ok((0x0a000100, 0x0a000103)));
        assert!(ip_range("10.0.0.9-10.0.0.7").is_err());
        assert_eq!(net("10.1.2.3/16"), Ok((0x0a010000, 16)));
        assert_eq!(net("10.1.2.3"), Ok((0x0a010203, 32)));
        assert!(net("10.1.2.3/0").is_err());
        // 192.168.0.0-192.168.0.5 is what `ipset add` turned into two nets.
        let (a, b) = ip_range("192.168.0.0-192.168.0.5").unwrap();
        assert_eq!(
            range_to_cidrs(a, b),
            vec![(0xc0a80000, 30), (0xc0a80004, 31)]
        );
        assert_eq!(range_to_cidrs(0, u32::MAX), vec![(0, 1), (0x8000_0000, 1)]);
    }

    #[test]
    fn ports_and_protocols() {
        assert_eq!(proto_port("80"), Ok((6, 80, 80)));
        assert_eq!(proto_port("udp:53"), Ok((17, 53, 53)));
        assert_eq!(proto_port("tcp:82-80"), Ok((6, 80, 82)));
        assert_eq!(proto_port("icmp:echo-request"), Ok((1, 0x0800, 0x0800)));
        assert_eq!(proto_port("icmp:3/3"), Ok((1, 0x0303, 0x0303)));
        assert_eq!(proto_port("gre:0"), Ok((47, 0, 0)));
        assert!(proto_port("gre:5").is_err());
        assert!(proto_port("tcp:99999").is_err());
        assert_eq!(fmt_proto_port(1, 0x0303), "icmp:port-unreachable");
        assert_eq!(fmt_proto_port(17, 53), "udp:53");
    }
}
