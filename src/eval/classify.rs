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

/// The rules of one chain by the `(protocol, dport)` key they pin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainIndex {
    /// Rules (positions in the chain, ascending) that pin no key.
    other: Vec<u32>,
    /// Sorted keys ([`Head::dport_key`]), parallel to `spans`.
    keys: Vec<u32>,
    /// For each key, its rules in `keyed` (start, end).
    spans: Vec<(u32, u32)>,
    /// Positions of the keyed rules, grouped by key, ascending in each group.
    keyed: Vec<u32>,
}

impl ChainIndex {
    /// The index of a chain whose rules have these heads, `None` when the
    /// chain is short enough to scan.
    pub fn new(heads: &[Head]) -> Option<ChainIndex> {
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
        for (k, i) in pairs {
            if ix.keys.last() != Some(&k) {
                ix.keys.push(k);
                let at = ix.keyed.len() as u32;
                ix.spans.push((at, at));
            }
            ix.keyed.push(i);
            if let Some(s) = ix.spans.last_mut() {
                s.1 += 1;
            }
        }
        Some(ix)
    }

    /// The first rule at or after `from` whose head may match `p` (the
    /// chain's length when none does); `None` when the packet's ports are
    /// not readable, so the index cannot tell (the caller scans).
    pub fn first_candidate(&self, heads: &[Head], from: usize, p: &PacketHead) -> Option<usize> {
        let key = p.dport_key()?;
        let keyed: &[u32] = match self.keys.binary_search(&key) {
            Ok(k) => {
                let (s, e) = self.spans[k];
                &self.keyed[s as usize..e as usize]
            }
            Err(_) => &[],
        };
        let mut a = after(keyed, from).iter().peekable();
        let mut b = after(&self.other, from).iter().peekable();
        loop {
            // The lower position of the two lists comes first.
            let next = match (a.peek(), b.peek()) {
                (Some(&&x), Some(&&y)) if x < y => a.next(),
                (Some(_), None) => a.next(),
                (_, Some(_)) => b.next(),
                (None, None) => return Some(heads.len()),
            };
            let Some(&i) = next else {
                return Some(heads.len());
            };
            if heads.get(i as usize).is_some_and(|h| h.may_match(p)) {
                return Some(i as usize);
            }
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
        let ix = ChainIndex::new(&h).expect("long enough to index");
        for p in [
            packet(6, Some((1234, 80))),
            packet(6, Some((1234, 81))),
            packet(17, Some((1234, 53))),
            packet(17, Some((1234, 54))),
            packet(6, Some((80, 9999))),
            packet(1, None),
        ] {
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
