//! The conntrack side of stateful matches: [`ConnView`] over the replay's
//! conntrack table, and per-connection accounting.
//!
//! `ext` knows nothing of `conntrack`; this is where the two meet. Tuples
//! cross as [`ConnKey`] (IPv4 addresses, protocol, ports or ICMP identity).

use crate::conntrack::{self, CtState, Dir, L4Key, Tuple};
use crate::ext::facts::{Facts, L4Facts};
use crate::ext::state::{Acct, ConnKey, ConnView, Presence};
use std::net::{IpAddr, Ipv4Addr};

/// The conntrack table as one packet's matches see it.
pub struct Conns<'a> {
    pub table: &'a conntrack::Table,
    /// The packet's conntrack verdict (`None` before the conntrack hook or
    /// when untracked).
    pub conn: Option<conntrack::Verdict>,
    pub now_ns: u64,
}

impl ConnView for Conns<'_> {
    fn current(&self) -> Option<ConnKey> {
        let c = self.table.get(self.conn?.conn?)?;
        key_of(c.tuple(Dir::Original))
    }

    fn presence(&self, key: &ConnKey) -> Presence {
        let Some(view) = self.table.view_of_tuple(&tuple_of(key), self.now_ns) else {
            return Presence::Gone;
        };
        // already_closed() in nf_conncount.c: TCP in TIME_WAIT or CLOSE.
        match view.tcp_state {
            Some("TIME_WAIT" | "CLOSE") => Presence::Closed,
            _ => Presence::Alive,
        }
    }

    fn acct(&self) -> Option<Acct> {
        Some(self.table.get(self.conn?.conn?)?.acct)
    }
}

/// A conntrack tuple as a [`ConnKey`] (IPv4 only).
pub fn key_of(t: &Tuple) -> Option<ConnKey> {
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (t.src, t.dst) else {
        return None;
    };
    let l4 = match t.l4 {
        L4Key::Ports { src, dst } => (src, dst),
        L4Key::Icmp { id, kind, code } => (id, u16::from(kind) << 8 | u16::from(code)),
        L4Key::None => (0, 0),
    };
    Some(ConnKey {
        proto: t.proto,
        src: u32::from(src),
        dst: u32::from(dst),
        l4,
    })
}

/// The conntrack tuple a [`ConnKey`] stands for.
fn tuple_of(k: &ConnKey) -> Tuple {
    let l4 = match k.proto {
        1 => L4Key::Icmp {
            id: k.l4.0,
            kind: (k.l4.1 >> 8) as u8,
            code: k.l4.1 as u8,
        },
        6 | 17 | 33 | 132 | 136 => L4Key::Ports {
            src: k.l4.0,
            dst: k.l4.1,
        },
        _ => L4Key::None,
    };
    Tuple {
        src: IpAddr::V4(Ipv4Addr::from(k.src)),
        dst: IpAddr::V4(Ipv4Addr::from(k.dst)),
        proto: k.proto,
        l4,
    }
}

/// Whether conntrack accounts this packet to its entry: the protocol
/// tracker's `nf_ct_refresh_acct` runs for packets of the entry itself, not
/// for ICMP errors, which `nf_conntrack_handle_icmp` attaches to the entry
/// they quote without running a tracker.
pub fn accounted(v: &conntrack::Verdict, facts: &Facts) -> bool {
    let icmp_error = matches!(
        facts.l4,
        L4Facts::Icmp {
            kind: 3 | 4 | 5 | 11 | 12,
            ..
        }
    );
    v.conn.is_some()
        && !v.killed
        && matches!(
            v.state,
            CtState::New | CtState::Established | CtState::Related
        )
        && !(v.state == CtState::Related && icmp_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for k in [
            ConnKey {
                proto: 6,
                src: 1,
                dst: 2,
                l4: (40000, 22),
            },
            ConnKey {
                proto: 1,
                src: 1,
                dst: 2,
                l4: (7, 8 << 8),
            },
            ConnKey {
                proto: 47,
                src: 1,
                dst: 2,
                l4: (0, 0),
            },
        ] {
            assert_eq!(key_of(&tuple_of(&k)), Some(k));
        }
    }
}
