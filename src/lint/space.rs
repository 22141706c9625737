//! Packet sets as products of interval sets, for exact shadowing analysis.
//!
//! A rule's match set is a [`Cube`]: one [`IntervalSet`] per header dimension
//! (addresses, protocol, ports, interfaces, TCP flags, conntrack state, ...).
//! Negations are complements, so every rule the model understands is one cube.
//! A match the model does not understand makes the cube an
//! *over*-approximation (`exact = false`): such a rule may still be found
//! shadowed (its real set is smaller), but never shadows another.
//! Covering is decided by subtracting cubes, which is exact; a fragment cap
//! keeps pathological rulesets bounded (then we say nothing).

use super::space_ext::{
    conntrack_atoms, ct_atoms, icmp_set, multiport_sets, range_set, state_atoms, MarkView,
};
use crate::ext::Match;
use crate::ir::iface::Iface;
use crate::ir::{Rule, Table};

/// A set of `u32` values as sorted, disjoint, inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalSet(Vec<(u32, u32)>);

impl IntervalSet {
    pub fn full(max: u32) -> IntervalSet {
        IntervalSet(vec![(0, max)])
    }
    pub fn range(lo: u32, hi: u32) -> IntervalSet {
        IntervalSet(if lo <= hi { vec![(lo, hi)] } else { vec![] })
    }
    /// The union of inclusive ranges.
    pub fn from_values_ranges(ranges: impl IntoIterator<Item = (u32, u32)>) -> IntervalSet {
        let mut v: Vec<(u32, u32)> = ranges.into_iter().filter(|(a, b)| a <= b).collect();
        v.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::new();
        for (lo, hi) in v {
            match out.last_mut() {
                Some(last) if last.1.checked_add(1).is_none_or(|n| n >= lo) => {
                    last.1 = last.1.max(hi)
                }
                _ => out.push((lo, hi)),
            }
        }
        IntervalSet(out)
    }
    pub fn from_values(values: impl IntoIterator<Item = u32>) -> IntervalSet {
        let mut v: Vec<u32> = values.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        let mut out: Vec<(u32, u32)> = Vec::new();
        for x in v {
            match out.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(x) => last.1 = x,
                _ => out.push((x, x)),
            }
        }
        IntervalSet(out)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn first(&self) -> Option<u32> {
        self.0.first().map(|r| r.0)
    }
    pub fn contains(&self, x: u32) -> bool {
        self.0.iter().any(|(lo, hi)| *lo <= x && x <= *hi)
    }
    /// Whether the two sets share a value (no allocation).
    pub fn intersects(&self, o: &IntervalSet) -> bool {
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < o.0.len() {
            let (a, b) = (self.0[i], o.0[j]);
            if a.0.max(b.0) <= a.1.min(b.1) {
                return true;
            }
            if a.1 < b.1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        false
    }
    pub fn intersect(&self, o: &IntervalSet) -> IntervalSet {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < self.0.len() && j < o.0.len() {
            let (a, b) = (self.0[i], o.0[j]);
            let lo = a.0.max(b.0);
            let hi = a.1.min(b.1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a.1 < b.1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet(out)
    }
    /// `self` minus `o`.
    pub fn subtract(&self, o: &IntervalSet) -> IntervalSet {
        let mut out = Vec::new();
        for &(lo, hi) in &self.0 {
            let mut cur = lo;
            let mut open = true;
            for &(olo, ohi) in o.0.iter().filter(|(a, b)| *b >= lo && *a <= hi) {
                if olo > cur {
                    out.push((cur, olo - 1));
                }
                match ohi.checked_add(1) {
                    Some(n) if n <= hi => cur = cur.max(n),
                    _ => {
                        open = false;
                        break;
                    }
                }
            }
            if open && cur <= hi {
                out.push((cur, hi));
            }
        }
        IntervalSet(out)
    }
    /// Complement within `0..=max`.
    pub fn complement(&self, max: u32) -> IntervalSet {
        IntervalSet::full(max).subtract(self)
    }
}

/// The dimensions of a cube.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Src = 0,
    Dst,
    Proto,
    Sport,
    Dport,
    InIface,
    OutIface,
    TcpFlags,
    /// Conntrack state atoms (`space_ext::ct_atoms`): ctinfo, SNAT, DNAT,
    /// direction.
    CtState,
    Frag,
    /// ICMP type * 256 + code.
    Icmp,
    /// The packet mark as `MarkView` lays it out.
    Mark,
}

pub const DIMS: usize = 12;

/// CtState atoms of packets without a conntrack entry (INVALID, UNTRACKED).
pub const CT_NO_ENTRY: [u32; 2] = [0, 32];

/// Largest value of each dimension.
const MAX: [u32; DIMS] = [
    u32::MAX,
    u32::MAX,
    255,
    65535,
    65535,
    u32::MAX,
    u32::MAX,
    255,
    32,
    1,
    65535,
    u32::MAX,
];

/// Every value of dimension `i`: `0..=MAX[i]`, but only real atoms for the
/// conntrack state.
fn universe(i: usize) -> IntervalSet {
    if i == Dim::CtState as usize {
        IntervalSet::from_values(ct_atoms())
    } else {
        IntervalSet::full(MAX[i])
    }
}

/// Per dimension, the lowest and highest value of a cube.
pub type BBox = [(u32, u32); DIMS];

/// Whether two boxes share no point.
pub fn bbox_disjoint(a: &BBox, b: &BBox) -> bool {
    a.iter().zip(b).any(|(x, y)| x.1 < y.0 || y.1 < x.0)
}

/// The box around several boxes.
pub fn bbox_union(boxes: impl IntoIterator<Item = BBox>) -> Option<BBox> {
    boxes.into_iter().reduce(|mut a, b| {
        for (x, y) in a.iter_mut().zip(b) {
            *x = (x.0.min(y.0), x.1.max(y.1));
        }
        a
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cube(pub [IntervalSet; DIMS]);

impl Cube {
    pub fn full() -> Cube {
        Cube(std::array::from_fn(universe))
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().any(IntervalSet::is_empty)
    }
    pub fn restrict(&mut self, d: Dim, set: IntervalSet) {
        let i = d as usize;
        self.0[i] = self.0[i].intersect(&set);
    }
    pub fn disjoint(&self, o: &Cube) -> bool {
        self.0.iter().zip(&o.0).any(|(a, b)| !a.intersects(b))
    }
    pub fn intersect(&self, o: &Cube) -> Cube {
        Cube(std::array::from_fn(|i| self.0[i].intersect(&o.0[i])))
    }
    /// `self` minus `o`, as disjoint cubes.
    pub fn subtract(&self, o: &Cube) -> Vec<Cube> {
        if self.disjoint(o) {
            return vec![self.clone()];
        }
        let mut out = Vec::new();
        let mut rest = self.clone();
        for i in 0..DIMS {
            let outside = rest.0[i].subtract(&o.0[i]);
            if !outside.is_empty() {
                let mut piece = rest.clone();
                piece.0[i] = outside;
                out.push(piece);
            }
            rest.0[i] = rest.0[i].intersect(&o.0[i]);
        }
        out
    }
    /// One point of the cube, chosen to be a realistic packet: documentation
    /// addresses, an ephemeral source port, SYN, state NEW, where the cube
    /// allows them; otherwise the lowest value of the dimension.
    pub fn witness(&self) -> Option<[u32; DIMS]> {
        const PREFER: [&[u32]; DIMS] = [
            &[0xcb00_7101, 0xc633_6401, 0x0a00_0001], // 203.0.113.1, 198.51.100.1, 10.0.0.1
            &[0xc000_0201, 0x0a00_0002],              // 192.0.2.1, 10.0.0.2
            &[6, 17, 1],
            &[40000, 1024],
            &[80, 22, 53],
            &[],
            &[],
            &[0x02, 0x10, 0x12],
            &[24, 8], // NEW, ESTABLISHED (original direction, no NAT)
            &[0],
            &[8 << 8, 0],
            &[0],
        ];
        let mut p = [0; DIMS];
        for (i, s) in self.0.iter().enumerate() {
            let first = s.first()?;
            // An address range's first value is its network address; the
            // next one is a more believable host.
            let host = (i <= Dim::Dst as usize)
                .then(|| first.saturating_add(1))
                .filter(|v| s.contains(*v));
            p[i] = PREFER[i]
                .iter()
                .copied()
                .find(|v| s.contains(*v))
                .or(host)
                .unwrap_or(first);
        }
        Some(p)
    }
    /// The smallest box around the cube: per dimension, lowest and highest
    /// value (`None` when empty). Boxes that do not meet hold cubes that do
    /// not meet, which is a cheap first test.
    pub fn bbox(&self) -> Option<BBox> {
        let mut b = [(0, 0); DIMS];
        for (i, s) in self.0.iter().enumerate() {
            b[i] = (s.first()?, s.0.last()?.1);
        }
        Some(b)
    }
    pub fn contains(&self, p: &[u32; DIMS]) -> bool {
        self.0.iter().zip(p).all(|(s, x)| s.contains(*x))
    }
}

/// Interface names as atoms: each exact name in the ruleset, each `prefix+`
/// (for names that only the prefix covers), the empty name (no device) and
/// "any other name".
#[derive(Debug, Clone, Default)]
pub struct Ifaces {
    atoms: Vec<(String, bool)>,
}

impl Ifaces {
    pub fn collect<'a>(ifaces: impl IntoIterator<Item = &'a Iface>) -> Ifaces {
        let mut atoms: Vec<(String, bool)> = vec![(String::new(), false)];
        for i in ifaces {
            if !i.is_any() && !atoms.iter().any(|(n, w)| *n == i.name && *w == i.wildcard) {
                atoms.push((i.name.to_string(), i.wildcard));
            }
        }
        atoms.push(("\u{0}other".into(), true));
        Ifaces { atoms }
    }

    /// How a witness names an atom: the interface, `NAME+` for one only a
    /// wildcard covers (`NAME` plus more), or `None` for "no device" and
    /// "any other name".
    pub fn atom_name(&self, atom: u32) -> Option<String> {
        let (name, wild) = self.atoms.get(atom as usize)?;
        if name.is_empty() || name.starts_with('\u{0}') {
            return None;
        }
        Some(if *wild {
            format!("{name}+")
        } else {
            name.clone()
        })
    }

    /// Atoms a rule's `-i`/`-o` matches. An atom `p+` stands for names that
    /// start with `p` and are not listed otherwise; it lies inside `q+` when
    /// `p` starts with `q`.
    pub fn set(&self, iface: &Iface, inv: bool) -> IntervalSet {
        if iface.is_any() {
            return IntervalSet::full(u32::MAX);
        }
        let hits = self.atoms.iter().enumerate().filter(|(_, (name, wild))| {
            if name.starts_with('\u{0}') {
                return false;
            }
            if iface.wildcard {
                name.starts_with(iface.name.as_str())
            } else {
                !*wild && *name == iface.name
            }
        });
        let set = IntervalSet::from_values(hits.map(|(i, _)| i as u32));
        if inv {
            set.complement(u32::MAX)
        } else {
            set
        }
    }
}

/// What the sets of one table's rules are measured against.
#[derive(Debug, Clone, Default)]
pub struct TableView {
    pub ifaces: Ifaces,
    pub mark: MarkView,
}

impl TableView {
    pub fn of(table: &Table) -> TableView {
        let rules = || table.chains.iter().flat_map(|c| &c.rules);
        TableView {
            ifaces: Ifaces::collect(rules().flat_map(|r| [&r.in_iface, &r.out_iface])),
            mark: MarkView::of(table),
        }
    }
}

/// A rule's match set (a union of disjoint cubes) and whether it is exact.
pub struct RuleSet {
    pub cubes: Vec<Cube>,
    pub exact: bool,
}

impl RuleSet {
    pub fn is_empty(&self) -> bool {
        self.cubes.iter().all(Cube::is_empty)
    }
}

pub fn addr_set(net: crate::ir::addr::Ipv4Net, inv: bool) -> IntervalSet {
    let set = if net.prefix_len().is_some() {
        IntervalSet::range(net.addr, net.addr | !net.mask)
    } else {
        return IntervalSet::full(u32::MAX); // non-contiguous masks: caller marks inexact
    };
    if inv {
        set.complement(u32::MAX)
    } else {
        set
    }
}

fn port_set((lo, hi): (u16, u16), inv: bool) -> IntervalSet {
    let s = IntervalSet::range(u32::from(lo), u32::from(hi));
    if inv {
        s.complement(65535)
    } else {
        s
    }
}

/// The packets `r` matches, as far as the model knows them.
pub fn rule_set(r: &Rule, view: &TableView) -> RuleSet {
    let mut c = Cube::full();
    let mut exact = r.src.prefix_len().is_some() && r.dst.prefix_len().is_some();
    c.restrict(Dim::Src, addr_set(r.src.for_ipv4(), r.src_inv));
    c.restrict(Dim::Dst, addr_set(r.dst.for_ipv4(), r.dst_inv));
    if r.proto != 0 {
        let p = IntervalSet::range(u32::from(r.proto), u32::from(r.proto));
        c.restrict(Dim::Proto, if r.proto_inv { p.complement(255) } else { p });
    }
    c.restrict(Dim::InIface, view.ifaces.set(&r.in_iface, r.in_inv));
    c.restrict(Dim::OutIface, view.ifaces.set(&r.out_iface, r.out_inv));
    if r.frag {
        c.restrict(
            Dim::Frag,
            IntervalSet::range(u32::from(!r.frag_inv), u32::from(!r.frag_inv)),
        );
    }
    let mut cubes = vec![c];
    for m in &r.matches {
        exact &= restrict_match(&mut cubes, &m.m, view);
    }
    RuleSet { cubes, exact }
}

/// Narrows every cube by one match; false when the match is only
/// over-approximated.
fn restrict_match(cubes: &mut Vec<Cube>, m: &Match, view: &TableView) -> bool {
    let all = |cubes: &mut Vec<Cube>, d: Dim, s: &IntervalSet| {
        cubes.iter_mut().for_each(|c| c.restrict(d, s.clone()))
    };
    let not_frag = IntervalSet::range(0, 0);
    match m {
        Match::Comment(_) => {}
        Match::Tcp(t) => {
            all(cubes, Dim::Proto, &IntervalSet::range(6, 6));
            all(cubes, Dim::Frag, &not_frag);
            all(cubes, Dim::Sport, &port_set(t.sport, t.sport_inv));
            all(cubes, Dim::Dport, &port_set(t.dport, t.dport_inv));
            if let Some((mask, comp)) = t.flags {
                let hits = (0u32..=255).filter(|v| ((*v as u8 & mask) == comp) != t.flags_inv);
                all(cubes, Dim::TcpFlags, &IntervalSet::from_values(hits));
            }
            return t.option.is_none();
        }
        Match::Udp(u) => {
            all(cubes, Dim::Proto, &IntervalSet::range(17, 17));
            all(cubes, Dim::Frag, &not_frag);
            all(cubes, Dim::Sport, &port_set(u.sport, u.sport_inv));
            all(cubes, Dim::Dport, &port_set(u.dport, u.dport_inv));
        }
        Match::State(s) => all(cubes, Dim::CtState, &state_atoms(s.mask, s.invert)),
        Match::Conntrack(ct) => {
            let (set, exact) = conntrack_atoms(ct);
            all(cubes, Dim::CtState, &set);
            return exact;
        }
        Match::Icmp(i) => {
            all(cubes, Dim::Frag, &not_frag);
            all(cubes, Dim::Icmp, &icmp_set(i));
        }
        Match::Multiport(mp) => {
            all(cubes, Dim::Frag, &not_frag);
            let split: Vec<Cube> = cubes
                .iter()
                .flat_map(|c| {
                    multiport_sets(mp).into_iter().map(move |(sp, dp)| {
                        let mut c = c.clone();
                        c.restrict(Dim::Sport, sp);
                        c.restrict(Dim::Dport, dp);
                        c
                    })
                })
                .filter(|c| !c.is_empty())
                .collect();
            *cubes = split;
        }
        Match::Iprange(ip) => {
            if let Some(s) = &ip.src {
                all(cubes, Dim::Src, &range_set(s));
            }
            if let Some(d) = &ip.dst {
                all(cubes, Dim::Dst, &range_set(d));
            }
        }
        Match::Mark(k) => match view.mark.set(k) {
            Some(s) => all(cubes, Dim::Mark, &s),
            None => return false,
        },
        _ => return false,
    }
    true
}

/// Whether `cube` lies inside the union of `covers`; `None` when the work
/// grew past `limit` fragments (undecided).
pub fn covered(cube: &Cube, covers: &[&Cube], limit: usize) -> Option<bool> {
    let mut rest = vec![cube.clone()];
    for c in covers {
        let mut next = Vec::new();
        for piece in &rest {
            next.extend(piece.subtract(c));
            if next.len() > limit {
                return None;
            }
        }
        rest = next;
        if rest.is_empty() {
            return Some(true);
        }
    }
    Some(rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_algebra() {
        let a = IntervalSet::range(10, 20);
        assert_eq!(
            a.subtract(&IntervalSet::range(12, 14)),
            IntervalSet(vec![(10, 11), (15, 20)])
        );
        assert_eq!(a.subtract(&IntervalSet::range(0, 100)), IntervalSet(vec![]));
        assert_eq!(
            IntervalSet::full(u32::MAX).subtract(&IntervalSet::range(5, u32::MAX)),
            IntervalSet(vec![(0, 4)])
        );
        assert_eq!(a.complement(30), IntervalSet(vec![(0, 9), (21, 30)]));
        assert_eq!(
            IntervalSet::from_values([3, 1, 2, 7]),
            IntervalSet(vec![(1, 3), (7, 7)])
        );
    }

    #[test]
    fn two_halves_cover_the_whole() {
        let mut lo = Cube::full();
        lo.restrict(Dim::Dport, IntervalSet::range(0, 1023));
        let mut hi = Cube::full();
        hi.restrict(Dim::Dport, IntervalSet::range(1024, 65535));
        assert_eq!(covered(&Cube::full(), &[&lo, &hi], 1000), Some(true));
        assert_eq!(covered(&Cube::full(), &[&lo], 1000), Some(false));
    }
}
