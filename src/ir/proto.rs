//! Layer-4 protocol names and numbers as iptables reads (`-p`) and prints them.

use crate::ext::netdb;

/// `xtables_chain_protos`: names iptables knows without /etc/protocols; they
/// win over the system database when printing.
const CHAIN_PROTOS: &[(&str, u8)] = &[
    ("tcp", 6),
    ("sctp", 132),
    ("udp", 17),
    ("udplite", 136),
    ("icmp", 1),
    ("icmpv6", 58),
    ("esp", 50),
    ("ah", 51),
    ("mh", 135),
    ("all", 0),
];

/// `xtables_parse_protocol` after `-p`'s lowercasing: a number 0-255, `all`,
/// a name from /etc/protocols, or one of `CHAIN_PROTOS`.
pub fn parse(s: &str) -> Option<u8> {
    // The names nearly every rule uses, answered before lowercasing allocates
    // (/etc/protocols gives them the same numbers).
    match s {
        "tcp" => return Some(6),
        "udp" => return Some(17),
        "icmp" => return Some(1),
        _ => {}
    }
    let s = s.to_ascii_lowercase();
    if let Some(n) = crate::ext::value::number(&s, 0, 255) {
        return Some(n as u8);
    }
    if s == "all" {
        return Some(0);
    }
    netdb::protocol_number(&s)
        .or_else(|| CHAIN_PROTOS.iter().find(|(n, _)| *n == s).map(|(_, p)| *p))
}

/// `proto_to_name(proto, 0)`: the name `iptables-save` prints after `-p`, or
/// `None` to print the number.
pub fn name(proto: u8) -> Option<&'static str> {
    CHAIN_PROTOS
        .iter()
        .find(|(_, p)| *p == proto)
        .map(|(n, _)| *n)
        .or_else(|| (proto != 0).then(|| netdb::protocol_name(proto)).flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("TCP"), Some(6));
        assert_eq!(parse("6"), Some(6));
        assert_eq!(parse("all"), Some(0));
        assert_eq!(parse("gre"), Some(47));
        assert_eq!(parse("nope"), None);
        assert_eq!(name(6), Some("tcp"));
        assert_eq!(name(47), Some("gre"));
        assert_eq!(name(0), Some("all"));
    }
}
