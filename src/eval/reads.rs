//! What a rule reads of a packet beyond its flow, so the replay may reuse a
//! connection's table walks ([`super::engine`]'s established-flow lane).
//!
//! For the packets of one connection direction, the header fields the rules
//! see (addresses, protocol, ports, interfaces, no fragment offset) never
//! change, and neither do the conntrack tuples, helper or master; the
//! conntrack state, direction and mark and the packet type are compared by
//! the lane on every packet. A walk whose tested rules read nothing else is a
//! pure function of those, so its outcome (verdict, counters to bump, matched
//! rules) can be replayed for the next packet of the same flow, state, mark
//! and packet type without walking. [`Reads`] names what else a rule reads:
//! the TCP flags and the conntrack status are small and are compared too;
//! anything else ([`Reads::OPAQUE`]: lengths, TTL, time, rates, memory
//! across packets, options, payload) makes the walk unrepeatable.
//!
//! The classification is a whitelist: a match extension not named below is
//! opaque, so a new extension can never make the lane wrong, only slower.

use crate::ext::Match;
use crate::ir::Rule;

/// Packet properties beyond the flow that a rule reads (a bit set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Reads(u8);

impl Reads {
    /// Only what is fixed for a connection direction (see the module docs).
    pub const FLOW: Reads = Reads(0);
    /// The TCP flags byte (`--tcp-flags`, `--syn`).
    pub const TCP_FLAGS: Reads = Reads(1);
    /// The conntrack status bits (`--ctstatus`).
    pub const CT_STATUS: Reads = Reads(2);
    /// A flow field the header classes of the lane's cross-connection sharing
    /// do not cut (the host's address types, the master's helper, conntrack
    /// tuples): the walk is repeatable for its own connection, but is not
    /// shared with others of its class (see `engine::shared`).
    pub const UNCLASSED: Reads = Reads(4);
    /// Something the lane does not compare: the walk cannot be reused.
    pub const OPAQUE: Reads = Reads(0x80);

    pub fn has(self, other: Reads) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for Reads {
    type Output = Reads;
    fn bitor(self, rhs: Reads) -> Reads {
        Reads(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Reads {
    fn bitor_assign(&mut self, rhs: Reads) {
        self.0 |= rhs.0;
    }
}

/// What testing `rule` reads (its header reads only flow fields). Its target
/// is not included: the walk adds [`Reads::OPAQUE`] when an extension target
/// runs, since targets change the packet, the connection or memory.
pub fn of_rule(rule: &Rule) -> Reads {
    rule.matches
        .iter()
        .fold(Reads::FLOW, |r, m| r | of_match(&m.m))
}

/// What one match extension reads.
pub fn of_match(m: &Match) -> Reads {
    match m {
        // Ports are the flow's; flags are compared; an option needs the options bytes.
        Match::Tcp(t) if t.option.is_some() => Reads::OPAQUE,
        Match::Tcp(t) if t.flags.is_some() => Reads::TCP_FLAGS,
        Match::Tcp(_) | Match::Udp(_) | Match::Multiport(_) => Reads::FLOW,
        // Addresses (and their types on this host, with the flow's interfaces).
        Match::Iprange(_) => Reads::FLOW,
        Match::Addrtype(_) => Reads::UNCLASSED,
        Match::Comment(_) => Reads::FLOW,
        // State, direction and ct mark are part of the lane's key; the skb mark
        // is 0 on every packet whose walks are reused (MARK is an extension
        // target, which makes its walk opaque).
        Match::State(_) | Match::Connmark(_) | Match::Mark(_) => Reads::FLOW,
        // The helper of the connection and of its master are fixed at creation.
        Match::Helper(_) => Reads::UNCLASSED,
        // `pkttype` is part of the key.
        Match::Pkttype(_) => Reads::FLOW,
        Match::Conntrack(c) if c.expires.is_some() => Reads::OPAQUE,
        // Tuples and protocol are the connection's; the virtual SNAT/DNAT
        // states come from status bits set before the entry is confirmed.
        Match::Conntrack(c) => {
            let status = match c.status {
                Some(_) => Reads::CT_STATUS,
                None => Reads::FLOW,
            };
            let tuples = [c.origsrc, c.origdst, c.replsrc, c.repldst]
                .iter()
                .any(Option::is_some)
                || [
                    c.origsrc_port,
                    c.origdst_port,
                    c.replsrc_port,
                    c.repldst_port,
                ]
                .iter()
                .any(Option::is_some);
            status
                | if tuples {
                    Reads::UNCLASSED
                } else {
                    Reads::FLOW
                }
        }
        _ => Reads::OPAQUE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(rule: &str) -> Reads {
        let text = format!("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {rule}\nCOMMIT\n");
        let l = crate::ir::load(&crate::source::SourceFile::new("t", &text));
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        of_rule(&l.ruleset.tables[0].chains[0].rules[0])
    }

    #[test]
    fn flow_fields_are_free_and_the_rest_is_named() {
        assert_eq!(
            reads("-s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT"),
            Reads::FLOW
        );
        assert_eq!(
            reads("-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"),
            Reads::FLOW
        );
        assert_eq!(reads("-p tcp --syn -j ACCEPT"), Reads::TCP_FLAGS);
        assert_eq!(
            reads("-m conntrack --ctstatus ASSURED -j ACCEPT"),
            Reads::CT_STATUS
        );
        assert_eq!(
            reads("-m conntrack --ctstatus ASSURED --ctorigsrc 10.0.0.1 -j ACCEPT"),
            Reads::CT_STATUS | Reads::UNCLASSED
        );
        assert_eq!(
            reads("-m conntrack --ctstate NEW --ctreplsrcport 80 -j ACCEPT"),
            Reads::UNCLASSED
        );
        assert_eq!(
            reads("-m addrtype --dst-type LOCAL -j ACCEPT"),
            Reads::UNCLASSED
        );
        assert_eq!(
            reads("-m conntrack --ctexpire 1:10 -j ACCEPT"),
            Reads::OPAQUE
        );
        assert_eq!(reads("-m length --length 0:100 -j ACCEPT"), Reads::OPAQUE);
        assert_eq!(reads("-m limit --limit 1/s -j ACCEPT"), Reads::OPAQUE);
        assert_eq!(reads("-p tcp --tcp-option 2 -j ACCEPT"), Reads::OPAQUE);
        assert!((Reads::TCP_FLAGS | Reads::OPAQUE).has(Reads::OPAQUE));
    }
}
