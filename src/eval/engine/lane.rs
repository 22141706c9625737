//! The established-flow lane: most packets belong to a connection whose
//! previous packet went through exactly the same table walks, so their
//! outcome is learned once per connection direction and replayed.
//!
//! Conntrack still sees every packet ([`conntrack::Table::process_with`]: TCP
//! window tracking, timeouts, state); only the walks are skipped. A packet
//! takes the lane when:
//! - it could not have been stopped or changed before conntrack: a complete,
//!   well-formed IPv4 TCP or UDP packet from the wire, not a fragment, with a
//!   good header checksum and a TTL above 1, and the raw table has no
//!   PREROUTING rule (see [`Lanes::new`]);
//! - conntrack puts it on a confirmed connection it did not kill, without a
//!   helper (whose `help` reads payloads) or NAT (which rewrites headers);
//! - the connection direction has a learned outcome for the same conntrack
//!   state, connection mark and packet type, and, when the learned walks
//!   read them, the same TCP flags and conntrack status.
//!
//! An outcome is learned from a packet the full path handled (the same
//! conditions, a lane miss) when every rule its walks tested read only what
//! [`Reads`] says the lane compares, and no extension target ran: then the
//! walks are a function of the compared values (see [`crate::eval::reads`]),
//! and a packet with the same values walks the same rules, bumps the same
//! counters and gets the same verdict. `tests/scenarios.rs` holds the lane to
//! the full path on every kernel-truth scenario, and a unit test below runs a
//! random mix both ways.
//!
//! A connection direction without a memo for its packet may copy one another
//! connection learned, filed under the packet's header classes and the lane's
//! key, when the walks it stands for read nothing those do not tell apart
//! (see [`super::shared`]): the first packets of most connections then skip
//! the full path too. So may the first packet of a connection (NEW, its
//! entry not confirmed yet) when the ruleset has no nat table (whose rules run
//! for that packet and bind the connection): its full path only walks the
//! tables and then confirms the entry, which the lane then does, when the
//! outcome it copies is one whose full path confirmed its entry.
//!
//! Memory: a [`LaneMemo`] per direction in each conntrack entry (where the
//! packet's lookup has just been, so checking it costs no cache miss), and
//! learned outcomes shared between connections (at most [`learned::MAX_PATHS`](super::learned::MAX_PATHS)
//! distinct ones).

mod record;

pub(super) use record::{LaneJson, PacketPart};
pub use record::{LaneKey, LaneRecord};

use super::learned::{Learned, PathRef};
use super::shared::{Classes, Key, Rest, Shared};
use crate::conntrack::{self, ConnId, CtState, Dir, LaneMemo, PacketInfo, Template};
use crate::eval::host::Host;
use crate::eval::reads::Reads;
use crate::eval::view::{ct_info, ct_info_plain};
use crate::ir::{Policy, Ruleset, TableKind};
use crate::packet::{Packet, Plain, L4};

/// What the lane compares of a packet, besides its connection direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Probe {
    pub(super) pkttype: u8,
    /// The TCP flags byte (0 for UDP).
    pub(super) flags: u8,
}

/// A lane miss to learn from once the full path has run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lesson {
    conn: ConnId,
    dir: Dir,
    state: CtState,
    probe: Probe,
    mark: u32,
    status: u32,
    /// The packet's header classes and key, when the ruleset has classes.
    class: Option<Key>,
    /// The packet created its entry, not confirmed yet (see [`Lanes::fresh`]).
    fresh: bool,
}

/// The outcomes learned, shared by the connection directions whose
/// [`LaneMemo`]s name them.
#[derive(Debug, Default)]
pub(super) struct Lanes {
    on: bool,
    /// The first packet of a connection may take a shared outcome: there is
    /// no nat table, so its full path only walks and confirms (see the module docs).
    fresh: bool,
    /// Learned outcomes; a memo's `path` is a number there.
    pub(super) learned: Learned,
    /// The ruleset's header classes (`None`: outcomes are not shared).
    classes: Option<Classes>,
    /// Memos shared between connections, by header class.
    shared: Shared,
    /// Packets that missed it and whose learned outcome then stood for their
    /// record (see [`super::Engine::learn_lane`]).
    pub(super) handed: u64,
}

impl Lanes {
    /// The lanes for a replay of `rs`, sharing outcomes by `classes` (those
    /// [`Lanes::classes`] made for `rs`); none when every packet must be walked (TRACE
    /// lines are made by walking), or when the raw table could stop a packet before
    /// conntrack: the lane asks conntrack first. An empty raw PREROUTING with an ACCEPT
    /// policy only counts the packet, and that count is learned like any other.
    pub(super) fn new(rs: &Ruleset, walk_every_packet: bool, classes: Option<Classes>) -> Lanes {
        let on = Lanes::may_run(rs, walk_every_packet);
        let nat = rs.tables.iter().any(|t| t.kind == TableKind::Nat);
        Lanes {
            on,
            fresh: on && !nat,
            classes: classes.filter(|_| on),
            ..Lanes::default()
        }
    }

    /// The header classes by which the lanes of a replay of `rs` on `host` share
    /// outcomes, if they run and may share (see [`Classes::new`]): the costly part of
    /// making lanes (~2 ms with 10,000 rules), which the workers of a sharded replay make
    /// once for all (see [`super::Compiling`]).
    pub(super) fn classes(rs: &Ruleset, host: &Host, walk_every_packet: bool) -> Option<Classes> {
        Lanes::may_run(rs, walk_every_packet)
            .then(|| Classes::new(rs, host))
            .flatten()
    }

    /// Whether lanes run at all for a replay of `rs` (see [`Lanes::new`]).
    fn may_run(rs: &Ruleset, walk_every_packet: bool) -> bool {
        let raw_may_stop = rs.tables.iter().any(|t| {
            t.kind == TableKind::Raw
                && t.chain_index("PREROUTING").is_some_and(|c| {
                    let chain = &t.chains[c];
                    !chain.rules.is_empty() || chain.policy == Some(Policy::Drop)
                })
        });
        !walk_every_packet && !raw_may_stop
    }

    /// Whether `pkt`, arriving from the wire, may take the lane: nothing before
    /// conntrack could stop or change it (see the module docs).
    pub(super) fn probe(&self, pkt: &Packet, trust_checksums: bool) -> Option<Probe> {
        if !self.on
            || pkt.problem.is_some()
            || pkt.ip.is_fragment()
            || pkt.ip.ttl() <= 1
            || !(trust_checksums || pkt.ip_checksum_ok())
        {
            return None;
        }
        let flags = match &pkt.l4 {
            L4::Tcp(t) if t.header_ok() => t.flags8(),
            L4::Udp(_) => 0,
            _ => return None,
        };
        Some(Probe {
            pkttype: super::pkttype(pkt.l2.pkttype, false),
            flags,
        })
    }

    /// The learned outcome for this packet and whether its entry lives on (a
    /// first packet's entry is confirmed here, see [`Lanes::fresh`], which may
    /// clash), or the lesson to learn from its full path (`None` when the
    /// connection may not take the lane). A packet that takes the lane is
    /// accounted to its entry here, where the entry is at hand
    /// (`nf_ct_refresh_acct`: `bytes` in direction `v.dir`), as the full path's
    /// conntrack would have.
    #[inline(always)]
    pub(super) fn lookup(
        &mut self,
        v: &conntrack::Verdict,
        ct: &mut conntrack::Table,
        probe: Probe,
        bytes: u64,
    ) -> Result<(u32, bool, Dir), Option<Lesson>> {
        let (Some(id), Some(dir)) = (v.conn, v.dir) else {
            return Err(None);
        };
        let fresh = v.unconfirmed && self.fresh && v.state == CtState::New;
        if (v.unconfirmed && !fresh)
            || v.killed
            || !matches!(
                v.state,
                CtState::New | CtState::Established | CtState::Related
            )
        {
            return Err(None);
        }
        let Some(conn) = ct.get_mut(id) else {
            return Err(None);
        };
        let nat = conntrack::Status::SRC_NAT | conntrack::Status::DST_NAT;
        if conn.helper.is_some() || conn.status.0 & nat != 0 {
            return Err(None);
        }
        let seen = Seen {
            state: if fresh { FRESH } else { state_code(v.state) },
            pkttype: probe.pkttype,
            flags: probe.flags,
            mark: conn.mark,
            status: conn.status.0,
        };
        let d = dir_index(dir);
        let memo = &conn.lanes[d];
        let mut learned = memo.path.wrapping_sub(1);
        if !(holds(memo, &seen) && self.learned.has(learned)) {
            let lesson = Lesson {
                conn: id,
                dir,
                state: v.state,
                probe,
                mark: conn.mark,
                status: conn.status.0,
                class: None,
                fresh,
            };
            learned = self.copy_shared(conn, lesson, seen)?;
        }
        let acct = &mut conn.acct[d];
        acct.0 += 1;
        acct.1 += bytes;
        if fresh {
            return Ok((learned, Self::confirm_fresh(ct, id), dir));
        }
        Ok((learned, true, dir))
    }

    /// The connection's own memo does not hold: one shared by its class may.
    /// Copies it into the entry and gives its learned outcome, or the lesson
    /// (with its class) to learn from the full path. Out of line: most
    /// packets' own memo holds, and [`Self::lookup`] is inlined.
    #[inline(never)]
    fn copy_shared(
        &mut self,
        conn: &mut conntrack::Conn,
        mut lesson: Lesson,
        seen: Seen,
    ) -> Result<u32, Option<Lesson>> {
        let rest = Rest {
            state: seen.state,
            dir: lesson.dir,
            pkttype: lesson.probe.pkttype,
            mark: lesson.mark,
        };
        lesson.class = self
            .classes
            .as_mut()
            .and_then(|c| c.key(conn.tuple(lesson.dir), rest));
        let shared = match &lesson.class {
            Some(k) => self.shared.get(k),
            None => None,
        };
        let memo = match shared {
            Some(m) if holds(m, &seen) => *m,
            _ => return Err(Some(lesson)),
        };
        let learned = memo.path.wrapping_sub(1);
        if !self.learned.has(learned) {
            return Err(Some(lesson));
        }
        let d = dir_index(lesson.dir);
        conn.lanes[d] = lesson.memo(memo.path, memo.compares);
        self.shared.hits += 1;
        if let (true, Some(key)) = (lesson.fresh, lesson.class) {
            self.settle_fresh(&mut conn.lanes[d], key);
        }
        Ok(learned)
    }

    /// After a connection's first packet (`FRESH`, which no later packet is), the memo
    /// its direction will want next: the one shared under the same key in state
    /// ESTABLISHED, if any, replaces the first packet's, so the next packet of the
    /// direction (ESTABLISHED once the reply is seen) finds its own memo instead of
    /// asking [`Self::copy_shared`] again, which would file its key anew and find
    /// this memo. The memo is checked when used ([`holds`]) as a copied one is.
    #[cold]
    fn settle_fresh(&mut self, own: &mut LaneMemo, key: Key) {
        let next = key.with_state(state_code(CtState::Established));
        if let Some(m) = self.shared.get(&next) {
            *own = *m;
            self.shared.hits += 1;
        }
    }

    /// What the full path does after its walks for a first packet
    /// (`nf_confirm`): whether its entry lives on (a clash frees it).
    #[cold]
    #[inline(never)]
    fn confirm_fresh(ct: &mut conntrack::Table, id: ConnId) -> bool {
        let _ = ct.confirm(id);
        ct.get(id).is_some()
    }

    /// Keeps `path` for the connection direction of `lesson`, when what the
    /// walks read is all compared by the lane; its number when kept. A first
    /// packet's outcome is kept only when its full path confirmed the entry:
    /// then the lane confirms the entries of those that take it.
    pub(super) fn learn(
        &mut self,
        ct: &mut conntrack::Table,
        lesson: Lesson,
        reads: Reads,
        path: PathRef,
    ) -> Option<u32> {
        if reads.has(Reads::OPAQUE) || (lesson.fresh && !ct.is_confirmed(lesson.conn)) {
            return None;
        }
        let number = self.learned.number(path)?;
        let conn = ct.get_mut(lesson.conn)?;
        let mut compares = 0;
        if reads.has(Reads::TCP_FLAGS) {
            compares |= FLAGS;
        }
        if reads.has(Reads::CT_STATUS) {
            compares |= STATUS;
        }
        let memo = lesson.memo(number, compares);
        conn.lanes[dir_index(lesson.dir)] = memo;
        if let (Some(key), false) = (lesson.class, reads.has(Reads::UNCLASSED)) {
            self.shared.keep(key, memo);
        }
        Some(number)
    }

    /// Packets that took the lane: each counted against the outcome it replayed.
    pub(super) fn taken(&self) -> u64 {
        self.learned.taken()
    }

    /// Connection directions that copied a memo shared by their header class.
    pub(super) fn shared_hits(&self) -> u64 {
        self.shared.hits
    }
}

impl Lesson {
    /// The memo of learned outcome `path` for the packet of this lesson.
    fn memo(&self, path: u32, compares: u8) -> LaneMemo {
        LaneMemo {
            path,
            mark: self.mark,
            status: self.status,
            state: self.state_code(),
            pkttype: self.probe.pkttype,
            flags: self.probe.flags,
            compares,
        }
    }
}

/// What the lane compares of a packet and its entry, as a [`LaneMemo`] holds it.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// [`Lesson::state_code`].
    state: u8,
    pkttype: u8,
    flags: u8,
    mark: u32,
    status: u32,
}

/// Whether `memo` holds for a packet of which the lane saw `seen`: a learned
/// outcome, for the same conntrack state, packet type and connection mark, and
/// the same TCP flags and conntrack status when its walks read them.
#[inline(always)]
fn holds(memo: &LaneMemo, seen: &Seen) -> bool {
    memo.path != 0
        && memo.state == seen.state
        && memo.pkttype == seen.pkttype
        && memo.mark == seen.mark
        && (memo.compares & FLAGS == 0 || memo.flags == seen.flags)
        && (memo.compares & STATUS == 0 || memo.status == seen.status)
}

impl Lesson {
    /// The conntrack state in a [`LaneMemo`]: a first packet's, whose entry the
    /// lane must confirm, is told apart from a later NEW one's.
    #[inline(always)]
    fn state_code(&self) -> u8 {
        if self.fresh {
            FRESH
        } else {
            state_code(self.state)
        }
    }
}

/// [`Lesson::state_code`] of a packet that created its entry.
const FRESH: u8 = 6;

/// [`LaneMemo::compares`]: the TCP flags must match.
const FLAGS: u8 = 1;
/// [`LaneMemo::compares`]: the conntrack status must match.
const STATUS: u8 = 2;

/// The conntrack state in a [`LaneMemo`].
fn state_code(s: CtState) -> u8 {
    match s {
        CtState::New => 1,
        CtState::Established => 2,
        CtState::Related => 3,
        CtState::Invalid => 4,
        CtState::Untracked => 5,
    }
}

fn dir_index(d: Dir) -> usize {
    match d {
        Dir::Original => 0,
        Dir::Reply => 1,
    }
}

impl super::Engine<'_> {
    /// Takes the lane for `pkt` if it can. `Err` carries conntrack's verdict
    /// when conntrack already saw the packet (the full path must not ask
    /// again) and what to learn from the full path.
    pub(super) fn take_lane(&mut self, pkt: &Packet, ts: u64) -> Result<LaneHit, Tracked> {
        let Some(probe) = self.lanes.probe(pkt, self.opts.trust_checksums) else {
            return Err((None, None));
        };
        let checksum_ok = self.opts.trust_checksums || pkt.l4_checksum_ok().unwrap_or(true);
        let hook = conntrack::Hook::PreRouting;
        let info = ct_info(pkt, ts, hook, checksum_ok);
        self.ride(probe, &info, pkt.ip.total_len())
    }

    /// [`Self::take_lane`] for a plain frame, read without decoding it: the
    /// same conditions on the same fields (see [`crate::packet::plain`](mod@crate::packet::plain)).
    pub(super) fn take_plain_lane(&mut self, p: &Plain, ts: u64) -> Result<LaneHit, Tracked> {
        let trust = self.opts.trust_checksums;
        if !self.lanes.on || p.ttl() <= 1 || !(trust || p.header_checksum_ok()) {
            return Err((None, None));
        }
        let probe = Probe {
            pkttype: super::pkttype(Some(p.pkttype), false),
            flags: p.tcp_flags(),
        };
        let info = ct_info_plain(p, ts, trust || p.l4_checksum_ok());
        self.ride(probe, &info, p.total_len())
    }

    /// Conntrack for a packet that may take the lane, then the learned walks
    /// if its connection direction has them. Inlined into the plain frame's path (nearly
    /// every packet): no call, no moving its arguments and result.
    #[inline(always)]
    fn ride(
        &mut self,
        probe: Probe,
        info: &PacketInfo,
        total_len: u16,
    ) -> Result<LaneHit, Tracked> {
        let v = self.ct.process_with(info, &Template::default());
        // What the full path does to a packet whose walks need not run: conntrack
        // accounting (`nf_ct_refresh_acct`, in `lookup`), the counters, and the record.
        let bytes = u64::from(total_len);
        let (learned, lives, dir) = match self.lanes.lookup(&v, &mut self.ct, probe, bytes) {
            Ok(taken) => taken,
            Err(lesson) => return Err((Some(v), lesson)),
        };
        self.lanes.learned.hit(learned, bytes);
        self.ct.reap_dying();
        Ok(LaneHit {
            learned,
            state: v.state,
            dir,
            conn: v.conn.filter(|_| lives),
        })
    }

    /// Learns the outcome of a packet that missed the lane, when its full path
    /// (`flight` and `fate`, with the record's `ctstate`/`ctdir` in `names`) did
    /// nothing the lane does not replay: a record of the lane then says all the
    /// full path's record would (see [`LaneRecord`]). The packet's [`LaneHit`]
    /// when learned.
    pub(super) fn learn_lane(
        &mut self,
        lesson: Lesson,
        flight: &super::Flight,
        fate: &super::Fate,
        names: (Option<&'static str>, Option<&'static str>),
    ) -> Option<LaneHit> {
        if !self.tables.learning {
            return None;
        }
        // What the record would hold beyond a lane record's fields: each must be
        // empty (the header texts as the record keeps them, see `Engine::step`).
        let shown = |t: &Option<String>| t.is_some() && !self.opts.verdicts_only;
        let replayable = !flight.notrack
            && same_names(names, ct_names_of(lesson.state, lesson.dir))
            && fate.reject.is_none()
            && fate.hooks.is_empty()
            && flight.depends_on.is_empty()
            && flight.trace.is_empty()
            && flight.log.is_empty()
            && !shown(&flight.at_filter)
            && !shown(&flight.egress)
            && !flight.nat_random_port;
        if !replayable {
            return None;
        }
        let path = PathRef {
            bumps: &self.tables.bumps,
            verdict: fate.verdict,
            hook: fate.hook.map(crate::ir::Hook::chain_name),
            rule: fate.rule.as_ref(),
            iface: &fate.iface,
            fate: fate.fate,
            note: fate.note.as_ref(),
            matched: &flight.matched,
        };
        let number = self
            .lanes
            .learn(&mut self.ct, lesson, self.tables.reads, path)?;
        self.lanes.handed += 1;
        // The record's names are those of the lesson's state and direction (`same_names`).
        Some(LaneHit {
            learned: number - 1,
            state: lesson.state,
            dir: lesson.dir,
            conn: Some(lesson.conn),
        })
    }
}

/// What a lane miss hands the full path: conntrack's verdict if conntrack
/// already saw the packet, and what to learn from the full path.
pub(super) type Tracked = (Option<conntrack::Verdict>, Option<Lesson>);

/// A packet that took the lane: which learned outcome it gets, in which state.
#[derive(Debug, Clone, Copy)]
pub(super) struct LaneHit {
    /// Index in [`Lanes::learned`].
    pub(super) learned: u32,
    /// The conntrack state and direction, whose names ([`ct_names_of`]) the record shows:
    /// named only where a record is read, not for every packet.
    state: CtState,
    dir: Dir,
    /// The entry conntrack put the packet on: the one its tuple maps to
    /// afterwards (`ct_after`), since a lane packet is NAT-free and its
    /// confirmed entry was not killed.
    pub(super) conn: Option<ConnId>,
}

/// Equal `ctstate`/`ctdir` texts; both are the `&'static` names of [`ct_names_of`],
/// so they compare by address first.
fn same_names(
    a: (Option<&'static str>, Option<&'static str>),
    b: (Option<&'static str>, Option<&'static str>),
) -> bool {
    let same = |x: Option<&'static str>, y: Option<&'static str>| match (x, y) {
        (Some(x), Some(y)) => std::ptr::eq(x, y) || x == y,
        (x, y) => x.is_none() && y.is_none(),
    };
    same(a.0, b.0) && same(a.1, b.1)
}

fn ct_names_of(state: CtState, dir: Dir) -> (Option<&'static str>, Option<&'static str>) {
    let dir = (state != CtState::Invalid).then(|| super::dir_name(dir));
    (Some(state.name()), dir)
}
