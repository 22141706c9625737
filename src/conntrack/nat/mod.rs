//! NAT bindings of conntrack entries, as nf_nat_core.c makes and applies them.
//!
//! A binding is made once per entry and manip type (`nf_nat_setup_info`), while the entry is
//! unconfirmed: [`Table::nat_setup`] picks a unique tuple in the requested range
//! (`get_unique_tuple`), rewrites the reply tuple (`nf_conntrack_alter_reply`) and sets the
//! `SRC_NAT`/`DST_NAT` and `*_NAT_DONE` status bits. [`Table::nat_target`] then says what every
//! packet of the connection becomes at a hook (`nf_nat_packet`): the inverse of the other
//! direction's tuple, in the source or destination part.
//!
//! The address of a range is chosen as `find_best_ips_proto` does, by `jhash2` of the source
//! address seeded with the destination (or 0 with `--persistent`), so the choice is
//! deterministic; a source manip first reuses the mapping of an existing entry with the same
//! original source (`find_appropriate_src`, newest first).
//!
//! Not modelled: the TCP `nf_nat_used_tuple_harder` reuse of closing entries. Where the kernel
//! draws a random port (`get_random_u16` in `nf_nat_l4proto_unique_tuple`), the first free port
//! of the range is taken and the binding says so (`random_port`).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use super::status::Status;
use super::table::{ConnId, ExpectNat, Table};
use super::tuple::{Dir, L4Key, Tuple, PROTO_ICMP};

/// Which half of the tuple a hook rewrites (`HOOK2MANIP`: PREROUTING and OUTPUT rewrite the
/// destination, POSTROUTING and INPUT the source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manip {
    Src,
    Dst,
}

impl Manip {
    const fn done_bit(self) -> u32 {
        match self {
            Manip::Src => Status::SRC_NAT_DONE,
            Manip::Dst => Status::DST_NAT_DONE,
        }
    }
    const fn nat_bit(self) -> u32 {
        match self {
            Manip::Src => Status::SRC_NAT,
            Manip::Dst => Status::DST_NAT,
        }
    }
}

/// `struct nf_nat_range2` for IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range {
    /// NF_NAT_RANGE_MAP_IPS: first and last address.
    pub addrs: Option<(u32, u32)>,
    /// NF_NAT_RANGE_PROTO_SPECIFIED: first and last port (ICMP id).
    pub ports: Option<(u16, u16)>,
    /// NF_NAT_RANGE_PROTO_RANDOM or PROTO_RANDOM_FULLY (`NF_NAT_RANGE_PROTO_RANDOM_ALL`).
    pub random_all: bool,
    /// NF_NAT_RANGE_PERSISTENT: the address depends on the source only.
    pub persistent: bool,
}

/// What [`Table::nat_setup`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Binding {
    /// The tuple changed (the entry is now SRC_NAT or DST_NAT).
    pub changed: bool,
    /// The kernel would have drawn the port at random here.
    pub random_port: bool,
}

fn v4(a: IpAddr) -> u32 {
    match a {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(_) => 0,
    }
}

/// The port (ICMP id) of the manipulated half, for protocols that have one.
fn key(t: &Tuple, m: Manip) -> Option<u16> {
    match (t.l4, m) {
        (L4Key::Ports { src, .. }, Manip::Src) => Some(src),
        (L4Key::Ports { dst, .. }, Manip::Dst) => Some(dst),
        (L4Key::Icmp { id, .. }, _) => Some(id),
        (L4Key::None, _) => None,
    }
}

fn set_key(t: &mut Tuple, m: Manip, v: u16) {
    match (&mut t.l4, m) {
        (L4Key::Ports { src, .. }, Manip::Src) => *src = v,
        (L4Key::Ports { dst, .. }, Manip::Dst) => *dst = v,
        (L4Key::Icmp { id, .. }, _) => *id = v,
        (L4Key::None, _) => {}
    }
}

fn addr(t: &Tuple, m: Manip) -> u32 {
    match m {
        Manip::Src => v4(t.src),
        Manip::Dst => v4(t.dst),
    }
}

fn set_addr(t: &mut Tuple, m: Manip, a: u32) {
    let a = IpAddr::V4(Ipv4Addr::from(a));
    match m {
        Manip::Src => t.src = a,
        Manip::Dst => t.dst = a,
    }
}

/// `nf_nat_bysource`: the entries that made a source binding, by (protocol, original source
/// address, source port or ICMP id); ids of entries gone since are skipped and pruned.
pub(crate) type BySource = HashMap<(u8, IpAddr, u16), Vec<ConnId>>;

fn src_key(t: &Tuple) -> (u8, IpAddr, u16) {
    (t.proto, t.src, key(t, Manip::Src).unwrap_or(0))
}

/// `jhash2(k, 4, initval)` (include/linux/jhash.h) on a 4-word key.
fn jhash2_4(k: [u32; 4], initval: u32) -> u32 {
    let mut a = 0xdead_beef_u32.wrapping_add(4 << 2).wrapping_add(initval);
    let (mut b, mut c) = (a, a);
    a = a.wrapping_add(k[0]);
    b = b.wrapping_add(k[1]);
    c = c.wrapping_add(k[2]);
    // __jhash_mix
    a = a.wrapping_sub(c) ^ c.rotate_left(4);
    c = c.wrapping_add(b);
    b = b.wrapping_sub(a) ^ a.rotate_left(6);
    a = a.wrapping_add(c);
    c = c.wrapping_sub(b) ^ b.rotate_left(8);
    b = b.wrapping_add(a);
    a = a.wrapping_sub(c) ^ c.rotate_left(16);
    c = c.wrapping_add(b);
    b = b.wrapping_sub(a) ^ a.rotate_left(19);
    a = a.wrapping_add(c);
    c = c.wrapping_sub(b) ^ b.rotate_left(4);
    b = b.wrapping_add(a);
    // the last word, then __jhash_final
    a = a.wrapping_add(k[3]);
    c = (c ^ b).wrapping_sub(b.rotate_left(14));
    a = (a ^ c).wrapping_sub(c.rotate_left(11));
    b = (b ^ a).wrapping_sub(a.rotate_left(25));
    c = (c ^ b).wrapping_sub(b.rotate_left(16));
    a = (a ^ c).wrapping_sub(c.rotate_left(4));
    b = (b ^ a).wrapping_sub(a.rotate_left(14));
    (c ^ b).wrapping_sub(b.rotate_left(24))
}

/// An IPv4 address as the kernel's `__be32` read as a native (little-endian) word.
fn raw(a: u32) -> u32 {
    u32::from_le_bytes(a.to_be_bytes())
}

/// `find_best_ips_proto` for IPv4: the address of the range for this source and destination,
/// `min + reciprocal_scale(jhash2(src, dst ^ zone), max - min + 1)`; the zone is 0.
fn best_ip(t: &Tuple, (lo, hi): (u32, u32), persistent: bool) -> u32 {
    if lo == hi {
        return lo;
    }
    let seed = if persistent { 0 } else { raw(v4(t.dst)) };
    let j = jhash2_4([raw(v4(t.src)), 0, 0, 0], seed);
    let dist = hi.wrapping_sub(lo).wrapping_add(1);
    lo.wrapping_add(((u64::from(j) * u64::from(dist)) >> 32) as u32)
}

/// `l4proto_in_range`: the port lies in the range (protocols without ports always do).
fn l4_in_range(t: &Tuple, m: Manip, (lo, hi): (u16, u16)) -> bool {
    key(t, m).is_none_or(|k| (lo..=hi).contains(&k))
}

/// `nf_in_range` (used for source manips only).
fn in_range(t: &Tuple, r: &Range) -> bool {
    if let Some((lo, hi)) = r.addrs {
        if !(lo..=hi).contains(&v4(t.src)) {
            return false;
        }
    }
    r.ports.is_none_or(|p| l4_in_range(t, Manip::Src, p))
}

impl Table {
    /// `nf_nat_initialized`: a binding of this type was already made.
    pub fn nat_initialized(&self, id: ConnId, m: Manip) -> bool {
        self.get(id).is_some_and(|c| c.status.has(m.done_bit()))
    }

    /// `nf_nat_used_tuple`: the reply of `t` is a tuple of another confirmed entry
    /// (`nf_conntrack_tuple_taken`, which lets an entry with the same original tuple pass:
    /// that clash is resolved on confirm).
    fn nat_used(&mut self, t: &Tuple, me: ConnId, now: u64) -> bool {
        let Some(reply) = t.invert() else {
            return false;
        };
        let mine = self.get(me).map(|c| c.tuple[0]);
        match self.find(&reply, now) {
            Some((other, _)) if other != me => {
                self.get(other).map(|c| c.tuple[0]) != mine || mine.is_none()
            }
            _ => false,
        }
    }

    /// The null binding's range (`nf_nat_alloc_null_binding`): the address the tuple already
    /// has, so the tuple only moves when it clashes.
    pub fn nat_null_range(&self, id: ConnId, m: Manip) -> Option<Range> {
        let reply = self.get(id)?.tuple[1];
        let a = match m {
            Manip::Src => v4(reply.dst),
            Manip::Dst => v4(reply.src),
        };
        Some(Range {
            addrs: Some((a, a)),
            ..Range::default()
        })
    }

    /// `nf_nat_setup_info`: binds the unconfirmed entry `id` for manip `m`. `None` when the
    /// entry is gone or already bound for `m`.
    pub fn nat_setup(&mut self, id: ConnId, r: &Range, m: Manip, now: u64) -> Option<Binding> {
        let conn = self.get(id)?;
        if conn.status.has(m.done_bit()) || conn.status.has(Status::CONFIRMED) {
            return None;
        }
        // The original tuple as earlier manips left it.
        let curr = conn.tuple[1].invert()?;
        let (new, random_port) = self.unique_tuple(&curr, r, id, m, now);
        let mut b = Binding {
            changed: new != curr,
            random_port,
        };
        if b.changed {
            if let Some(reply) = new.invert() {
                self.alter_reply(id, reply);
            } else {
                b.changed = false;
            }
        }
        let c = self.get_mut(id)?;
        if b.changed {
            c.status.set(m.nat_bit());
        }
        c.status.set(m.done_bit());
        if m == Manip::Src {
            let k = src_key(&c.tuple[0]);
            self.bysource.entry(k).or_default().push(id);
        }
        Some(b)
    }

    /// `get_unique_tuple`: the new original tuple; `true` when the kernel picks the port at
    /// random.
    fn unique_tuple(
        &mut self,
        orig: &Tuple,
        r: &Range,
        id: ConnId,
        m: Manip,
        now: u64,
    ) -> (Tuple, bool) {
        // 1) Source manips keep the tuple when it is in range and unused, or else reuse the
        //    mapping of the same source (find_appropriate_src).
        if m == Manip::Src && !r.random_all {
            if in_range(orig, r) {
                if !self.nat_used(orig, id, now) {
                    return (*orig, false);
                }
            } else if let Some(t) = self.appropriate_src(orig, r, id) {
                if !self.nat_used(&t, id, now) {
                    return (t, false);
                }
            }
        }
        // 2) The address (find_best_ips_proto).
        let mut t = *orig;
        if let Some(range) = r.addrs {
            set_addr(&mut t, m, best_ip(orig, range, r.persistent));
        }
        // 3) Keep the port when it is in range and the tuple unique.
        if !r.random_all {
            match r.ports {
                Some(p) => {
                    if l4_in_range(&t, m, p) && (p.0 == p.1 || !self.nat_used(&t, id, now)) {
                        return (t, false);
                    }
                }
                None => {
                    if !self.nat_used(&t, id, now) {
                        return (t, false);
                    }
                }
            }
        }
        self.l4_unique(t, r, id, m, now)
    }

    /// `nf_nat_cleanup_conntrack`: a dying entry leaves `nf_nat_bysource`.
    pub(crate) fn forget_src_binding(&mut self, id: ConnId) {
        let Some(c) = self.get(id) else { return };
        if !c.status.has(Status::SRC_NAT_DONE) {
            return;
        }
        let k = src_key(&c.tuple[0]);
        if let Some(ids) = self.bysource.get_mut(&k) {
            ids.retain(|&i| i != id);
            if ids.is_empty() {
                self.bysource.remove(&k);
            }
        }
    }

    /// `find_appropriate_src`: the newest other entry with this original source whose mapped
    /// source lies in the range gives the tuple (its mapped source, this destination); the
    /// first one with the same source that is out of range is passed over.
    fn appropriate_src(&mut self, orig: &Tuple, r: &Range, me: ConnId) -> Option<Tuple> {
        let k = src_key(orig);
        let mut ids = self.bysource.remove(&k)?;
        ids.retain(|&i| self.get(i).is_some());
        let found = ids.iter().rev().filter(|&&i| i != me).find_map(|&i| {
            let mapped = self.get(i)?.tuple[1].invert()?;
            let mut t = *orig;
            set_addr(&mut t, Manip::Src, v4(mapped.src));
            if let Some(k) = key(&mapped, Manip::Src) {
                set_key(&mut t, Manip::Src, k);
            }
            in_range(&t, r).then_some(t)
        });
        if !ids.is_empty() {
            self.bysource.insert(k, ids);
        }
        found
    }

    /// `nf_nat_l4proto_unique_tuple`: walks the port range from an offset (random for source
    /// manips and `--random`, 0 for destination manips) until the tuple is unused.
    fn l4_unique(
        &mut self,
        mut t: Tuple,
        r: &Range,
        id: ConnId,
        m: Manip,
        now: u64,
    ) -> (Tuple, bool) {
        let Some(k) = key(&t, m) else {
            return (t, false);
        };
        let icmp = t.proto == PROTO_ICMP;
        let (min, size): (u32, u32) = match r.ports {
            Some((lo, hi)) => (
                u32::from(lo.min(hi)),
                u32::from(lo.max(hi) - lo.min(hi)) + 1,
            ),
            None if icmp => (0, 65536),
            // A destination port is never changed without a range.
            None if m == Manip::Dst => return (t, false),
            None if k < 512 => (1, 511),
            None if k < 1024 => (600, 424),
            None => (1024, 64512),
        };
        let random = r.random_all || m != Manip::Dst;
        // NF_NAT_MAX_ATTEMPTS is 128; the kernel then halves and retries from a new random
        // offset, which a deterministic walk from 0 covers anyway.
        for off in 0..size {
            set_key(&mut t, m, (min + off % size) as u16);
            if !self.nat_used(&t, id, now) {
                break;
            }
        }
        (t, random)
    }

    /// `nf_nat_packet`: what a packet of direction `dir` becomes at a hook of manip `m`: the
    /// address and port (ICMP id) to write, or `None` when this manip leaves it alone.
    pub fn nat_target(&self, id: ConnId, dir: Dir, m: Manip) -> Option<(u32, Option<u16>)> {
        let c = self.get(id)?;
        let mut bit = m.nat_bit();
        if dir == Dir::Reply {
            bit ^= Status::SRC_NAT | Status::DST_NAT;
        }
        if c.status.0 & bit == 0 {
            return None;
        }
        let target = c.tuple[dir.flip().idx()].invert()?;
        Some((addr(&target, m), key(&target, m)))
    }

    /// `nf_nat_follow_master`, the `expectfn` of a NAT helper's expectation, on the new
    /// connection `id`: its source becomes where the master sends to, its destination the
    /// master's peer at the port the command named.
    pub fn nat_follow_master(&mut self, id: ConnId, master: ConnId, e: ExpectNat, now: u64) {
        let Some(t) = self.get(master).map(|m| m.tuple[e.dir.flip().idx()]) else {
            return;
        };
        let src = Range {
            addrs: Some((v4(t.dst), v4(t.dst))),
            ..Range::default()
        };
        self.nat_setup(id, &src, Manip::Src, now);
        let dst = Range {
            addrs: Some((v4(t.src), v4(t.src))),
            ports: Some((e.saved_port, e.saved_port)),
            ..Range::default()
        };
        self.nat_setup(id, &dst, Manip::Dst, now);
    }

    /// `nf_nat_icmp_reply_translation` refuses an ICMP redirect about this connection (the
    /// packet is dropped): when its NAT is not set up for both manips yet, or when it is NATed
    /// at all.
    pub fn nat_refuses_redirect(&self, id: ConnId) -> bool {
        self.get(id).is_none_or(|c| {
            let done = Status::SRC_NAT_DONE | Status::DST_NAT_DONE;
            c.status.0 & done != done || c.status.0 & (Status::SRC_NAT | Status::DST_NAT) != 0
        })
    }
}

#[cfg(test)]
mod tests;
