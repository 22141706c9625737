//! Extension matches as exact sets over the dimensions of [`super::space`]:
//! conntrack (`--ctstate` incl. SNAT/DNAT, `--ctdir`), icmp (type/code),
//! multiport (port sets), iprange (address ranges) and mark (contiguous
//! masks, when no rule of the table rewrites the mark).
//!
//! Each function mirrors the kernel's match function cited on it, so a point
//! of the returned set is a packet the kernel matches and vice versa.

use super::space::{IntervalSet, CT_NO_ENTRY};
use crate::ext::matches::conntrack::{
    self as ct, Conntrack, Dir, ST_DNAT, ST_ESTABLISHED, ST_INVALID, ST_NEW, ST_RELATED, ST_SNAT,
    ST_UNTRACKED,
};
use crate::ext::matches::iprange::Range;
use crate::ext::matches::multiport::{Multiport, Which};
use crate::ext::matches::{icmp::Icmp, mark::Mark};
use crate::ir::{RuleTarget, Table};

/// The conntrack state atoms: `base * 8 + snat * 4 + dnat * 2 + reply`, base
/// 0 INVALID, 1 ESTABLISHED, 2 RELATED, 3 NEW, 4 UNTRACKED. INVALID and
/// UNTRACKED packets have no entry (so no NAT bits and no direction); NEW
/// is never a reply (`enum ip_conntrack_info` has no IP_CT_NEW_REPLY).
pub fn ct_atoms() -> impl Iterator<Item = u32> {
    (0u32..=32).filter(|a| match a / 8 {
        0 | 4 => a % 8 == 0,
        3 => a % 2 == 0,
        _ => true,
    })
}

/// `XT_CONNTRACK_STATE_*` bits an atom carries, as `conntrack_mt` builds
/// `statebit` (xt_conntrack.c): the ctinfo bit, then SNAT/DNAT from the
/// entry's status.
pub fn ct_bits(atom: u32) -> u16 {
    let base = [ST_INVALID, ST_ESTABLISHED, ST_RELATED, ST_NEW, ST_UNTRACKED];
    let mut b = base[(atom / 8).min(4) as usize];
    if atom & 4 != 0 {
        b |= ST_SNAT;
    }
    if atom & 2 != 0 {
        b |= ST_DNAT;
    }
    b
}

/// `-m state` bits (xt_state.h layout) as atoms; `state_mt` tests the same
/// ctinfo bit, so NAT bits and direction are free.
pub fn state_atoms(mask: u8, inv: bool) -> IntervalSet {
    let bits = ct::from_state_bits(mask);
    let want = bits & (ST_INVALID | ST_ESTABLISHED | ST_RELATED | ST_NEW | ST_UNTRACKED);
    IntervalSet::from_values(ct_atoms().filter(|a| {
        let base = ct_bits(*a) & !(ST_SNAT | ST_DNAT);
        (want & base != 0) != inv
    }))
}

/// The atoms `conntrack_mt` accepts, and whether that is all of the match
/// (addresses, ports, status and expiry are not dimensions).
pub fn conntrack_atoms(c: &Conntrack) -> (IntervalSet, bool) {
    let hit = ct_atoms().filter(|a| {
        let no_entry = CT_NO_ENTRY.contains(a);
        if let Some(st) = c.state {
            if (st.value & ct_bits(*a) != 0) == st.invert {
                return false;
            }
        }
        if no_entry {
            // conntrack_mt returns after the state test when there is no
            // entry: a match without --ctstate never matches then.
            return c.state.is_some();
        }
        c.dir.is_none_or(|d| (d == Dir::Reply) == (a & 1 != 0))
    });
    let only_state_dir = Conntrack {
        state: c.state,
        dir: c.dir,
        ..Conntrack::default()
    } == *c;
    (IntervalSet::from_values(hit), only_state_dir)
}

/// `icmp_type_code_match` over the type*256+code dimension.
pub fn icmp_set(i: &Icmp) -> IntervalSet {
    let set = if i.kind == 0xFF {
        IntervalSet::full(0xFFFF)
    } else {
        let t = u32::from(i.kind) << 8;
        IntervalSet::range(t + u32::from(i.codes.0), t + u32::from(i.codes.1))
    };
    if i.invert {
        set.complement(0xFFFF)
    } else {
        set
    }
}

/// `multiport_mt` as (source ports, destination ports) cubes: one pair, or
/// two disjoint pairs for an un-negated `--ports` (source in the set, or
/// source outside and destination inside).
pub fn multiport_sets(m: &Multiport) -> Vec<(IntervalSet, IntervalSet)> {
    let full = IntervalSet::full(65535);
    let set = IntervalSet::from_values_ranges(m.ports.iter().map(|(a, b)| (*a as u32, *b as u32)));
    let (set, out) = if m.invert {
        (set.complement(65535), set)
    } else {
        (set.clone(), set.complement(65535))
    };
    match (m.which, m.invert) {
        (Which::Source, _) => vec![(set, full)],
        (Which::Destination, _) => vec![(full, set)],
        // Neither port in the set.
        (Which::Either, true) => vec![(set.clone(), set)],
        (Which::Either, false) => vec![(set.clone(), full), (out, set)],
    }
}

/// `iprange_mt4`: an inclusive address range, or its complement.
pub fn range_set(r: &Range) -> IntervalSet {
    let s = IntervalSet::range(r.min, r.max);
    if r.invert {
        s.complement(u32::MAX)
    } else {
        s
    }
}

/// How the mark dimension is laid out for one table: the common contiguous
/// mask of its `-m mark` matches, rotated so the masked field is the high
/// bits (then `(mark & mask) == value` is one interval, as a prefix is).
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkView {
    mask: Option<u32>,
}

impl MarkView {
    /// Exact only when every `-m mark` of the table uses the same contiguous
    /// mask and no rule of the table can rewrite the mark between rules
    /// (MARK, CONNMARK --restore-mark, TPROXY --tproxy-mark).
    pub fn of(table: &Table) -> MarkView {
        let rules = || table.chains.iter().flat_map(|c| &c.rules);
        let rewrites = rules().any(|r| {
            matches!(&r.target, RuleTarget::Ext(t) if matches!(t.name(), "MARK" | "CONNMARK" | "TPROXY"))
        });
        let mut masks = rules().flat_map(|r| &r.matches).filter_map(|m| match &m.m {
            crate::ext::Match::Mark(k) => Some(k.mask),
            _ => None,
        });
        let first = masks.next();
        let mask = match first {
            Some(m) if !rewrites && contiguous(m) && masks.all(|x| x == m) => Some(m),
            _ => None,
        };
        MarkView { mask }
    }

    /// The dimension value of a packet mark.
    pub fn point(&self, mark: u32) -> u32 {
        self.mask
            .map_or(mark, |m| mark.rotate_left(m.leading_zeros()))
    }

    /// The set `mark_mt` accepts, or `None` when this view cannot say.
    pub fn set(&self, m: &Mark) -> Option<IntervalSet> {
        let mask = self.mask.filter(|x| *x == m.mask)?;
        let set = if m.mark & !mask != 0 {
            IntervalSet::range(1, 0) // (mark & mask) never equals it
        } else {
            let lo = self.point(m.mark);
            IntervalSet::range(lo, lo | !self.point(mask))
        };
        Some(if m.invert {
            set.complement(u32::MAX)
        } else {
            set
        })
    }
}

/// One run of ones (`0xff00`, `0x1`, `0xffffffff`).
fn contiguous(m: u32) -> bool {
    m != 0 && (m >> m.trailing_zeros()).wrapping_add(1) & (m >> m.trailing_zeros()) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::matches::conntrack::Inv;

    #[test]
    fn ctstate_dnat_and_dir_pick_exact_atoms() {
        let c = Conntrack {
            state: Some(Inv {
                value: ST_DNAT,
                invert: false,
            }),
            dir: Some(Dir::Original),
            ..Conntrack::default()
        };
        let (set, exact) = conntrack_atoms(&c);
        assert!(exact);
        // DNAT-ed, original direction: EST 10,14 REL 18,22 NEW 26,30.
        assert_eq!(set, IntervalSet::from_values([10, 14, 18, 22, 26, 30]));
        // ! --ctstate NEW also takes the entry-less states.
        let not_new = Conntrack {
            state: Some(Inv {
                value: ST_NEW,
                invert: true,
            }),
            ..Conntrack::default()
        };
        let set = conntrack_atoms(&not_new).0;
        assert!(set.contains(0) && set.contains(32) && set.contains(9) && !set.contains(24));
        // Without --ctstate, packets without an entry never match.
        let dir_only = Conntrack {
            dir: Some(Dir::Reply),
            ..Conntrack::default()
        };
        let set = conntrack_atoms(&dir_only).0;
        assert!(!set.contains(0) && !set.contains(32) && set.contains(9) && !set.contains(8));
        assert_eq!(
            state_atoms(crate::ext::matches::state::NEW, false),
            IntervalSet::from_values([24, 26, 28, 30])
        );
    }

    #[test]
    fn icmp_type_code_and_multiport_either() {
        let mut i = Icmp::default();
        assert_eq!(icmp_set(&i), IntervalSet::full(0xFFFF));
        i.kind = 3;
        i.codes = (3, 3);
        i.invert = true;
        let s = icmp_set(&i);
        assert!(!s.contains(3 * 256 + 3) && s.contains(3 * 256 + 4) && s.contains(8 * 256));
        let mut m = Multiport::default();
        m.which = Which::Either;
        m.ports = vec![(22, 22), (80, 90)];
        let sets = multiport_sets(&m);
        let hit = |sp: u32, dp: u32| sets.iter().any(|(s, d)| s.contains(sp) && d.contains(dp));
        assert!(hit(22, 1) && hit(1, 85) && hit(85, 22) && !hit(1, 91));
        assert_eq!(
            sets.iter()
                .filter(|(s, d)| s.contains(22) && d.contains(22))
                .count(),
            1
        );
    }

    #[test]
    fn mark_masks_rotate_into_intervals() {
        let view = MarkView { mask: Some(0xff) };
        let mut m = Mark::default();
        m.mark = 0x12;
        m.mask = 0xff;
        let set = view.set(&m).expect("same mask");
        for mark in [0x12, 0xab12, 0xffff_ff12, 0x13, 0x0, 0x1200] {
            assert_eq!(
                set.contains(view.point(mark)),
                mark & 0xff == 0x12,
                "{mark:#x}"
            );
        }
        let mut other = m.clone();
        other.mask = 0xf0;
        assert!(view.set(&other).is_none());
        assert!(contiguous(0xff00) && contiguous(1) && contiguous(u32::MAX) && !contiguous(0x101));
        let iprange = Range {
            min: 10,
            max: 20,
            invert: true,
        };
        assert!(range_set(&iprange).contains(9) && !range_set(&iprange).contains(20));
    }
}
