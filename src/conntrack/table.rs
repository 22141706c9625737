//! The connection table: entries, the tuple hash, confirmation, expectations and timeouts.
//!
//! Models the parts of nf_conntrack_core.c around the hash: every confirmed entry is reachable
//! from both of its tuples (`tuplehash[ORIGINAL]`, `tuplehash[REPLY]`); an entry created by a
//! packet lives outside the hash until [`Table::confirm`] (`__nf_conntrack_confirm`); expired
//! entries are removed lazily when a lookup meets them (`nf_ct_gc_expired` in
//! `____nf_conntrack_find`) and by a small incremental sweep, so a packet of an expired flow is
//! NEW again. Packet processing (`nf_conntrack_in`) is in `conntrack::track`.
//!
//! Invariants: `map` holds exactly the two tuples of every confirmed, live entry; entries are
//! stored in a slab (`slots`) and named by a generation-checked [`ConnId`], so a stale id never
//! reaches a reused slot; nothing here allocates per packet except confirmation into `map`.

use thiserror::Error;

use super::entry::{Conn, CtView, HelperKind};
use super::params::Params;
use super::proto::{tcp, ProtoData};
use super::slab::Slab;
use super::status::Status;
use super::tuple::{Dir, Tuple};
use super::tuple_map::TupleMap;

/// Names an entry: slab index plus generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId {
    idx: u32,
    gen: u32,
}

impl ConnId {
    /// The entry's slot in the table (shared by its successive generations).
    pub fn index(self) -> usize {
        self.idx as usize
    }

    /// An id of slot `idx`, generation `gen`, for tests of what keeps things by entry.
    #[cfg(test)]
    pub(crate) fn for_test(idx: u32, gen: u32) -> ConnId {
        ConnId { idx, gen }
    }
}

/// What the raw table's `-j CT` attached to the packet before conntrack (`nf_conn` template).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Template {
    /// `--helper NAME`: assigned to a new entry (`__nf_ct_try_assign_helper`), with the HELPER bit.
    pub helper: Option<HelperKind>,
}

/// An expected connection, registered by a helper (`struct nf_conntrack_expect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectation {
    /// The entry whose helper expects the connection.
    pub master: ConnId,
    /// Tuple of the expected connection's first packet.
    pub tuple: Tuple,
    /// Whether the source address must match (FTP PASV: any source is not allowed, so true).
    pub match_src_addr: bool,
    /// Whether the source port must match (FTP data connections: any source port).
    pub match_src_port: bool,
    /// Helper to attach to the new connection.
    pub helper: Option<HelperKind>,
    /// Packet time (ns) at which the expectation's timer fires (the helper policy's timeout,
    /// [`Params::expect_timeout`]).
    pub expires_ns: u64,
    /// Set by a NAT helper: the expected connection is NATed like its master
    /// (`exp->expectfn = nf_nat_follow_master`).
    pub nat: Option<ExpectNat>,
}

/// What `nf_nat_follow_master` needs of an expectation a NAT helper registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectNat {
    /// `exp->dir`: the master direction the expected connection travels in.
    pub dir: Dir,
    /// `exp->saved_proto`: the port the real endpoint listens on (before the NAT helper moved
    /// the expectation).
    pub saved_port: u16,
}

/// What [`Table::known_v4`] found.
pub(crate) enum Lookup<'a> {
    /// A live entry: its id, the packet's direction in it, the sysctls and the entry.
    Live(ConnId, Dir, &'a Params, &'a mut Conn),
    /// No entry holds the flow.
    Absent,
    /// An expired entry (or a slot the hash names that holds none, which the invariants
    /// rule out): for [`Table::find`] to handle.
    Other,
}

/// Confirmation failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ConfirmError {
    /// The id does not name a live entry.
    #[error("no such conntrack entry")]
    Stale,
    /// A confirmed entry already holds one of the tuples (`nf_ct_resolve_clash` failing): the
    /// kernel drops the packet.
    #[error("conntrack tuple clash on confirm; the packet is dropped")]
    Clash,
}

/// One slab cell. Aligned to a cache line so that an entry's hot fields (see [`Conn`]) start
/// a line instead of straddling one more.
#[derive(Debug, Clone, Default)]
#[repr(C, align(64))]
struct Slot {
    gen: u32,
    conn: Option<Conn>,
}

/// The conntrack table of one network namespace.
#[derive(Debug, Clone)]
pub struct Table {
    pub(crate) params: Params,
    slots: Slab<Slot>,
    free: Vec<u32>,
    map: TupleMap,
    pub(crate) expectations: Vec<Expectation>,
    /// The entry the last packet created and nobody confirmed or discarded yet.
    pub(crate) pending: Option<ConnId>,
    /// The entry the last packet killed (TCP RST, reopen): it stays attached to that packet
    /// until [`Table::reap_dying`], as the skb keeps its reference in the kernel, so NAT still
    /// applies to the packet.
    pub(crate) dying: Option<ConnId>,
    gc_cursor: usize,
    /// `nf_nat_bysource`: entries with a source NAT binding by original source, newest last.
    pub(crate) bysource: super::nat::BySource,
}

/// Connections the tuple hash has room for before it first grows (rehashing showed as a tenth
/// of a replay's time in page faults; reserving only takes address space).
const INITIAL_CONNECTIONS: usize = 16_384;

/// Nanoseconds in a second.
pub(crate) const NS: u64 = 1_000_000_000;

impl Table {
    /// An empty table with these sysctls.
    pub fn new(params: Params) -> Table {
        Table {
            params,
            // Grows in chunks that never move (see `slab`).
            slots: Slab::default(),
            free: Vec::new(),
            map: TupleMap::with_capacity(2 * INITIAL_CONNECTIONS),
            expectations: Vec::new(),
            pending: None,
            dying: None,
            gc_cursor: 0,
            bysource: Default::default(),
        }
    }

    /// The sysctls in force.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Changes the sysctls (takes effect for the next packet, like writing /proc/sys).
    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }

    /// Confirmed entries whose timer has not run out at `now_ns`: what the kernel's table
    /// holds at least at that time, whatever its garbage collector has not reaped yet.
    pub fn live_len(&self, now_ns: u64) -> usize {
        (self.slots.iter())
            .filter(|s| {
                s.conn
                    .as_ref()
                    .is_some_and(|c| c.status.has(Status::CONFIRMED))
            })
            .filter(|s| !collectable(s, now_ns))
            .count()
    }

    /// Number of confirmed entries (live or not yet collected).
    pub fn len(&self) -> usize {
        self.map.len() / 2
    }

    /// Whether no entry is confirmed.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// An entry by id (confirmed or not).
    pub fn get(&self, id: ConnId) -> Option<&Conn> {
        let s = self.slots.get(id.idx as usize)?;
        if s.gen == id.gen {
            s.conn.as_ref()
        } else {
            None
        }
    }

    /// Forgets what a replay remembered in every entry ([`Conn::lanes`]).
    pub fn forget_lanes(&mut self) {
        for conn in self.slots.iter_mut().filter_map(|s| s.conn.as_mut()) {
            conn.lanes = Default::default();
        }
    }

    pub(crate) fn get_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        let s = self.slots.get_mut(id.idx as usize)?;
        if s.gen == id.gen {
            s.conn.as_mut()
        } else {
            None
        }
    }

    /// An entry by id together with the sysctls, borrowed apart: the trackers read both for
    /// every packet, and copying `Params` out of `self` first cost more than the tracking.
    pub(crate) fn params_and_conn(&mut self, id: ConnId) -> (&Params, Option<&mut Conn>) {
        let conn = self
            .slots
            .get_mut(id.idx as usize)
            .filter(|s| s.gen == id.gen)
            .and_then(|s| s.conn.as_mut());
        (&self.params, conn)
    }

    /// Whether the entry is in the hash (`nf_ct_is_confirmed`).
    pub fn is_confirmed(&self, id: ConnId) -> bool {
        self.get(id)
            .is_some_and(|c| c.status.has(Status::CONFIRMED))
    }

    /// Finds the live, confirmed entry holding `t` (`__nf_conntrack_find_get`); an expired one
    /// met on the way is deleted.
    #[inline]
    pub fn find(&mut self, t: &Tuple, now_ns: u64) -> Option<(ConnId, Dir)> {
        let (idx, dir) = self.map.get(t)?;
        let slot = self.slots.get(idx as usize)?;
        let id = ConnId { idx, gen: slot.gen };
        let conn = slot.conn.as_ref()?;
        if expired(conn, now_ns) {
            self.remove(id);
            return None;
        }
        Some((id, dir))
    }

    /// The live entry holding the IPv4 flow `f` at `now_ns`, with its id and direction and
    /// the sysctls (borrowed apart, as in [`Table::params_and_conn`]): what [`Table::find`]
    /// returns for the flow's tuple, except that an expired entry is left alone (the caller
    /// leaves it to `find`, which deletes it).
    #[inline]
    pub(crate) fn known_v4(&mut self, f: &super::touch::Flow4, now_ns: u64) -> Lookup<'_> {
        let Some((idx, dir)) = self.map.get_flow(f) else {
            return Lookup::Absent;
        };
        let Some(slot) = self.slots.get_mut(idx as usize) else {
            return Lookup::Other;
        };
        let id = ConnId { idx, gen: slot.gen };
        match slot.conn.as_mut() {
            Some(conn) if !expired(conn, now_ns) => Lookup::Live(id, dir, &self.params, conn),
            _ => Lookup::Other,
        }
    }

    /// Reads the entry the IPv4 flow `f` maps to where every packet reads it, and returns
    /// a word of what it read, only so that the reads happen (see [`super::touch`]): the
    /// slot's three first cache lines (generation, timer, status and protocol state; the lane
    /// memos; the counters and sequence adjustment: see [`Conn`]'s layout), which a packet's
    /// tracking and lane read. `None` when the tuple hash has no entry for the flow.
    #[inline]
    pub(super) fn entry_word(&self, f: &super::touch::Flow4) -> Option<u64> {
        let s = self.slots.get(self.map.get_v4(f)? as usize)?;
        Some(s.conn.as_ref().map_or(0, |c| {
            u64::from(s.gen) ^ u64::from(c.lanes[0].path) ^ c.acct[0].0
        }))
    }

    /// Reads the tuple-hash cell where a lookup of `f` starts (see [`super::touch`]).
    #[inline]
    pub(super) fn cell_word(&self, f: &super::touch::Flow4) -> u64 {
        self.map.cell_word(f)
    }

    /// The view of the entry a tuple maps to, without side effects (the oracle's `ct_after`).
    pub fn view_of_tuple(&self, t: &Tuple, now_ns: u64) -> Option<CtView> {
        let (idx, _) = self.map.get(t)?;
        let conn = self.slots.get(idx as usize)?.conn.as_ref()?;
        (!expired(conn, now_ns)).then(|| conn.view())
    }

    /// The view of an entry, as [`Table::view_of_tuple`] gives it for a tuple that maps to the
    /// entry; without the lookup, for a caller that holds the entry's id.
    pub fn view_of(&self, id: ConnId, now_ns: u64) -> Option<CtView> {
        let conn = self.get(id)?;
        (!expired(conn, now_ns)).then(|| conn.view())
    }

    /// Allocates an unconfirmed entry, which `make` builds straight into its slot: an entry
    /// is ~320 bytes, and one built first and then moved in was copied twice on the way
    /// (~130 instructions per new connection).
    #[inline(always)]
    pub(crate) fn insert_unconfirmed_with(&mut self, make: impl FnOnce() -> Conn) -> ConnId {
        let reused = self.free.pop().and_then(|idx| {
            let slot = self.slots.get_mut(idx as usize)?;
            Some((idx, slot))
        });
        let (idx, slot) = match reused {
            Some(s) => s,
            None => match self.slots.grow() {
                Some((idx, slot)) => {
                    slot.gen = 0;
                    (u32::try_from(idx).unwrap_or(u32::MAX), slot)
                }
                // A chunk could not be made (the allocator aborts first): the packet gets an
                // id that names no entry.
                None => {
                    return ConnId {
                        idx: u32::MAX,
                        gen: 0,
                    }
                }
            },
        };
        slot.conn = Some(make());
        let id = ConnId { idx, gen: slot.gen };
        self.pending = Some(id);
        id
    }

    /// Confirms the entry the packet created (`__nf_conntrack_confirm`): it enters the hash
    /// under both tuples. Confirming an already confirmed entry does nothing, as in the kernel.
    pub fn confirm(&mut self, id: ConnId) -> Result<(), ConfirmError> {
        if self.pending == Some(id) {
            self.pending = None;
        }
        let conn = self.get(id).ok_or(ConfirmError::Stale)?;
        if conn.status.has(Status::CONFIRMED) {
            return Ok(());
        }
        let [o, r] = conn.tuple;
        if !self.map.insert_pair(&o, &r, id.idx) {
            self.free_slot(id);
            return Err(ConfirmError::Clash);
        }
        if let Some(c) = self.get_mut(id) {
            c.status.set(Status::CONFIRMED);
        }
        Ok(())
    }

    /// The entry the last packet killed, until [`Table::reap_dying`].
    pub fn dying(&self) -> Option<ConnId> {
        self.dying
    }

    /// Deletes the entry the last packet killed (its packet is done).
    pub fn reap_dying(&mut self) {
        if let Some(id) = self.dying.take() {
            self.expectations.retain(|e| e.master != id);
            self.free_slot(id);
        }
    }

    /// Kills an entry for the packet that holds it (`nf_ct_kill`): out of the hash at once, so
    /// no lookup finds it, and freed by [`Table::reap_dying`].
    pub(crate) fn kill(&mut self, id: ConnId) {
        if let Some(c) = self.get(id) {
            if c.status.has(Status::CONFIRMED) {
                let [o, r] = c.tuple;
                self.map.remove(&o);
                self.map.remove(&r);
            }
            self.dying = Some(id);
        }
    }

    /// Drops the entry a dropped packet created (the skb's unconfirmed conntrack is freed).
    /// A confirmed entry is left alone: dropping one packet does not end a connection.
    pub fn discard(&mut self, id: ConnId) {
        if self.pending == Some(id) {
            self.pending = None;
        }
        if self
            .get(id)
            .is_some_and(|c| !c.status.has(Status::CONFIRMED))
        {
            self.free_slot(id);
        }
    }

    /// Deletes an entry at once (`nf_ct_delete`), with its expectations.
    pub fn remove(&mut self, id: ConnId) {
        if let Some(c) = self.get(id) {
            if c.status.has(Status::CONFIRMED) {
                let [o, r] = c.tuple;
                self.map.remove(&o);
                self.map.remove(&r);
            }
            self.free_slot(id);
        }
    }

    /// Frees an entry's slot. Its expectations go with it (`destroy_conntrack` calls
    /// `nf_ct_remove_expectations`: TFTP expects on the first, still unconfirmed, packet).
    fn free_slot(&mut self, id: ConnId) {
        self.expectations.retain(|e| e.master != id);
        self.forget_src_binding(id);
        if let Some(slot) = self.slots.get_mut(id.idx as usize) {
            if slot.gen == id.gen && slot.conn.take().is_some() {
                slot.gen = slot.gen.wrapping_add(1);
                self.free.push(id.idx);
            }
        }
    }

    /// NAT's `nf_conntrack_alter_reply`: rewrite the reply tuple of an unconfirmed entry.
    pub fn alter_reply(&mut self, id: ConnId, reply: Tuple) -> bool {
        match self.get_mut(id) {
            Some(c) if !c.status.has(Status::CONFIRMED) => {
                c.tuple[1] = reply;
                true
            }
            _ => false,
        }
    }

    /// `nf_ct_set_closing`, called by REJECT `--reject-with tcp-reset` (`nf_send_reset`): a
    /// confirmed TCP entry moves to CLOSE with the CLOSE timeout.
    pub fn set_closing(&mut self, id: ConnId, now_ns: u64) {
        let p = self.params;
        if let Some(c) = self.get_mut(id) {
            if !c.status.has(Status::CONFIRMED) {
                return;
            }
            let status = c.status;
            if let ProtoData::Tcp(t) = &mut c.proto {
                if let Some(secs) = tcp::packet::set_closing(t, status, &p) {
                    c.expires_ns = now_ns.saturating_add(u64::from(secs) * NS);
                }
            }
        }
    }

    /// Sets `ct->mark` (CONNMARK `--set-mark`, `--save-mark`).
    pub fn set_mark(&mut self, id: ConnId, mark: u32) {
        if let Some(c) = self.get_mut(id) {
            c.mark = mark;
        }
    }

    /// Adds one packet of `len` bytes to the entry's counters in direction
    /// `dir` (`nf_ct_acct_update`, called by `nf_ct_refresh_acct`).
    pub fn account(&mut self, id: ConnId, dir: Dir, len: u64) {
        if let Some(c) = self.get_mut(id) {
            let a = &mut c.acct[dir.idx()];
            a.0 += 1;
            a.1 += len;
        }
    }

    /// Removes every expired entry (the kernel's `gc_worker`).
    pub fn gc(&mut self, now_ns: u64) {
        for idx in 0..self.slots.len() {
            self.collect_slot(idx, now_ns);
        }
    }

    /// Looks at a couple of slots per packet so that memory stays bounded without a full sweep.
    /// Runs for every packet: the test is inlined here, the removal (rare) is not.
    #[inline]
    pub(crate) fn gc_step(&mut self, now_ns: u64) {
        // Slots are never dropped from the slab, so its length holds for both steps.
        let n = self.slots.len();
        if n == 0 {
            return;
        }
        // (Collecting never moves the cursor: it is kept in a register for both steps.)
        let mut idx = self.gc_cursor;
        for _ in 0..2 {
            // A compare, not `%`: a division per step cost more than the step.
            idx += 1;
            if idx >= n {
                idx = 0;
            }
            if self.slots.get(idx).is_some_and(|s| collectable(s, now_ns)) {
                self.collect_slot(idx, now_ns);
            }
        }
        self.gc_cursor = idx;
    }

    #[cold]
    #[inline(never)]
    fn collect_slot(&mut self, idx: usize, now_ns: u64) {
        let Some(slot) = self.slots.get(idx) else {
            return;
        };
        if collectable(slot, now_ns) {
            let id = ConnId {
                idx: idx as u32,
                gen: slot.gen,
            };
            self.remove(id);
        }
    }

    /// Every live confirmed entry's view, sorted like the oracle's `conntrack_final`.
    pub fn dump(&self, now_ns: u64) -> Vec<CtView> {
        let mut v: Vec<CtView> = self
            .slots
            .iter()
            .enumerate()
            // A killed entry is no longer in the table, only held by its packet.
            .filter(|(i, _)| self.dying.is_none_or(|d| d.idx as usize != *i))
            .filter_map(|(_, s)| s.conn.as_ref())
            .filter(|c| c.status.has(Status::CONFIRMED) && !expired(c, now_ns))
            .map(Conn::view)
            .collect();
        // The oracle sorts by `json.dumps(entry, sort_keys=True)`; serde_json's `Value` keeps
        // object keys sorted, which gives the same order.
        v.sort_by_cached_key(|e| {
            serde_json::to_value(e)
                .map(|j| j.to_string())
                .unwrap_or_default()
        });
        v
    }
}

/// `nf_ct_is_expired`: `(s32)(timeout - now) <= 0`.
#[inline]
fn expired(c: &Conn, now_ns: u64) -> bool {
    c.expires_ns <= now_ns
}

/// A confirmed entry whose timer ran out: the garbage collector deletes it (`gc_worker`).
/// (The timer first: most entries the sweep meets are live.)
#[inline]
fn collectable(s: &Slot, now_ns: u64) -> bool {
    s.conn
        .as_ref()
        .is_some_and(|c| expired(c, now_ns) && c.status.has(Status::CONFIRMED))
}

#[cfg(test)]
mod tests;
