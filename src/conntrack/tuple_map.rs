//! The tuple hash of the connection table: tuple → (slot, direction).
//!
//! Every packet looks its tuple up here, and with hundreds of thousands of connections the
//! lookup is a cache miss, so IPv4 tuples (all of a typical capture) live in a flat
//! open-addressing table ([`Flat`]): the packed key ([`Key4`], 16 bytes) and its value side by
//! side in one 24-byte cell, probed linearly, so a lookup reads one or two adjacent cache lines
//! and follows no pointer (a `HashMap` reads its control bytes, then the bucket). Tuples of
//! other families live in a `HashMap` under their full key. Invariant: a tuple is in exactly one
//! of the two maps, chosen by its family alone, so lookups, inserts and removals agree; nothing
//! iterates either map, so their layout never shows in a result.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::net::IpAddr;

use super::hash::FxHasher;
use super::touch::Flow4;
use super::tuple::{Dir, L4Key, Tuple};

type Fx = BuildHasherDefault<FxHasher>;

/// An IPv4 tuple, packed without loss: addresses in one word; protocol, the layer-4 kind and
/// its 32 bits (ports, or ICMP id/type/code) in the other (bits 0..48: the top 16 are zero,
/// which leaves [`EMPTY`] free to mark an unused cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key4 {
    addrs: u64,
    rest: u64,
}

/// `Key4::rest` of an unused cell: no packed tuple has its top bits set.
const EMPTY: u64 = u64::MAX;

impl Key4 {
    #[inline]
    fn of(t: &Tuple) -> Option<Key4> {
        let (IpAddr::V4(s), IpAddr::V4(d)) = (t.src, t.dst) else {
            return None;
        };
        let (kind, bits) = match t.l4 {
            L4Key::None => (0u64, 0u64),
            L4Key::Ports { src, dst } => (1, u64::from(src) << 16 | u64::from(dst)),
            L4Key::Icmp { id, kind, code } => (
                2,
                u64::from(id) << 16 | u64::from(kind) << 8 | u64::from(code),
            ),
        };
        Some(Key4 {
            addrs: u64::from(u32::from(s)) << 32 | u64::from(u32::from(d)),
            rest: u64::from(t.proto) << 40 | kind << 32 | bits,
        })
    }

    /// The key of a TCP or UDP (or any ported) IPv4 tuple given by its numbers: what
    /// [`Key4::of`] packs for it (see the test `flow_keys_are_tuple_keys`).
    #[inline]
    fn ports(f: &Flow4) -> Key4 {
        Key4 {
            addrs: u64::from(f.src) << 32 | u64::from(f.dst),
            rest: u64::from(f.proto) << 40
                | 1 << 32
                | u64::from(f.sport) << 16
                | u64::from(f.dport),
        }
    }

    /// One well-mixed word (multiplicative hashing): its top bits pick the home cell.
    #[inline]
    fn hash(self) -> u64 {
        (self.addrs ^ self.rest.rotate_left(23)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// One cell of [`Flat`]: a key and its value, or `key.rest == EMPTY`.
#[derive(Debug, Clone, Copy)]
struct Cell {
    key: Key4,
    idx: u32,
    dir: Dir,
}

const VACANT: Cell = Cell {
    key: Key4 {
        addrs: 0,
        rest: EMPTY,
    },
    idx: 0,
    dir: Dir::Original,
};

/// Open addressing with linear probing over a power-of-two array, at most 5/8 full; removal
/// shifts the following cells back (no tombstones), so a probe stops at the first vacant cell.
#[derive(Debug, Clone, Default)]
struct Flat {
    cells: Vec<Cell>,
    len: usize,
    /// `64 - log2(cells.len())`: the hash's top bits index the array.
    shift: u32,
}

impl Flat {
    fn with_capacity(n: usize) -> Flat {
        let mut f = Flat::default();
        f.resize(Flat::cells_for(n));
        f
    }

    /// The power-of-two cell count that holds `n` keys within the load limit.
    fn cells_for(n: usize) -> usize {
        (n.saturating_mul(8) / 5 + 1).next_power_of_two().max(16)
    }

    #[inline]
    fn mask(&self) -> usize {
        self.cells.len().wrapping_sub(1)
    }

    #[inline]
    fn home(&self, k: Key4) -> usize {
        // `shift` is below 64 whenever there are cells; with none, `find` checks first.
        (k.hash() >> self.shift) as usize & self.mask()
    }

    /// The cell holding `k`, or the vacant cell where it would go.
    ///
    /// Measured (callgrind, mix_100k/fwd_100): comparing both key words with one branch
    /// (`(a ^ b) | (c ^ d) == 0`) instead of the derived `==` left the simulated mispredictions
    /// of the probe unchanged (they come from whether the home cell holds the key, ~0.5 per
    /// lookup) and added ~2 instructions per packet, so the derived comparison stays.
    #[inline]
    fn find(&self, k: Key4) -> Result<usize, usize> {
        let mask = self.mask();
        let mut i = self.home(k);
        loop {
            let c = self.cells.get(i).map_or(&VACANT, |c| c);
            if c.key == k {
                return Ok(i);
            }
            if c.key.rest == EMPTY {
                return Err(i);
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn get(&self, k: Key4) -> Option<(u32, Dir)> {
        if self.cells.is_empty() {
            return None;
        }
        let i = self.find(k).ok()?;
        self.cells.get(i).map(|c| (c.idx, c.dir))
    }

    /// Grows the array, as an insert does, when one more key would pass the load limit.
    #[inline]
    fn reserve_one(&mut self) {
        if (self.len + 1) * 8 > self.cells.len() * 5 {
            self.resize(Flat::cells_for(self.len + 1).max(self.cells.len() * 2));
        }
    }

    /// Inserts `o` and `r` (an entry's two tuples) unless either is present; false, with
    /// nothing inserted, when one is. The same as checking both and inserting both, with
    /// each probe made once: `r`'s vacant cell stays the first vacant cell of its probe
    /// sequence after `o` takes another one (a probe stops at its first vacant cell, so
    /// `o`'s cell cannot lie before it), and when they are the same cell (or the array must
    /// grow first) `r` is inserted the plain way.
    fn insert_pair(&mut self, o: Key4, r: Key4, idx: u32) -> bool {
        self.reserve_one();
        let (Err(io), Err(ir)) = (self.find(o), self.find(r)) else {
            return false;
        };
        if let Some(c) = self.cells.get_mut(io) {
            *c = Cell {
                key: o,
                idx,
                dir: Dir::Original,
            };
            self.len += 1;
        }
        let grows = (self.len + 1) * 8 > self.cells.len() * 5;
        match self.cells.get_mut(ir) {
            Some(c) if ir != io && !grows => {
                *c = Cell {
                    key: r,
                    idx,
                    dir: Dir::Reply,
                };
                self.len += 1;
            }
            _ => self.insert(r, idx, Dir::Reply),
        }
        true
    }

    fn insert(&mut self, key: Key4, idx: u32, dir: Dir) {
        self.reserve_one();
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                self.len += 1;
                i
            }
        };
        if let Some(c) = self.cells.get_mut(i) {
            *c = Cell { key, idx, dir };
        }
    }

    fn remove(&mut self, k: Key4) {
        if self.cells.is_empty() {
            return;
        }
        let Ok(mut hole) = self.find(k) else { return };
        self.len -= 1;
        // Backward shift: move up every following cell whose home is not between the hole
        // and itself (cyclically), so no probe sequence is broken.
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some(&c) = self.cells.get(j) else { break };
            if c.key.rest == EMPTY {
                break;
            }
            let home = self.home(c.key);
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.cells[hole] = c;
                hole = j;
            }
        }
        self.cells[hole] = VACANT;
    }

    fn resize(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.cells, vec![VACANT; n]);
        self.shift = 64 - n.trailing_zeros();
        self.len = 0;
        for c in old.into_iter().filter(|c| c.key.rest != EMPTY) {
            if let Err(i) = self.find(c.key) {
                self.cells[i] = c;
                self.len += 1;
            }
        }
    }
}

/// Both maps; see the module docs.
#[derive(Debug, Clone, Default)]
pub(super) struct TupleMap {
    v4: Flat,
    other: HashMap<Tuple, (u32, Dir), Fx>,
}

impl TupleMap {
    /// Room for `n` IPv4 tuples before the first rehash.
    pub(super) fn with_capacity(n: usize) -> TupleMap {
        TupleMap {
            v4: Flat::with_capacity(n),
            other: HashMap::default(),
        }
    }

    #[inline]
    pub(super) fn get(&self, t: &Tuple) -> Option<(u32, Dir)> {
        match Key4::of(t) {
            Some(k) => self.v4.get(k),
            None => self.other.get(t).copied(),
        }
    }

    /// Reads the cell where a lookup of `f` starts probing and returns a word of it, only so
    /// that the read happens (see [`super::touch`]).
    #[inline]
    pub(super) fn cell_word(&self, f: &Flow4) -> u64 {
        let k = Key4::ports(f);
        // `home` needs cells; an empty table reads nothing.
        if self.v4.cells.is_empty() {
            return 0;
        }
        self.v4.cells.get(self.v4.home(k)).map_or(0, |c| c.key.rest)
    }

    /// [`TupleMap::get`] of the tuple of `f`, without building the tuple.
    #[inline]
    pub(super) fn get_flow(&self, f: &Flow4) -> Option<(u32, Dir)> {
        self.v4.get(Key4::ports(f))
    }

    /// [`TupleMap::get`] of the tuple of `f`: the slot index.
    #[inline]
    pub(super) fn get_v4(&self, f: &Flow4) -> Option<u32> {
        self.v4.get(Key4::ports(f)).map(|(idx, _)| idx)
    }

    pub(super) fn contains_key(&self, t: &Tuple) -> bool {
        self.get(t).is_some()
    }

    pub(super) fn insert(&mut self, t: Tuple, v: (u32, Dir)) {
        match Key4::of(&t) {
            Some(k) => self.v4.insert(k, v.0, v.1),
            None => {
                self.other.insert(t, v);
            }
        }
    }

    /// Inserts an entry's two tuples, `o` as its original and `r` as its reply direction of
    /// slot `idx`, unless either is present (a clash): then false, with nothing inserted.
    pub(super) fn insert_pair(&mut self, o: &Tuple, r: &Tuple, idx: u32) -> bool {
        if let (Some(ko), Some(kr)) = (Key4::of(o), Key4::of(r)) {
            return self.v4.insert_pair(ko, kr, idx);
        }
        if self.contains_key(o) || self.contains_key(r) {
            return false;
        }
        self.insert(*o, (idx, Dir::Original));
        self.insert(*r, (idx, Dir::Reply));
        true
    }

    pub(super) fn remove(&mut self, t: &Tuple) {
        match Key4::of(t) {
            Some(k) => self.v4.remove(k),
            None => {
                self.other.remove(t);
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.v4.len + self.other.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.v4.len == 0 && self.other.is_empty()
    }
}

#[cfg(test)]
#[path = "tuple_map_tests.rs"]
mod tests;
