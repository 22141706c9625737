//! The outcomes the established-flow lane learned ([`super::lane`]), each kept once
//! and shared by every connection direction that replays it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::tables::Bump;
use crate::conntrack::hash::FxHasher;
use crate::eval::outcome::{Ifaces, RuleName, Verdict};

/// Distinct learned outcomes kept; beyond, packets take the full path.
pub(super) const MAX_PATHS: usize = 1 << 16;

/// What a packet's walks decided, as the record shows it: replayed for every
/// packet that takes the lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Path {
    pub(super) bumps: Box<[Bump]>,
    pub(super) verdict: Verdict,
    pub(super) hook: Option<&'static str>,
    pub(super) rule: Option<RuleName>,
    pub(super) iface: Ifaces,
    pub(super) fate: Option<Verdict>,
    pub(super) note: Option<String>,
    pub(super) matched: Box<[RuleName]>,
}

/// A [`Path`] as the full path left it, borrowed: most lessons teach an outcome
/// already learned, found without building one.
#[derive(Debug, Clone, Copy)]
pub(super) struct PathRef<'a> {
    pub(super) bumps: &'a [Bump],
    pub(super) verdict: Verdict,
    pub(super) hook: Option<&'static str>,
    pub(super) rule: Option<&'a RuleName>,
    pub(super) iface: &'a Ifaces,
    pub(super) fate: Option<Verdict>,
    pub(super) note: Option<&'a String>,
    pub(super) matched: &'a [RuleName],
}

impl PathRef<'_> {
    /// What [`Learned::known`] files it under: the counters, the verdicts and the
    /// interfaces, which tell most outcomes apart (the rule names follow from the
    /// counters; a forwarded connection's two directions differ only in their
    /// interfaces, so without them every lesson would walk a chain of look-alikes);
    /// equal paths hash equal.
    fn hash(&self) -> u64 {
        let mut h = FxHasher::default();
        for b in self.bumps {
            h.write_u64(u64::from(b.table) << 32 | u64::from(b.chain));
            h.write_u32(b.rule.map_or(u32::MAX, |r| r));
        }
        h.write_u64(name_word(self.iface.input.as_deref()));
        h.write_u64(name_word(self.iface.output.as_deref()));
        h.write_u8(self.verdict as u8);
        h.write_u8(self.fate.map_or(u8::MAX, |f| f as u8));
        h.finish()
    }

    /// Equal to `p`; the cheap fields first, since the recent paths and a hash
    /// chain may hold look-alikes.
    fn is(&self, p: &Path) -> bool {
        self.verdict == p.verdict
            && self.fate == p.fate
            && *self.bumps == *p.bumps
            && same_hook(self.hook, p.hook)
            && same_name(self.rule, p.rule.as_ref())
            && same_ifaces(self.iface, &p.iface)
            && self.note == p.note.as_ref()
            && self.matched.len() == p.matched.len()
            && self
                .matched
                .iter()
                .zip(&p.matched)
                .all(|(a, b)| same_name(Some(a), Some(b)))
    }

    fn to_path(self) -> Path {
        Path {
            bumps: self.bumps.into(),
            verdict: self.verdict,
            hook: self.hook,
            rule: self.rule.cloned(),
            iface: self.iface.clone(),
            fate: self.fate,
            note: self.note.cloned(),
            matched: self.matched.into(),
        }
    }
}

/// A word of an interface name for [`PathRef::hash`]: its length and first
/// bytes (a function of the name, so equal names give equal words).
fn name_word(name: Option<&str>) -> u64 {
    name.map_or(u64::MAX, |n| {
        n.bytes()
            .take(7)
            .fold(n.len() as u64, |w, b| w << 8 | u64::from(b))
    })
}

/// Equal interfaces, compared a byte at a time: names are a few bytes, shorter
/// than what a `memcmp` call costs.
fn same_ifaces(a: &Ifaces, b: &Ifaces) -> bool {
    let same = |x: Option<&str>, y: Option<&str>| match (x, y) {
        (Some(x), Some(y)) => x.len() == y.len() && x.bytes().zip(y.bytes()).all(|(p, q)| p == q),
        (x, y) => x.is_none() && y.is_none(),
    };
    same(a.input.as_deref(), b.input.as_deref()) && same(a.output.as_deref(), b.output.as_deref())
}

/// Equal hook names; they are the `&'static` chain names, so most compare by address.
fn same_hook(a: Option<&'static str>, b: Option<&'static str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => std::ptr::eq(a, b) || a == b,
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// Equal rule names; most are the same shared one (see `Tables::names`).
fn same_name(a: Option<&RuleName>, b: Option<&RuleName>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b) || a == b,
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// The learned outcomes, numbered from 1 in the order learned.
#[derive(Debug, Default)]
pub(super) struct Learned {
    paths: Vec<Path>,
    /// By [`PathRef::hash`]: the number of the last path learned with that hash;
    /// `same_hash` (parallel to `paths`) links it to the one before (0: none).
    known: HashMap<u64, u32, BuildHasherDefault<FxHasher>>,
    same_hash: Vec<u32>,
    /// The numbers of the last two paths found (0: none), tried before hashing:
    /// lessons mostly teach again what one of the last two taught (a forwarded
    /// connection's two directions differ in their interfaces only).
    recent: [u32; 2],
    /// Parallel to `paths`: the packets (and their bytes) that replayed each path on the
    /// lane. Their counters are bumped when read ([`Learned::unbumped`]): a lane packet then
    /// adds to one pair found by its path's index, instead of walking the path's
    /// [`Path::bumps`] through the tables' nested counters.
    hits: Vec<(u64, u64)>,
}

impl Learned {
    /// The path at `index` (its number minus one).
    pub(super) fn get(&self, index: u32) -> Option<&Path> {
        self.paths.get(index as usize)
    }

    /// The path at `index`, which [`Learned::get`] found.
    pub(super) fn path(&self, index: u32) -> &Path {
        &self.paths[index as usize]
    }

    /// Whether a path is at `index`: asked of the hit counts, which [`Learned::hit`] then
    /// finds without another bound to load.
    #[inline(always)]
    pub(super) fn has(&self, index: u32) -> bool {
        (index as usize) < self.hits.len()
    }

    /// Counts a packet of `bytes` that replayed the path at `index` (see [`Learned::hits`]).
    #[inline(always)]
    pub(super) fn hit(&mut self, index: u32, bytes: u64) {
        if let Some(h) = self.hits.get_mut(index as usize) {
            h.0 += 1;
            h.1 += bytes;
        }
    }

    /// The packets that replayed a path.
    pub(super) fn taken(&self) -> u64 {
        self.hits.iter().map(|h| h.0).sum()
    }

    /// The counters the lane's packets bumped and have not been added to the tables':
    /// each path's bumps with its packets and bytes.
    pub(super) fn unbumped(&self) -> impl Iterator<Item = (&[Bump], (u64, u64))> {
        (self.paths.iter().zip(&self.hits))
            .filter(|(_, h)| h.0 > 0)
            .map(|(p, h)| (&*p.bumps, *h))
    }
}

impl Learned {
    /// The number of `path` among the learned ones (index plus one), learning it
    /// if new; `None` when it is new and [`MAX_PATHS`] are kept.
    pub(super) fn number(&mut self, path: PathRef) -> Option<u32> {
        for n in self.recent {
            let known = n.checked_sub(1).and_then(|i| self.paths.get(i as usize));
            if known.is_some_and(|p| path.is(p)) {
                self.found(n);
                return Some(n);
            }
        }
        let n = self.look_up(path)?;
        self.found(n);
        Some(n)
    }

    /// Keeps `n` as the last path found.
    fn found(&mut self, n: u32) {
        if self.recent[0] != n {
            self.recent = [n, self.recent[0]];
        }
    }

    /// [`Learned::number`] by hash.
    fn look_up(&mut self, path: PathRef) -> Option<u32> {
        let hash = path.hash();
        let last = self.known.get(&hash).copied().unwrap_or(0);
        let mut n = last;
        while let Some(i) = n.checked_sub(1) {
            let learned = self.paths.get(i as usize)?;
            if path.is(learned) {
                return Some(n);
            }
            n = self.same_hash.get(i as usize).copied().unwrap_or(0);
        }
        if self.paths.len() >= MAX_PATHS {
            return None;
        }
        self.paths.push(path.to_path());
        self.hits.push((0, 0));
        self.same_hash.push(last);
        let n = self.paths.len() as u32;
        self.known.insert(hash, n);
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ifaces(input: &str, output: &str) -> Ifaces {
        Ifaces {
            input: Some(input.into()),
            output: Some(output.into()),
        }
    }

    #[test]
    fn equal_paths_share_a_number_and_different_ones_do_not() {
        let bumps = [Bump {
            table: 0,
            chain: 2,
            rule: Some(0),
        }];
        let rule: RuleName = "filter/FORWARD/1".into();
        // The same rule's name, made apart (not the shared one).
        let same_rule: RuleName = "filter/FORWARD/1".into();
        let (out, back) = (ifaces("eth0", "eth1"), ifaces("eth1", "eth0"));
        let path = |iface, rule| PathRef {
            bumps: &bumps,
            verdict: Verdict::Accept,
            hook: Some("FORWARD"),
            rule: Some(rule),
            iface,
            fate: None,
            note: None,
            matched: &[],
        };
        let mut lanes = Learned::default();
        let first = lanes.number(path(&out, &rule));
        // Same counters and verdict, other interfaces: another outcome.
        let second = lanes.number(path(&back, &rule));
        assert_eq!((first, second), (Some(1), Some(2)));
        assert_eq!(lanes.number(path(&out, &same_rule)), Some(1));
        assert_eq!(lanes.number(path(&back, &rule)), Some(2));
        assert_eq!(lanes.paths.len(), 2);
        assert_eq!(lanes.paths[1].iface, back);
        // A third outcome pushes the first out of the recent ones: found by its hash.
        let policy = [Bump {
            table: 0,
            chain: 2,
            rule: None,
        }];
        let third = PathRef {
            bumps: &policy,
            rule: None,
            ..path(&out, &rule)
        };
        assert_eq!(lanes.number(third), Some(3));
        assert_eq!(lanes.recent, [3, 2]);
        assert_eq!(lanes.number(path(&out, &rule)), Some(1));
        assert_eq!(lanes.number(third), Some(3));
        assert_eq!(lanes.paths.len(), 3);
    }
}
