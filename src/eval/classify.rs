//! A per-chain index that finds the next rule a packet may match without
//! testing every rule before it.
//!
//! `ipt_do_table()` tests rules one after another; the result only depends
//! on the rules that match, so a walk may skip any rule it can prove cannot
//! match, as long as it visits the others in order (first-match semantics,
//! counters and non-terminal targets are then the same). The proof is
//! [`Head::may_match`]: address, protocol and fragment tests plus the port
//! test of a first tcp/udp match, all of which say no before any match with
//! an effect runs.
//!
//! Most rules of large rulesets pin a protocol and one destination port
//! (`-p tcp -m tcp --dport 443`): a packet with readable ports can only match
//! those of its own `(protocol, dport)` and the rules that pin none. The
//! index keeps, per chain, the rules of each key and the others, each sorted
//! by position, and the next candidate is the first of the two lists at or
//! after the current position whose [`Head`] admits the packet.

use super::header::{Head, PacketHead};

/// Chains shorter than this are scanned: an index saves nothing there.
const MIN_INDEXED: usize = 16;

/// The merged lists (every key's rules with the unkeyed ones) are kept when
/// they hold at most this many positions per rule of the chain; beyond, the
/// two lists are merged as the walk goes.
const MERGED_PER_RULE: usize = 8;

/// The rules of one chain by the `(protocol, dport)` key they pin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainIndex {
    /// Rules (positions in the chain, ascending) that pin no key.
    other: Vec<u32>,
    /// The keys ([`Head::dport_key`]) with their rules' span in `keyed`, hashed
    /// (open addressing, at most half full): one probe or two per packet,
    /// where a binary search over thousands of keys takes a dozen.
    slots: Vec<Slot>,
    /// Positions of the keyed rules, grouped by key, ascending in each group:
    /// with `merged`, each group also holds the `other` positions, so a packet's
    /// candidates are one list.
    keyed: Vec<u32>,
    merged: bool,
}

/// A key of [`ChainIndex::slots`] and its rules in `keyed` (start, end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    key: u32,
    start: u32,
    end: u32,
}

/// An empty slot: no key is (keys are `proto << 16 | port`).
const EMPTY: u32 = u32::MAX;

/// The home slot of `key` in a table of `1 << bits` slots (Fibonacci hashing).
fn home(key: u32, bits: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B9) >> (32 - bits)) as usize
}

impl ChainIndex {
    /// The index of a chain whose rules have these heads, `None` when the
    /// chain is short enough to scan.
    pub fn new(heads: &[Head]) -> Option<ChainIndex> {
        ChainIndex::build(heads, MERGED_PER_RULE)
    }

    /// [`ChainIndex::new`] with merged lists of at most `per_rule` positions per rule.
    fn build(heads: &[Head], per_rule: usize) -> Option<ChainIndex> {
        if heads.len() < MIN_INDEXED || u32::try_from(heads.len()).is_err() {
            return None;
        }
        let mut ix = ChainIndex::default();
        let mut pairs = Vec::new();
        for (i, h) in (0u32..).zip(heads) {
            match h.dport_key() {
                Some(k) => pairs.push((k, i)),
                None => ix.other.push(i),
            }
        }
        // Sorting the (key, position) pairs keeps each group's positions ascending.
        pairs.sort_unstable();
        let groups = pairs.chunk_by(|a, b| a.0 == b.0);
        let merged_len = pairs.len() + groups.clone().count() * ix.other.len();
        ix.merged = merged_len <= heads.len() * per_rule;
        let bits = (groups.clone().count() * 2)
            .max(2)
            .next_power_of_two()
            .trailing_zeros();
        let empty = Slot {
            key: EMPTY,
            start: 0,
            end: 0,
        };
        ix.slots = vec![empty; 1 << bits];
        for group in groups {
            let key = group[0].0;
            let at = ix.keyed.len() as u32;
            ix.keyed.extend(group.iter().map(|&(_, i)| i));
            if ix.merged {
                ix.keyed.extend_from_slice(&ix.other);
                let end = ix.keyed.len();
                ix.keyed[at as usize..end].sort_unstable();
            }
            let end = ix.keyed.len() as u32;
            ix.insert(
                bits,
                Slot {
                    key,
                    start: at,
                    end,
                },
            );
        }
        Some(ix)
    }

    /// The first rule at or after `from` whose head may match `p` (the
    /// chain's length when none does); `None` when the packet's ports are
    /// not readable, so the index cannot tell (the caller scans).
    pub fn first_candidate(&self, heads: &[Head], from: usize, p: &PacketHead) -> Option<usize> {
        Some(self.candidates(p)?.first(heads, from, p))
    }

    /// The rules a packet may match, looked up once for a walk through the
    /// chain; `None` when the packet's ports are not readable.
    pub fn candidates(&self, p: &PacketHead) -> Option<Candidates<'_>> {
        let key = p.dport_key()?;
        let found = self
            .find(key)
            .and_then(|s| self.keyed.get(s.start as usize..s.end as usize));
        Some(match (found, self.merged) {
            (Some(list), true) => Candidates::One(list),
            (None, _) => Candidates::One(&self.other),
            (Some(keyed), false) => Candidates::Two(keyed, &self.other),
        })
    }
}

impl ChainIndex {
    fn insert(&mut self, bits: u32, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut i = home(slot.key, bits);
        while self.slots[i].key != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    /// The slot of `key`, if the chain has rules for it.
    fn find(&self, key: u32) -> Option<&Slot> {
        let mask = self.slots.len().checked_sub(1)?;
        let bits = self.slots.len().trailing_zeros();
        let mut i = home(key, bits);
        // Never full: a probe ends at the key or at an empty slot.
        loop {
            let slot = self.slots.get(i)?;
            if slot.key == key {
                return Some(slot);
            }
            if slot.key == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// The rules of a chain one packet may match, as its index gives them.
#[derive(Debug, Clone, Copy)]
pub enum Candidates<'a> {
    /// No index (or no readable ports): every rule, tested by its head.
    Scan,
    /// These positions (ascending).
    One(&'a [u32]),
    /// The union of two ascending lists.
    Two(&'a [u32], &'a [u32]),
}

impl Candidates<'_> {
    /// The first rule at or after `from` whose head may match `p`, the chain's
    /// length (of `heads`) when none does.
    pub fn first(&self, heads: &[Head], from: usize, p: &PacketHead) -> usize {
        let admits = |i: u32| heads.get(i as usize).is_some_and(|h| h.may_match(p));
        let found = match *self {
            Candidates::Scan => {
                return match heads.get(from..) {
                    Some(hs) => from + hs.iter().position(|h| h.may_match(p)).unwrap_or(hs.len()),
                    None => from,
                }
            }
            Candidates::One(list) => after(list, from).iter().copied().find(|&i| admits(i)),
            Candidates::Two(a, b) => merge_find(after(a, from), after(b, from), admits),
        };
        found.map_or(heads.len(), |i| i as usize)
    }
}

/// The first position of the union of two ascending lists (in order) that `admits`.
fn merge_find(mut a: &[u32], mut b: &[u32], admits: impl Fn(u32) -> bool) -> Option<u32> {
    loop {
        // The lower position of the two lists comes first.
        let next = match (a.first(), b.first()) {
            (Some(&x), Some(&y)) if x < y => {
                a = &a[1..];
                x
            }
            (_, Some(&y)) => {
                b = &b[1..];
                y
            }
            (Some(&x), None) => {
                a = &a[1..];
                x
            }
            (None, None) => return None,
        };
        if admits(next) {
            return Some(next);
        }
    }
}

/// The tail of an ascending list from the first element ≥ `from`.
fn after(list: &[u32], from: usize) -> &[u32] {
    let i = list.partition_point(|&r| (r as usize) < from);
    &list[i..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn heads(rules: &[&str]) -> Vec<Head> {
        let mut text = String::from("*filter\n");
        for r in rules {
            text.push_str(&format!("-A FORWARD {r}\n"));
        }
        text.push_str("COMMIT\n");
        let l = crate::ir::load(&SourceFile::new("t", text));
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        l.ruleset.tables[0].chains[1]
            .rules
            .iter()
            .map(Head::of)
            .collect()
    }

    fn packet(proto: u8, ports: Option<(u16, u16)>) -> PacketHead {
        PacketHead {
            src: 0x0a00_0001,
            dst: 0x0a01_0001,
            proto,
            frag_off: 0,
            ports,
        }
    }

    /// The scan the index replaces: the first head at or after `from` that may match.
    fn scan(h: &[Head], from: usize, p: &PacketHead) -> usize {
        (from..h.len())
            .find(|&i| h[i].may_match(p))
            .unwrap_or(h.len())
    }

    #[test]
    fn agrees_with_the_scan_from_every_position() {
        let mut rules = Vec::new();
        for i in 0..40u16 {
            rules.push(match i % 5 {
                0 => format!("-p tcp -m tcp --dport {}", 80 + i % 3),
                1 => format!("-p udp -m udp --dport {}", 53 + i % 2),
                2 => "-p tcp -m tcp ! --dport 80".to_string(),
                3 => "-s 10.0.0.0/8 -p tcp -m tcp --dport 80:81".to_string(),
                _ => "-m comment --comment x".to_string(),
            });
        }
        let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
        let h = heads(&rules);
        // Merged lists, and the two lists merged as the walk goes.
        let merged = ChainIndex::build(&h, MERGED_PER_RULE).expect("long enough to index");
        let apart = ChainIndex::build(&h, 0).expect("long enough to index");
        assert!(merged.merged && !apart.merged);
        for (ix, p) in [&merged, &apart].into_iter().flat_map(|ix| {
            [
                packet(6, Some((1234, 80))),
                packet(6, Some((1234, 81))),
                packet(17, Some((1234, 53))),
                packet(17, Some((1234, 54))),
                packet(6, Some((80, 9999))),
                packet(1, None),
            ]
            .map(|p| (ix, p))
        }) {
            for from in 0..=h.len() {
                let got = ix.first_candidate(&h, from, &p);
                match p.ports {
                    Some(_) => assert_eq!(got, Some(scan(&h, from, &p)), "{p:?} from {from}"),
                    None => assert_eq!(got, None),
                }
            }
        }
    }

    #[test]
    fn short_chains_are_not_indexed() {
        assert_eq!(ChainIndex::new(&heads(&["-p tcp -m tcp --dport 80"])), None);
    }
}
