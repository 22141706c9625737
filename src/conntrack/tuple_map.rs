//! The tuple hash of the connection table: tuple → (slot, direction).
//!
//! Every packet looks its tuple up here, and with hundreds of thousands of connections the
//! lookup is a cache miss or two, so the entries are kept small: an IPv4 tuple is packed into
//! 16 bytes ([`Key4`]: 24-byte entries instead of 52 for the family-neutral [`Tuple`]), which
//! keeps twice as many entries in the same cache. Tuples of other families live in a second
//! map under their full key. Invariant: a tuple is in exactly one of the two maps, chosen by
//! its family alone, so lookups, inserts and removals agree.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::IpAddr;

use super::hash::FxHasher;
use super::tuple::{Dir, L4Key, Tuple};

type Fx = BuildHasherDefault<FxHasher>;

/// An IPv4 tuple, packed without loss: addresses in one word; protocol, the layer-4 kind and
/// its 32 bits (ports, or ICMP id/type/code) in the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key4 {
    addrs: u64,
    rest: u64,
}

impl Key4 {
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
}

impl Hash for Key4 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // One well-mixed word, its high half folded into the low bits the table indexes by.
        let m = (self.addrs ^ self.rest.rotate_left(23)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        state.write_u64(m ^ m >> 29);
    }
}

/// Both maps; see the module docs.
#[derive(Debug, Clone, Default)]
pub(super) struct TupleMap {
    v4: HashMap<Key4, (u32, Dir), Fx>,
    other: HashMap<Tuple, (u32, Dir), Fx>,
}

impl TupleMap {
    /// Room for `n` IPv4 tuples before the first rehash.
    pub(super) fn with_capacity(n: usize) -> TupleMap {
        TupleMap {
            v4: HashMap::with_capacity_and_hasher(n, Fx::default()),
            other: HashMap::default(),
        }
    }

    pub(super) fn get(&self, t: &Tuple) -> Option<&(u32, Dir)> {
        match Key4::of(t) {
            Some(k) => self.v4.get(&k),
            None => self.other.get(t),
        }
    }

    pub(super) fn contains_key(&self, t: &Tuple) -> bool {
        self.get(t).is_some()
    }

    pub(super) fn insert(&mut self, t: Tuple, v: (u32, Dir)) {
        match Key4::of(&t) {
            Some(k) => self.v4.insert(k, v),
            None => self.other.insert(t, v),
        };
    }

    pub(super) fn remove(&mut self, t: &Tuple) {
        match Key4::of(t) {
            Some(k) => self.v4.remove(&k),
            None => self.other.remove(t),
        };
    }

    pub(super) fn len(&self) -> usize {
        self.v4.len() + self.other.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.other.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(a: [u8; 4], b: [u8; 4], proto: u8, l4: L4Key) -> Tuple {
        Tuple {
            src: IpAddr::V4(Ipv4Addr::from(a)),
            dst: IpAddr::V4(Ipv4Addr::from(b)),
            proto,
            l4,
        }
    }

    /// Tuples that differ in any one part get different packed keys (the packing loses
    /// nothing), and each family finds its own entries.
    #[test]
    fn packing_is_lossless_and_families_stay_apart() {
        let ports = L4Key::Ports { src: 1, dst: 2 };
        let icmp = L4Key::Icmp {
            id: 1,
            kind: 0,
            code: 2,
        };
        let base = v4([10, 0, 0, 1], [10, 0, 0, 2], 6, ports);
        let variants = [
            base,
            v4([10, 0, 0, 2], [10, 0, 0, 1], 6, ports),
            v4([10, 0, 0, 1], [10, 0, 0, 2], 17, ports),
            v4(
                [10, 0, 0, 1],
                [10, 0, 0, 2],
                6,
                L4Key::Ports { src: 2, dst: 1 },
            ),
            v4([10, 0, 0, 1], [10, 0, 0, 2], 6, icmp),
            v4([10, 0, 0, 1], [10, 0, 0, 2], 6, L4Key::None),
            v4(
                [10, 0, 0, 1],
                [10, 0, 0, 2],
                1,
                L4Key::Icmp {
                    id: 0,
                    kind: 1,
                    code: 2,
                },
            ),
        ];
        let mut m = TupleMap::default();
        for (i, t) in variants.iter().enumerate() {
            m.insert(*t, (i as u32, Dir::Original));
        }
        let six = Tuple {
            src: IpAddr::V6(Ipv6Addr::LOCALHOST),
            dst: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            proto: 6,
            l4: ports,
        };
        m.insert(six, (99, Dir::Reply));
        assert_eq!(m.len(), variants.len() + 1);
        for (i, t) in variants.iter().enumerate() {
            assert_eq!(m.get(t), Some(&(i as u32, Dir::Original)));
        }
        assert_eq!(m.get(&six), Some(&(99, Dir::Reply)));
        m.remove(&base);
        m.remove(&six);
        assert!(!m.contains_key(&base) && !m.contains_key(&six));
        assert_eq!(m.len(), variants.len() - 1);
    }
}
