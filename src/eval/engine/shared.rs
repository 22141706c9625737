//! Learned outcomes shared across connections by header class: the first
//! packet of a connection direction that has no [`LaneMemo`] yet may reuse an
//! outcome another connection learned, when its walks are provably the same.
//!
//! A walk's result depends on the packet only through each rule's answer
//! (`ipt_do_table` is first-match over rules; the prefilter of
//! [`crate::eval::classify`] only skips rules whose answer is no). What a
//! rule's header tests of the addresses and ports are interval tests (a
//! prefix, a port range, an `iprange`, a `multiport` list), and so are the
//! host's routing decisions ([`crate::eval::host::Host::input_route_with`],
//! which interface a source arrives on, which a destination leaves by: they
//! test prefixes and single addresses). Cutting each of source, destination,
//! source port and destination port at every bound any rule or route names
//! gives [`Classes`]: two packets in the same class of every field answer
//! every such test alike, so with the same protocol, conntrack state,
//! direction, connection mark and packet type (the lane's key, [`Key`]) they
//! take the same route and every rule whose answer reads nothing else answers
//! them alike.
//!
//! A rule whose matches read flow fields the classes do not cut
//! ([`Reads::UNCLASSED`]: `addrtype`, `helper`, conntrack tuples) may answer
//! two packets of one class differently; an outcome whose walks tested one
//! is not shared. Rules the walks skipped or never reached are skipped or not
//! reached by the other packet too: skipping reads only header tests (cut),
//! and the walks are the same up to where they end. So a shared outcome is
//! the walk the other packet would make: the same counters, matched rules,
//! verdict and record (`tests/lane.rs` holds it to the full path on random
//! rulesets).
//!
//! A ruleset with a non-contiguous address mask (`-s 10.0.0.0/255.0.255.0`),
//! which is no interval, shares nothing.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::IpAddr;

use crate::conntrack::hash::FxHasher;
use crate::conntrack::{Dir, L4Key, LaneMemo, Tuple};
use crate::eval::host::{Host, LOOPBACK};
use crate::ext::matches::multiport::Which;
use crate::ext::Match;
use crate::ir::addr::Ipv4Net;
use crate::ir::Ruleset;

/// Shared outcomes kept at most; beyond, connections learn on their own.
const MAX_SHARED: usize = 1 << 20;

/// The sorted starts of the stretches a field's values fall into: a value's
/// class is how many starts are at or below it.
#[derive(Debug, Clone, Default)]
struct Cuts(Vec<u32>);

impl Cuts {
    /// Cuts at both ends of `lo..=hi`, so its values share no class with others.
    fn interval(&mut self, lo: u32, hi: u32, max: u32) {
        self.0.push(lo);
        if hi < max {
            self.0.push(hi + 1);
        }
    }

    /// [`Cuts::interval`] of an address prefix; `None` for a mask that is no prefix.
    fn net(&mut self, n: Ipv4Net) -> Option<()> {
        if n.addr & n.mask != n.addr {
            // Matches no address (an IPv6 rule seen as IPv4): no test to cut for.
            return Some(());
        }
        n.prefix_len()?;
        self.interval(n.addr, n.addr | !n.mask, u32::MAX);
        Some(())
    }

    fn ports(&mut self, (lo, hi): (u16, u16)) {
        self.interval(u32::from(lo), u32::from(hi), u32::from(u16::MAX));
    }

    fn done(mut self) -> Cuts {
        self.0.sort_unstable();
        self.0.dedup();
        self
    }

    #[inline]
    fn class(&self, v: u32) -> u32 {
        self.0.partition_point(|&c| c <= v) as u32
    }
}

/// The classes of an address field: [`Cuts`], and per /16 block of addresses
/// the class of its first address, flagged when the block holds a cut (then
/// the cuts in it are searched): most blocks hold none, and most packets of a
/// capture fall in a few blocks.
#[derive(Debug, Clone, Default)]
struct AddrCuts {
    cuts: Cuts,
    /// 65,536 blocks and one past the last: the number of cuts.
    blocks: Box<[u32]>,
}

/// [`AddrCuts::blocks`]: the block holds a cut.
const VARIES: u32 = 1 << 31;

impl AddrCuts {
    /// `None` with 2³¹ cuts or more (none are: a rule or route adds two).
    fn new(cuts: Cuts) -> Option<AddrCuts> {
        let n = u32::try_from(cuts.0.len())
            .ok()
            .filter(|n| n & VARIES == 0)?;
        let mut blocks = vec![n; (1 << 16) + 1];
        // Block by block that holds cuts; the blocks before it hold none, and their
        // first addresses are above the `k` cuts before it.
        let (mut b, mut k) = (0, 0);
        while let Some(&c) = cuts.0.get(k) {
            let at = (c >> 16) as usize;
            let within = cuts.0[k..]
                .iter()
                .take_while(|&&d| d >> 16 == c >> 16)
                .count();
            if let Some(run) = blocks.get_mut(b..at) {
                run.fill(k as u32);
            }
            // A cut at the block's first address is below every address of it.
            let first = usize::from(c & 0xffff == 0);
            let class = (k + first) as u32;
            if let Some(slot) = blocks.get_mut(at) {
                *slot = if within > first {
                    class | VARIES
                } else {
                    class
                };
            }
            (b, k) = (at + 1, k + within);
        }
        Some(AddrCuts {
            cuts,
            blocks: blocks.into_boxed_slice(),
        })
    }

    #[inline]
    fn class(&self, a: u32) -> u32 {
        let b = (a >> 16) as usize;
        let (Some(&at), Some(&next)) = (self.blocks.get(b), self.blocks.get(b + 1)) else {
            return self.cuts.class(a);
        };
        if at & VARIES == 0 {
            return at;
        }
        // The cuts from the block's first class on, up to the next block's
        // (which may hold a cut at the next block's first address: above `a`).
        let (lo, hi) = ((at & !VARIES) as usize, (next & !VARIES) as usize);
        match self.cuts.0.get(lo..hi) {
            Some(cuts) => (lo + cuts.partition_point(|&c| c <= a)) as u32,
            None => self.cuts.class(a),
        }
    }
}

/// The classes of a port field: [`Cuts`], and when there are a few, every
/// port's class in a table (one load instead of a binary search).
#[derive(Debug, Clone, Default)]
struct PortCuts {
    cuts: Cuts,
    table: Option<Box<[u16]>>,
}

impl PortCuts {
    fn new(cuts: Cuts) -> PortCuts {
        let table = (cuts.0.len() > 1 && cuts.0.len() < usize::from(u16::MAX)).then(|| {
            let mut t = vec![0u16; 1 << 16];
            // Class k runs from cut k-1 (port 0 for k = 0) up to cut k.
            let mut from = 0;
            for (k, &cut) in (0u16..).zip(cuts.0.iter()) {
                let to = (cut as usize).min(t.len());
                if let Some(run) = t.get_mut(from..to) {
                    run.fill(k);
                }
                from = to;
            }
            if let Some(run) = t.get_mut(from..) {
                run.fill(cuts.0.len() as u16);
            }
            t.into_boxed_slice()
        });
        PortCuts { cuts, table }
    }

    #[inline]
    fn class(&self, port: u16) -> u32 {
        match &self.table {
            Some(t) => u32::from(t[usize::from(port)]),
            None => self.cuts.class(u32::from(port)),
        }
    }
}

/// The header classes of one ruleset on one host (see the module docs).
#[derive(Debug, Clone, Default)]
pub(super) struct Classes {
    src: AddrCuts,
    dst: AddrCuts,
    sport: PortCuts,
    dport: PortCuts,
}

/// What a shared outcome is filed under: the header classes of a packet and
/// the rest of the lane's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Key([u64; 3]);

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        // One word: the classes vary most, the rest is mostly one value.
        h.write_u64(
            self.0[0]
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(29)
                ^ self.0[1]
                ^ self.0[2].rotate_left(7),
        );
    }
}

/// The lane's key besides the header: conntrack state (the engine's code),
/// direction, packet type and connection mark.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rest {
    pub(super) state: u8,
    pub(super) dir: Dir,
    pub(super) pkttype: u8,
    pub(super) mark: u32,
}

impl Classes {
    /// The classes of `rs` on `host`; `None` when a rule's address mask is no prefix.
    pub(super) fn new(rs: &Ruleset, host: &Host) -> Option<Classes> {
        let mut c = Bounds::default();
        for rule in rs
            .tables
            .iter()
            .flat_map(|t| &t.chains)
            .flat_map(|ch| &ch.rules)
        {
            c.src.net(rule.src.for_ipv4())?;
            c.dst.net(rule.dst.for_ipv4())?;
            for m in &rule.matches {
                c.add_match(&m.m);
            }
        }
        c.add_host(host)?;
        Some(Classes {
            src: AddrCuts::new(c.src.done())?,
            dst: AddrCuts::new(c.dst.done())?,
            sport: PortCuts::new(c.sport.done()),
            dport: PortCuts::new(c.dport.done()),
        })
    }
}

/// The bounds collected for [`Classes::new`].
#[derive(Debug, Default)]
struct Bounds {
    src: Cuts,
    dst: Cuts,
    sport: Cuts,
    dport: Cuts,
}

impl Bounds {
    /// The intervals a match tests of the header (the others read no address
    /// or port, or are [`Reads::UNCLASSED`]).
    fn add_match(&mut self, m: &Match) {
        match m {
            Match::Tcp(t) => {
                self.sport.ports(t.sport);
                self.dport.ports(t.dport);
            }
            Match::Udp(u) => {
                self.sport.ports(u.sport);
                self.dport.ports(u.dport);
            }
            Match::Multiport(mp) => {
                for &p in &mp.ports {
                    if matches!(mp.which, Which::Source | Which::Either) {
                        self.sport.ports(p);
                    }
                    if matches!(mp.which, Which::Destination | Which::Either) {
                        self.dport.ports(p);
                    }
                }
            }
            Match::Iprange(r) => {
                if let Some(s) = r.src {
                    self.src.interval(s.min, s.max, u32::MAX);
                }
                if let Some(d) = r.dst {
                    self.dst.interval(d.min, d.max, u32::MAX);
                }
            }
            _ => {}
        }
    }

    /// What routing tests (`Host::input_route_with`, `addr_type`, `ingress`,
    /// `route`, `is_local`), for either address: zeronet, 0, loopback,
    /// multicast, 224.0.0.1, 255.255.255.255, the host's addresses and subnet
    /// broadcasts, the routes.
    fn add_host(&mut self, host: &Host) -> Option<()> {
        let mut both = |n: Ipv4Net| -> Option<()> {
            self.src.net(n)?;
            self.dst.net(n)
        };
        both(Ipv4Net::new(0, 0xff00_0000))?;
        both(Ipv4Net::new(0, u32::MAX))?;
        both(LOOPBACK)?;
        both(Ipv4Net::new(0xe000_0000, 0xf000_0000))?;
        both(Ipv4Net::new(0xe000_0001, u32::MAX))?;
        both(Ipv4Net::new(u32::MAX, u32::MAX))?;
        for a in host.interfaces.iter().flat_map(|i| &i.addrs) {
            both(Ipv4Net::new(a.addr, u32::MAX))?;
            both(Ipv4Net::new(a.addr | !a.mask, u32::MAX))?;
        }
        for r in &host.routes {
            both(r.dest)?;
        }
        Some(())
    }
}

impl Classes {
    /// The key of a packet whose header is `t` (its conntrack tuple in its own
    /// direction, as conntrack found it); `None` for other than IPv4 with ports.
    pub(super) fn key(&self, t: &Tuple, rest: Rest) -> Option<Key> {
        let (IpAddr::V4(src), IpAddr::V4(dst), L4Key::Ports { src: sp, dst: dp }) =
            (t.src, t.dst, t.l4)
        else {
            return None;
        };
        let src = self.src.class(u32::from(src));
        let dst = self.dst.class(u32::from(dst));
        let sport = self.sport.class(sp);
        let dport = self.dport.class(dp);
        let dir = match rest.dir {
            Dir::Original => 0u64,
            Dir::Reply => 1,
        };
        Some(Key([
            u64::from(src) << 32 | u64::from(dst),
            u64::from(sport) << 32 | u64::from(dport),
            u64::from(rest.mark) << 32
                | u64::from(t.proto) << 24
                | u64::from(rest.state) << 16
                | u64::from(rest.pkttype) << 8
                | dir,
        ]))
    }
}

/// The memos learned, by [`Key`]: a connection direction without a memo of
/// its own copies the one filed under its key.
#[derive(Debug, Default)]
pub(super) struct Shared {
    memos: HashMap<Key, LaneMemo, BuildHasherDefault<FxHasher>>,
    /// Connection directions that took a shared memo.
    pub(super) hits: u64,
}

impl Shared {
    /// The memo filed under `key`.
    #[inline]
    pub(super) fn get(&self, key: &Key) -> Option<&LaneMemo> {
        self.memos.get(key)
    }

    /// Files `memo` under `key` (replacing one learned with other TCP flags or
    /// status bits, when the walks compare those).
    pub(super) fn keep(&mut self, key: Key, memo: LaneMemo) {
        if self.memos.len() < MAX_SHARED || self.memos.contains_key(&key) {
            self.memos.insert(key, memo);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::host::{InputRoute, Interface, Route};
    use crate::eval::host_index::HostIndex;
    use crate::source::SourceFile;

    /// A small deterministic generator (xorshift).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Another value of `v`'s class: a random one in the stretch between its cuts.
    fn same_class(c: &Cuts, v: u32, max: u32, rng: &mut Rng) -> u32 {
        let i = c.class(v) as usize;
        let lo = if i == 0 { 0 } else { c.0[i - 1] };
        let hi = c.0.get(i).map_or(max, |n| n - 1);
        let span = u64::from(hi - lo) + 1;
        lo + (rng.next() % span) as u32
    }

    fn route_of(r: InputRoute) -> String {
        format!("{r:?}")
    }

    #[test]
    fn one_class_routes_alike() {
        let host = Host::from_toml(
            "[[interface]]\nname = \"wan\"\naddresses = [\"198.51.100.2/24\"]\n\
             [[interface]]\nname = \"lan\"\naddresses = [\"10.1.0.1/16\"]\n\
             [[route]]\ndest = \"default\"\ndev = \"wan\"\n\
             [[route]]\ndest = \"10.1.0.0/16\"\ndev = \"lan\"\n\
             [[route]]\ndest = \"10.1.2.0/24\"\ndev = \"wan\"\n",
        )
        .expect("host");
        let l = crate::ir::load(&SourceFile::new("t", "*filter\nCOMMIT\n"));
        let classes = Classes::new(&l.ruleset, &host).expect("prefixes only");
        let index = HostIndex::new(&host);
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let mut probes: Vec<u32> = classes.src.cuts.0.clone();
        probes.extend(classes.src.cuts.0.iter().map(|c| c.wrapping_sub(1)));
        probes.extend((0..2000).map(|_| rng.next() as u32));
        for &a in &probes {
            for &b in probes.iter().step_by(7) {
                let (a2, b2) = (
                    same_class(&classes.src.cuts, a, u32::MAX, &mut rng),
                    same_class(&classes.dst.cuts, b, u32::MAX, &mut rng),
                );
                assert_eq!(
                    route_of(host.input_route(a, b)),
                    route_of(host.input_route(a2, b2)),
                    "{a:#x}>{b:#x} vs {a2:#x}>{b2:#x}"
                );
                assert_eq!(index.ingress(&host, a), index.ingress(&host, a2));
                assert_eq!(index.route(&host, b), index.route(&host, b2));
                assert_eq!(index.wire_path(a), index.wire_path(a2));
            }
        }
    }

    #[test]
    fn bounds_cut_every_rule_and_masks_that_are_no_prefix_share_nothing() {
        let host = Host::oracle(&[], &[]);
        let l = crate::ir::load(&SourceFile::new(
            "t",
            "*filter\n-A FORWARD -s 10.0.0.0/8 -p tcp -m tcp --sport 1000:1999 --dport 80\n\
             -A FORWARD -m iprange --dst-range 10.1.0.5-10.1.0.9 -p udp -m multiport --ports 53,60:70\nCOMMIT\n",
        ));
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        let c = Classes::new(&l.ruleset, &host).expect("prefixes only");
        let class = |cuts: &AddrCuts, v: u32| cuts.class(v);
        assert_ne!(class(&c.src, 0x09ff_ffff), class(&c.src, 0x0a00_0000));
        assert_eq!(class(&c.src, 0x0a00_0000), class(&c.src, 0x0aff_ffff));
        assert_ne!(class(&c.src, 0x0aff_ffff), class(&c.src, 0x0b00_0000));
        assert_ne!(class(&c.dst, 0x0a01_0004), class(&c.dst, 0x0a01_0005));
        assert_eq!(class(&c.dst, 0x0a01_0005), class(&c.dst, 0x0a01_0009));
        assert_ne!(class(&c.dst, 0x0a01_0009), class(&c.dst, 0x0a01_000a));
        assert_eq!(c.sport.class(1000), c.sport.class(1999));
        assert_ne!(c.sport.class(1999), c.sport.class(2000));
        assert_ne!(c.sport.class(53), c.sport.class(54));
        assert_ne!(c.dport.class(79), c.dport.class(80));
        assert_ne!(c.dport.class(80), c.dport.class(81));
        assert_eq!(c.dport.class(60), c.dport.class(70));
        // The blocks give what the cuts give, around every cut and at random.
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        for addrs in [&c.src, &c.dst] {
            let around = addrs.cuts.0.iter().flat_map(|&c| {
                [
                    c.wrapping_sub(1),
                    c,
                    c.wrapping_add(1),
                    c | 0xffff,
                    c & !0xffff,
                ]
            });
            let random = (0..10_000).map(|_| rng.next() as u32);
            let blocks = (0..1u32 << 16).flat_map(|b| [b << 16, b << 16 | 0xffff]);
            for a in around.chain(random).chain(blocks) {
                assert_eq!(addrs.class(a), addrs.cuts.class(a), "{a:#x}");
            }
        }
        // The table gives what the cuts give, for every port.
        for ports in [&c.sport, &c.dport] {
            assert!(ports.table.is_some());
            for p in 0..=u16::MAX {
                assert_eq!(ports.class(p), ports.cuts.class(u32::from(p)), "{p}");
            }
        }
        let odd = crate::ir::load(&SourceFile::new(
            "t",
            "*filter\n-A FORWARD -s 10.0.0.0/255.0.255.0 -j DROP\nCOMMIT\n",
        ));
        assert!(!odd.has_errors(), "{:?}", odd.diagnostics);
        assert!(Classes::new(&odd.ruleset, &host).is_none());
        // Routes on two devices split 10/8 where they do.
        let two = Host {
            interfaces: vec![Interface {
                name: "eth1".into(),
                addrs: Vec::new(),
                mac: [2, 0, 0, 0, 0, 1],
                peer_mac: None,
            }],
            routes: vec![Route {
                dest: Ipv4Net::new(0x0a01_0000, 0xffff_0000),
                dev: "eth1".into(),
            }],
        };
        let c = Classes::new(&l.ruleset, &two).expect("prefixes only");
        assert_ne!(c.dst.class(0x0a00_ffff), c.dst.class(0x0a01_0000));
    }
}
