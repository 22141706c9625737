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
//! ([`Reads::UNCLASSED`](crate::eval::reads::Reads::UNCLASSED): `addrtype`, `helper`, conntrack tuples) may answer
//! two packets of one class differently; an outcome whose walks tested one
//! is not shared. Rules the walks skipped or never reached are skipped or not
//! reached by the other packet too: skipping reads only header tests (cut),
//! and the walks are the same up to where they end. So a shared outcome is
//! the walk the other packet would make: the same counters, matched rules,
//! verdict and record (`tests/lane.rs` holds it to the full path on random
//! rulesets).
//!
//! The ports are cut per context, the classes of source and destination and
//! the protocol: a rule whose `-s`, `-d` or `-p` refuses the context answers
//! no to all its packets (`ip_packet_match` in ip_tables.c tests those before
//! any match), so its port bounds need no cut there. With thousands of rules
//! naming ports for other addresses, the ports a connection's packets carry
//! then fall in a few classes rather than each in its own ([`Contexts`]).
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

/// The classes of a field: [`Cuts`], and per block of values (a /16 of
/// addresses, 256 ports) the class of its first value, flagged when the block
/// holds a cut (then the cuts in it are searched): most blocks hold none, and
/// most packets of a capture fall in a few blocks.
#[derive(Debug, Clone, Default)]
struct Blocked {
    cuts: Cuts,
    /// The blocks and one past the last: the number of cuts.
    blocks: Box<[u32]>,
    /// A value's block is the value shifted right by this.
    shift: u32,
}

/// [`Blocked`] address classes: 65,536 blocks.
const ADDR_SHIFT: u32 = 16;
/// [`Blocked`] port classes: 256 blocks of 256 ports (1 KiB a context).
const PORT_SHIFT: u32 = 8;

/// [`Blocked::blocks`]: the block holds a cut.
const VARIES: u32 = 1 << 31;

impl Blocked {
    /// Classes of values of `bits` bits in blocks of `1 << shift`; `None` with
    /// 2³¹ cuts or more (none are: a rule or route adds two).
    fn new(cuts: Cuts, bits: u32, shift: u32) -> Option<Blocked> {
        let n = u32::try_from(cuts.0.len())
            .ok()
            .filter(|n| n & VARIES == 0)?;
        let mut blocks = vec![n; (1 << (bits - shift)) + 1];
        let low = (1u32 << shift) - 1;
        // Block by block that holds cuts; the blocks before it hold none, and their
        // first addresses are above the `k` cuts before it.
        let (mut b, mut k) = (0, 0);
        while let Some(&c) = cuts.0.get(k) {
            let at = (c >> shift) as usize;
            let within = cuts.0[k..]
                .iter()
                .take_while(|&&d| d >> shift == c >> shift)
                .count();
            if let Some(run) = blocks.get_mut(b..at) {
                run.fill(k as u32);
            }
            // A cut at the block's first address is below every address of it.
            let first = usize::from(c & low == 0);
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
        Some(Blocked {
            cuts,
            blocks: blocks.into_boxed_slice(),
            shift,
        })
    }

    // Inlined: a connection direction's first lane packet asks it twice (source and
    // destination), and it is a few instructions when the block holds no cut.
    #[inline(always)]
    fn class(&self, a: u32) -> u32 {
        let b = (a >> self.shift) as usize;
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

/// The header classes of one ruleset on one host (see the module docs).
#[derive(Debug, Clone, Default)]
pub(super) struct Classes {
    src: Blocked,
    dst: Blocked,
    /// The rules that test ports, for [`Contexts`].
    heads: Box<[Head]>,
    /// Every rule's source and destination port intervals, as [`Head`]s index them.
    sports: Box<[(u16, u16)]>,
    dports: Box<[(u16, u16)]>,
    contexts: Contexts,
}

/// Contexts found by a linear search (cheaper than hashing for a few).
const FEW_CONTEXTS: usize = 8;

/// Contexts kept at most; beyond, a context's ports are cut by every rule.
const MAX_CONTEXTS: usize = 1 << 12;

/// [`Key`]'s destination port class when the ports are cut by every rule
/// (not by the context's): such keys never equal a context's.
const EVERY_RULE: u32 = 1 << 31;

/// The header tests of a rule that tests ports: whether a context (classes of
/// source and destination, the protocol) may pass them.
#[derive(Debug, Clone)]
struct Head {
    /// `-s` as address and mask; mask 0 (any) when inverted or no prefix.
    src: (u32, u32),
    dst: (u32, u32),
    /// `-p`; 0 (any) when inverted.
    proto: u8,
    /// The rule's intervals in [`Classes::sports`] and [`Classes::dports`].
    sports: (u32, u32),
    dports: (u32, u32),
}

impl Head {
    /// Whether a packet of this source, destination and protocol may pass the
    /// rule's header tests; every packet of the context answers alike (the
    /// address classes cut at every rule's prefix).
    fn admits(&self, src: u32, dst: u32, proto: u8) -> bool {
        src & self.src.1 == self.src.0
            && dst & self.dst.1 == self.dst.0
            && (self.proto == 0 || self.proto == proto)
    }
}

/// A rule's `-s` or `-d` as [`Head`] tests it: a prefix, else any (no cut saved).
fn head_net(n: Ipv4Net, inv: bool) -> (u32, u32) {
    if inv || n.addr & n.mask != n.addr || n.prefix_len().is_none() {
        (0, 0)
    } else {
        (n.addr, n.mask)
    }
}

/// The port classes of one context: [`Blocked`], and for the first
/// [`FEW_CONTEXTS`] every port's class in a table (one load, no search; 256
/// KiB a context).
#[derive(Debug, Clone)]
struct Ports {
    blocked: Blocked,
    table: Option<Box<[u16]>>,
}

impl Ports {
    fn new(blocked: Blocked, table: bool) -> Ports {
        let table = (table && blocked.cuts.0.len() < usize::from(u16::MAX))
            .then(|| port_table(&blocked.cuts));
        Ports { blocked, table }
    }

    #[inline]
    fn class(&self, port: u32) -> u32 {
        match self.table.as_ref().and_then(|t| t.get(port as usize)) {
            Some(&c) => u32::from(c),
            None => self.blocked.class(port),
        }
    }
}

/// Every port's class under `cuts` (fewer than 65,535 of them, each at most 65,535): the
/// stretch from one cut up to the next is filled with its class, rather than searching the
/// cuts for each of the 65,536 ports (a replay makes a table per context of the first few).
fn port_table(cuts: &Cuts) -> Box<[u16]> {
    let mut table = vec![0u16; 1 << 16];
    for (i, &lo) in cuts.0.iter().enumerate() {
        let hi = cuts.0.get(i + 1).map_or(table.len(), |&c| c as usize);
        if let Some(stretch) = table.get_mut(lo as usize..hi) {
            stretch.fill((i + 1) as u16);
        }
    }
    table.into_boxed_slice()
}

/// The port cuts of each context met, by (source class, destination class,
/// protocol).
#[derive(Debug, Clone, Default)]
struct Contexts {
    /// The first [`FEW_CONTEXTS`] met, searched in order: a capture's
    /// connections mostly run between a few address blocks.
    few: Vec<(u64, u8)>,
    /// The others, by (classes, protocol): their places in `ports`.
    index: HashMap<(u64, u8), usize, BuildHasherDefault<FxHasher>>,
    ports: Vec<(Ports, Ports)>,
    /// The ports cut by every rule, for contexts beyond [`MAX_CONTEXTS`].
    every: (Cuts, Cuts),
}

/// What a shared outcome is filed under: the header classes of a packet and
/// the rest of the lane's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Key([u64; 3]);

impl Key {
    /// The same key in conntrack state `state` (the engine's code, see [`Classes::key`]).
    pub(super) fn with_state(self, state: u8) -> Key {
        let [classes, ports, rest] = self.0;
        Key([
            classes,
            ports,
            rest & !(0xff << 16) | u64::from(state) << 16,
        ])
    }
}

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
        let mut heads = Vec::new();
        for rule in rs
            .tables
            .iter()
            .flat_map(|t| &t.chains)
            .flat_map(|ch| &ch.rules)
        {
            let (src, dst) = (rule.src.for_ipv4(), rule.dst.for_ipv4());
            c.src.net(src)?;
            c.dst.net(dst)?;
            let (s0, d0) = (c.sports.len() as u32, c.dports.len() as u32);
            for m in &rule.matches {
                c.add_match(&m.m);
            }
            let (s1, d1) = (c.sports.len() as u32, c.dports.len() as u32);
            if s1 > s0 || d1 > d0 {
                heads.push(Head {
                    src: head_net(src, rule.src_inv),
                    dst: head_net(dst, rule.dst_inv),
                    proto: if rule.proto_inv { 0 } else { rule.proto },
                    sports: (s0, s1),
                    dports: (d0, d1),
                });
            }
        }
        c.add_host(host)?;
        let every = (port_cuts(&c.sports), port_cuts(&c.dports));
        Some(Classes {
            src: Blocked::new(c.src.done(), 32, ADDR_SHIFT)?,
            dst: Blocked::new(c.dst.done(), 32, ADDR_SHIFT)?,
            heads: heads.into_boxed_slice(),
            sports: c.sports.into_boxed_slice(),
            dports: c.dports.into_boxed_slice(),
            contexts: Contexts {
                every,
                ..Contexts::default()
            },
        })
    }

    /// The port cuts of the context of a packet from `src` (of class
    /// `classes.0`) to `dst` (`classes.1`) with protocol `proto`: those of
    /// the rules that may pass; `None` beyond [`MAX_CONTEXTS`].
    fn context(&mut self, classes: u64, src: u32, dst: u32, proto: u8) -> Option<&(Ports, Ports)> {
        let key = (classes, proto);
        let few = self.contexts.few.iter().position(|&k| k == key);
        let at = match few.or_else(|| self.contexts.index.get(&key).copied()) {
            Some(at) => at,
            None => {
                if self.contexts.ports.len() >= MAX_CONTEXTS {
                    return None;
                }
                let (mut sp, mut dp) = (Cuts::default(), Cuts::default());
                for h in self.heads.iter().filter(|h| h.admits(src, dst, proto)) {
                    let range = |(a, b): (u32, u32)| a as usize..b as usize;
                    for &p in self.sports.get(range(h.sports)).unwrap_or_default() {
                        sp.ports(p);
                    }
                    for &p in self.dports.get(range(h.dports)).unwrap_or_default() {
                        dp.ports(p);
                    }
                }
                let at = self.contexts.ports.len();
                let table = self.contexts.ports.len() < FEW_CONTEXTS;
                let sp = Ports::new(Blocked::new(sp.done(), 16, PORT_SHIFT)?, table);
                let dp = Ports::new(Blocked::new(dp.done(), 16, PORT_SHIFT)?, table);
                self.contexts.ports.push((sp, dp));
                if at < FEW_CONTEXTS {
                    self.contexts.few.push(key);
                } else {
                    self.contexts.index.insert(key, at);
                }
                at
            }
        };
        self.contexts.ports.get(at)
    }
}

/// Cuts at both ends of every interval of `ports`.
fn port_cuts(ports: &[(u16, u16)]) -> Cuts {
    let mut c = Cuts::default();
    for &p in ports {
        c.ports(p);
    }
    c.done()
}

/// The bounds collected for [`Classes::new`].
#[derive(Debug, Default)]
struct Bounds {
    src: Cuts,
    dst: Cuts,
    /// Every port interval a rule tests, rule by rule.
    sports: Vec<(u16, u16)>,
    dports: Vec<(u16, u16)>,
}

impl Bounds {
    /// The intervals a match tests of the header (the others read no address
    /// or port, or are [`Reads::UNCLASSED`](crate::eval::reads::Reads::UNCLASSED)).
    fn add_match(&mut self, m: &Match) {
        match m {
            Match::Tcp(t) => {
                self.sports.push(t.sport);
                self.dports.push(t.dport);
            }
            Match::Udp(u) => {
                self.sports.push(u.sport);
                self.dports.push(u.dport);
            }
            Match::Multiport(mp) => {
                for &p in &mp.ports {
                    if matches!(mp.which, Which::Source | Which::Either) {
                        self.sports.push(p);
                    }
                    if matches!(mp.which, Which::Destination | Which::Either) {
                        self.dports.push(p);
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
    pub(super) fn key(&mut self, t: &Tuple, rest: Rest) -> Option<Key> {
        let (IpAddr::V4(src), IpAddr::V4(dst), L4Key::Ports { src: sp, dst: dp }) =
            (t.src, t.dst, t.l4)
        else {
            return None;
        };
        let (src, dst) = (u32::from(src), u32::from(dst));
        let classes = u64::from(self.src.class(src)) << 32 | u64::from(self.dst.class(dst));
        let (sport, dport) = match self.context(classes, src, dst, t.proto) {
            Some((sc, dc)) => (sc.class(u32::from(sp)), dc.class(u32::from(dp))),
            None => {
                let (sc, dc) = &self.contexts.every;
                (
                    sc.class(u32::from(sp)),
                    dc.class(u32::from(dp)) | EVERY_RULE,
                )
            }
        };
        let dir = match rest.dir {
            Dir::Original => 0u64,
            Dir::Reply => 1,
        };
        Some(Key([
            classes,
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
#[path = "shared_tests.rs"]
mod tests;
