//! Per-packet entry point: `nf_conntrack_in` and `resolve_normal_ct` (nf_conntrack_core.c).
//!
//! Order, as in the kernel: ICMP errors first (`nf_conntrack_icmpv4_error`/`icmpv6_error`:
//! RELATED to the
//! quoted flow or INVALID, never a new entry); then the tuple is looked up, or a new unconfirmed
//! entry is built (`init_conntrack`, which fails for tuples that cannot be inverted and takes a
//! matching expectation); the direction and the ctinfo are decided; the protocol tracker runs;
//! INVALID frees an unconfirmed entry; a TCP reopen deletes the entry and starts over once;
//! a reply sets SEEN_REPLY *after* the tracker ran. Invariant: a returned [`Verdict`] with
//! `unconfirmed` set names the table's single pending entry.
//!
//! Most packets take a shortcut through the same steps (`Table::track_known`): an IPv4 TCP or
//! UDP packet of a live entry is looked up by its numbers, without a [`Tuple`], and a UDP
//! packet or a TCP segment that [`tcp::fast`] can decide is tracked at once; anything else
//! (no entry, an expired one, a segment the fast path declines) goes the general way with
//! nothing changed, and with the lookup's result so that it is not made twice.

use std::net::IpAddr;

use super::entry::{Conn, CtView};
use super::params::Params;
use super::proto::icmp::QuotedL4;
use super::proto::{generic, gre, icmp, tcp, udp, L4Result, ProtoData};
use super::status::Status;
use super::table::{ConnId, Expectation, Lookup, Table, Template, NS};
use super::touch::Flow4;
use super::tuple::{Dir, L4Key, Tuple, PROTO_GRE, PROTO_ICMP, PROTO_ICMPV6};
use super::{CtState, Hook, InvalidReason, L4Info, PacketInfo, Verdict};

impl Table {
    /// Tracks one packet without a raw-table template.
    pub fn process(&mut self, pkt: &PacketInfo) -> Verdict {
        self.process_with(pkt, &Template::default())
    }

    /// Tracks one packet (`nf_conntrack_in`). A still-pending entry of the previous packet is
    /// discarded first: its packet can no longer be confirmed.
    pub fn process_with(&mut self, pkt: &PacketInfo, tmpl: &Template) -> Verdict {
        if let Some(old) = self.pending.take() {
            self.discard(old);
        }
        self.reap_dying();
        self.gc_step(pkt.ts_ns);
        let checked = self.params.checksum && pkt.hook == Hook::PreRouting;
        let known = match self.track_known(pkt, checked) {
            Known::Tracked(v) => return v,
            Known::Found(hit) => Some(hit),
            Known::Unread => None,
        };
        if let L4Info::Icmp(m) = pkt.l4 {
            if let Some(v) = self.icmp_first(pkt, &m, checked) {
                return v;
            }
        }
        let Some(tuple) = packet_tuple(pkt) else {
            return Verdict::invalid(InvalidReason::NoTuple);
        };
        // One retry: the TCP tracker asks for a fresh lookup after killing a closed entry.
        let first = self.resolve_and_track(pkt, tmpl, &tuple, checked, known);
        match first {
            Step::Done(v) => v,
            Step::Repeat => match self.resolve_and_track(pkt, tmpl, &tuple, checked, None) {
                Step::Done(v) => v,
                Step::Repeat => Verdict::invalid(InvalidReason::NoTuple),
            },
        }
    }

    /// `nf_conntrack_icmpv4_error` / `nf_conntrack_icmpv6_error`, which run before the lookup
    /// for every ICMP packet. `None` lets the packet go on to the normal lookup.
    fn icmp_first(
        &mut self,
        pkt: &PacketInfo,
        m: &icmp::Message,
        checked: bool,
    ) -> Option<Verdict> {
        if checked && !pkt.checksum_ok {
            return Some(Verdict::invalid(InvalidReason::BadChecksum));
        }
        if pkt.proto == PROTO_ICMPV6 {
            if icmp::untracked_v6(m.kind) {
                // Neighbour discovery and MLD: `nf_ct_set(skb, NULL, IP_CT_UNTRACKED)`.
                return Some(Verdict {
                    state: CtState::Untracked,
                    invalid: None,
                    ..Verdict::invalid(InvalidReason::NoTuple)
                });
            }
            return icmp::is_error_v6(m.kind).then(|| self.icmp_error(pkt, m));
        }
        if m.kind > icmp::NR_ICMP_TYPES {
            return Some(Verdict::invalid(InvalidReason::IcmpType));
        }
        icmp::is_error(m.kind).then(|| self.icmp_error(pkt, m))
    }

    /// `nf_conntrack_inet_error`: find the flow the error is about.
    fn icmp_error(&mut self, pkt: &PacketInfo, m: &icmp::Message) -> Verdict {
        let inner = match icmp::error_lookup_tuple(m.quoted.as_ref()) {
            Ok(t) => t,
            Err(why) => return Verdict::invalid(why),
        };
        let Some((id, dir)) = self.find(&inner, pkt.ts_ns) else {
            return Verdict::invalid(InvalidReason::IcmpErrorUnknownFlow);
        };
        let Some(conn) = self.get(id) else {
            return Verdict::invalid(InvalidReason::IcmpErrorUnknownFlow);
        };
        // The error must be addressed to the endpoint of that direction, or a host could make
        // arbitrary traffic RELATED by quoting someone else's flow.
        if conn.tuple(dir).dst != pkt.dst {
            return Verdict::invalid(InvalidReason::IcmpErrorWrongDestination);
        }
        Verdict {
            state: CtState::Related,
            dir: Some(dir),
            conn: Some(id),
            unconfirmed: false,
            killed: false,
            tcp_state: conn.tcp_state(),
            invalid: None,
        }
    }

    /// The common case, in one pass: an IPv4 TCP or UDP packet of a live, confirmed entry that
    /// its tracker accepts without special handling (for TCP, an in-window ACK or FIN-ACK of
    /// a known sender: [`tcp::fast`]). Looks the flow up from the packet's numbers,
    /// with no [`Tuple`] built. For every other packet it changes nothing and hands the
    /// general path what the lookup found, if it made one.
    #[inline]
    fn track_known(&mut self, pkt: &PacketInfo, checked: bool) -> Known {
        let (IpAddr::V4(src), IpAddr::V4(dst)) = (pkt.src, pkt.dst) else {
            return Known::Unread;
        };
        let (sport, dport) = match &pkt.l4 {
            L4Info::Tcp(seg) => (seg.sport, seg.dport),
            L4Info::Udp(d) => (d.sport, d.dport),
            _ => return Known::Unread,
        };
        let (src, dst, proto) = (u32::from(src), u32::from(dst), pkt.proto);
        let flow = Flow4 {
            src,
            dst,
            proto,
            sport,
            dport,
        };
        let (id, dir, params, conn) = match self.known_v4(&flow, pkt.ts_ns) {
            Lookup::Live(id, dir, params, conn) => (id, dir, params, conn),
            Lookup::Absent => return Known::Found(None),
            Lookup::Other => return Known::Unread,
        };
        let hit = Known::Found(Some((id, dir)));
        let state = conn_state(conn, dir);
        let timeout = match (&pkt.l4, &mut conn.proto) {
            (L4Info::Tcp(seg), ProtoData::Tcp(tc)) => {
                // tcp_error's flag check is implied by the segments the fast path accepts.
                if tcp::packet::header_error(seg, checked, pkt.checksum_ok).is_some() {
                    return hit;
                }
                // Only a NAT helper's payload rewrite adjusts sequence numbers, and it sets
                // SEQ_ADJUST with the adjustment (`nf_ct_seqadj_set`); without the bit the
                // offsets are 0, so the adjustment (another cache line) is not read.
                let ack_offset = if conn.status.has(Status::SEQ_ADJUST) {
                    conn.help.seqadj[dir.flip().idx()].offset(seg.ack.wrapping_sub(1))
                } else {
                    0
                };
                let fast =
                    tcp::fast::ack_in_window(tc, &mut conn.status, params, dir, seg, ack_offset);
                let Some(t) = fast else { return hit };
                t
            }
            (L4Info::Udp(d), ProtoData::Udp { stream_ts_ns }) => {
                if udp::udp_error(d, checked, pkt.checksum_ok).is_some() {
                    return hit;
                }
                udp::timeout(*stream_ts_ns, &mut conn.status, params, pkt.ts_ns)
            }
            _ => return hit,
        };
        let tcp_state = refresh(conn, dir, Some(timeout), pkt.ts_ns);
        Known::Tracked(Verdict {
            state,
            dir: Some(dir),
            conn: Some(id),
            unconfirmed: false,
            killed: false,
            tcp_state,
            invalid: None,
        })
    }

    /// Finds the packet's entry or makes a new one, then tracks the packet. `known` is what
    /// [`Table::track_known`] found for the same tuple, when it looked: no entry, or a live one.
    fn resolve_and_track(
        &mut self,
        pkt: &PacketInfo,
        tmpl: &Template,
        tuple: &Tuple,
        checked: bool,
        known: Option<Option<(ConnId, Dir)>>,
    ) -> Step {
        let found = match known {
            Some(hit) => hit,
            None => self.find(tuple, pkt.ts_ns),
        };
        let (id, dir, fresh) = match found {
            Some((id, dir)) => (id, dir, false),
            None => match self.init_conntrack(pkt, tmpl, tuple) {
                Ok(id) => (id, Dir::Original, true),
                Err(why) => return Step::Done(Verdict::invalid(why)),
            },
        };
        // One borrow of the entry for the state, the tracker and the refresh: with many
        // connections the entry is a cache miss, and each look-up by id costs instructions.
        let (params, Some(conn)) = self.params_and_conn(id) else {
            return Step::Done(Verdict::invalid(InvalidReason::NoTuple));
        };
        let state = conn_state(conn, dir);
        let res = run_tracker(conn, params, pkt, dir, fresh, checked);
        let mut v = Verdict {
            state,
            dir: Some(dir),
            conn: Some(id),
            unconfirmed: fresh,
            killed: false,
            tcp_state: None,
            invalid: None,
        };
        match res {
            L4Result::Accept { timeout } => {
                v.tcp_state = refresh(conn, dir, timeout, pkt.ts_ns);
                Step::Done(v)
            }
            L4Result::Invalid(why) => {
                self.discard(id);
                Step::Done(Verdict::invalid(why))
            }
            L4Result::Repeat => {
                self.remove(id);
                Step::Repeat
            }
            L4Result::Kill => {
                v.tcp_state = conn.tcp_state();
                self.kill(id);
                v.conn = None;
                v.unconfirmed = false;
                v.killed = true;
                Step::Done(v)
            }
        }
    }

    /// `init_conntrack`: a new, unconfirmed entry for a tuple nobody holds.
    fn init_conntrack(
        &mut self,
        pkt: &PacketInfo,
        tmpl: &Template,
        tuple: &Tuple,
    ) -> Result<ConnId, InvalidReason> {
        let reply = tuple.invert().ok_or(InvalidReason::IcmpNoInverse)?;
        let proto = match pkt.l4 {
            // Filled by tcp_new once tcp_error has passed.
            L4Info::Tcp(_) => ProtoData::Tcp(tcp::TcpConn::default()),
            L4Info::Udp(_) => udp::udp_new(pkt.ts_ns),
            _ => ProtoData::None,
        };
        // What an expectation (or else the template) gives the entry, decided before the
        // entry is made so that it is built once, in its slot.
        let exp = self.take_expectation(tuple, pkt.ts_ns);
        let (status, master, helper, mark) = match &exp {
            Some(e) => (
                Status(Status::EXPECTED),
                Some(e.master),
                e.helper,
                self.get(e.master).map_or(0, |m| m.mark),
            ),
            None => match tmpl.helper {
                Some(h) => (Status(Status::HELPER), None, Some(h), 0),
                None => (Status::default(), None, None, 0),
            },
        };
        let id = self.insert_unconfirmed_with(|| Conn {
            tuple: [*tuple, reply],
            status,
            expires_ns: pkt.ts_ns,
            proto,
            helper,
            master,
            mark,
            help: Default::default(),
            acct: [(0, 0); 2],
            lanes: Default::default(),
        });
        // exp->expectfn, called at the end of init_conntrack.
        if let Some(Expectation {
            master,
            nat: Some(nat),
            ..
        }) = exp
        {
            self.nat_follow_master(id, master, nat, pkt.ts_ns);
        }
        Ok(id)
    }
}

/// The state a packet of a known entry has before its tracker runs (`nf_conntrack_in`'s
/// ctinfo: a reply, or any packet once a reply was seen, is ESTABLISHED; an expected
/// connection's packets are RELATED until then).
///
/// Picked from a table rather than by branches: the direction of a packet follows the
/// traffic, and as a branch it was mispredicted about every third packet.
#[inline]
fn conn_state(conn: &Conn, dir: Dir) -> CtState {
    const STATES: [CtState; 4] = [
        CtState::New,
        CtState::Related,
        CtState::Established,
        CtState::Established,
    ];
    // `|`, not `||`: both sides are cheap, and a short circuit is a branch.
    let established = (dir == Dir::Reply) | conn.status.has(Status::SEEN_REPLY);
    let expected = conn.status.has(Status::EXPECTED);
    STATES[usize::from(established) << 1 | usize::from(expected)]
}

/// `nf_conntrack_handle_packet`.
fn run_tracker(
    conn: &mut Conn,
    params: &Params,
    pkt: &PacketInfo,
    dir: Dir,
    fresh: bool,
    checked: bool,
) -> L4Result {
    let now = pkt.ts_ns;
    match (&pkt.l4, &mut conn.proto) {
        (L4Info::Tcp(seg), ProtoData::Tcp(tc)) => {
            if let Some(why) = tcp::packet::tcp_error(seg, checked, pkt.checksum_ok) {
                return L4Result::Invalid(why.into());
            }
            if fresh {
                match tcp::packet::tcp_new(seg, params) {
                    Ok(t) => *tc = t,
                    Err(why) => return L4Result::Invalid(why.into()),
                }
            }
            let mut remaining = conn.expires_ns.saturating_sub(now);
            let ack_offset = conn.help.seqadj[dir.flip().idx()].offset(seg.ack.wrapping_sub(1));
            let mut ctx = tcp::packet::Ctx {
                status: &mut conn.status,
                params,
                remaining_ns: &mut remaining,
                ack_offset,
            };
            let r = tcp::packet::packet(tc, &mut ctx, dir, seg);
            if remaining < conn.expires_ns.saturating_sub(now) {
                conn.expires_ns = now.saturating_add(remaining);
            }
            r
        }
        (L4Info::Udp(d), ProtoData::Udp { stream_ts_ns }) => {
            if let Some(why) = udp::udp_error(d, checked, pkt.checksum_ok) {
                return L4Result::Invalid(why);
            }
            udp::packet(*stream_ts_ns, &mut conn.status, params, now)
        }
        (L4Info::Icmp(_), _) if pkt.proto == PROTO_ICMP => match conn.tuple[0].l4 {
            L4Key::Icmp { kind, .. } => icmp::packet(kind, params),
            _ => L4Result::Invalid(InvalidReason::IcmpNotRequest),
        },
        (L4Info::Icmp(_), _) if pkt.proto == PROTO_ICMPV6 => match conn.tuple[0].l4 {
            L4Key::Icmp { kind, .. } => icmp::packet_v6(kind, !fresh, params),
            _ => L4Result::Invalid(InvalidReason::IcmpNotRequest),
        },
        _ if pkt.proto == PROTO_GRE => gre::packet(&mut conn.status, params),
        _ => generic::packet(params),
    }
}

/// The tracker accepted the packet (`nf_conntrack_in` after `NF_ACCEPT`): refresh the timer
/// unless it is fixed, and set SEEN_REPLY *after* the tracker ran. Returns the TCP state.
fn refresh(c: &mut Conn, dir: Dir, timeout: Option<u32>, now_ns: u64) -> Option<tcp::TcpState> {
    if let Some(secs) = timeout.filter(|_| !c.status.has(Status::FIXED_TIMEOUT)) {
        c.expires_ns = now_ns.saturating_add(u64::from(secs) * NS);
    }
    // As a mask, not a branch (the direction is not predictable; see `conn_state`).
    c.status.0 |= Status::SEEN_REPLY * u32::from(dir == Dir::Reply);
    c.tcp_state()
}

impl Table {
    /// The view of the entry a packet maps to after processing, as the oracle's `ct_after`:
    /// the packet's own tuple, or for an ICMP error the quoted packet's tuple.
    pub fn view_for_packet(&self, pkt: &PacketInfo) -> Option<CtView> {
        self.view_of_tuple(&packet_tuple(pkt)?, pkt.ts_ns)
    }
}

/// The tuple written in a packet's headers (`nf_ct_get_tuple`, not inverted); for an ICMP
/// error, the tuple of the packet it quotes. `None` when no tuple can be read.
pub fn packet_tuple(pkt: &PacketInfo) -> Option<Tuple> {
    let (src, dst, proto) = (pkt.src, pkt.dst, pkt.proto);
    let l4 = match pkt.l4 {
        L4Info::Tcp(s) => L4Key::Ports {
            src: s.sport,
            dst: s.dport,
        },
        L4Info::Udp(d) => L4Key::Ports {
            src: d.sport,
            dst: d.dport,
        },
        L4Info::Icmp(m) if is_icmp_error(proto, m.kind) => {
            let q = m.quoted?;
            let l4 = match q.l4 {
                QuotedL4::Ports { src, dst } => L4Key::Ports { src, dst },
                QuotedL4::Icmp { kind, code, id } => L4Key::Icmp { id, kind, code },
                QuotedL4::Other => L4Key::None,
                QuotedL4::Truncated => return None,
            };
            return Some(Tuple {
                src: q.src,
                dst: q.dst,
                proto: q.proto,
                l4,
            });
        }
        L4Info::Icmp(m) => L4Key::Icmp {
            id: m.id,
            kind: m.kind,
            code: m.code,
        },
        L4Info::Other {
            ports: Some((src, dst)),
        } if icmp::has_ports(proto) => L4Key::Ports { src, dst },
        L4Info::Other { .. } => L4Key::None,
        L4Info::Unreadable => return None,
    };
    Some(Tuple {
        src,
        dst,
        proto,
        l4,
    })
}

/// Whether an ICMP message of this family is an error (which carries a quoted packet).
fn is_icmp_error(proto: u8, kind: u8) -> bool {
    if proto == PROTO_ICMPV6 {
        icmp::is_error_v6(kind)
    } else {
        icmp::is_error(kind)
    }
}

enum Step {
    Done(Verdict),
    Repeat,
}

/// What [`Table::track_known`] did with a packet.
enum Known {
    /// Tracked it: the packet's verdict.
    Tracked(Verdict),
    /// Looked its tuple up and changed nothing: what [`Table::find`] would return for it now
    /// (no entry, or a live one; an expired one is left to `find`, which deletes it).
    Found(Option<(ConnId, Dir)>),
    /// Did not look (not an IPv4 TCP or UDP packet, or an expired entry).
    Unread,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::{IcmpMessage, Params, Quoted};
    use std::net::{IpAddr, Ipv6Addr};

    fn v6(x: u16) -> IpAddr {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, x))
    }

    fn icmp6(src: u16, dst: u16, kind: u8, quoted: Option<Quoted>) -> PacketInfo {
        let m = IcmpMessage {
            kind,
            code: 0,
            id: 9,
            quoted,
        };
        PacketInfo {
            src: v6(src),
            dst: v6(dst),
            proto: PROTO_ICMPV6,
            l4: L4Info::Icmp(m),
            ts_ns: 1,
            hook: Hook::PreRouting,
            checksum_ok: true,
        }
    }

    #[test]
    fn icmpv6_echo_nd_and_errors() {
        let mut t = Table::new(Params::default());
        assert_eq!(t.process(&icmp6(2, 1, 129, None)).state, CtState::Invalid);
        let v = t.process(&icmp6(1, 2, 128, None));
        assert_eq!(v.state, CtState::New);
        t.confirm(v.conn.unwrap()).unwrap();
        let r = t.process(&icmp6(2, 1, 129, None));
        assert_eq!((r.state, r.dir), (CtState::Established, Some(Dir::Reply)));
        let ns = t.process(&icmp6(1, 2, 135, None));
        assert_eq!((ns.state, ns.conn), (CtState::Untracked, None));
        let quote = Quoted {
            src: v6(1),
            dst: v6(2),
            proto: PROTO_ICMPV6,
            fragment: false,
            l4: QuotedL4::Icmp {
                kind: 128,
                code: 0,
                id: 9,
            },
        };
        let err = t.process(&icmp6(3, 1, 1, Some(quote)));
        assert_eq!((err.state, err.dir), (CtState::Related, Some(Dir::Reply)));
        let other = Quoted {
            src: v6(1),
            dst: v6(7),
            ..quote
        };
        assert_eq!(
            t.process(&icmp6(3, 1, 1, Some(other))).state,
            CtState::Invalid
        );
    }
}
