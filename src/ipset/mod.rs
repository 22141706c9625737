//! ipsets for replay: the sets of an `ipset save` file, and the kernel's
//! lookups, adds and deletes on behalf of `-m set` and `-j SET`.
//!
//! ```text
//! ipset save text ──parse──► Sets ──test/add/del (per packet)──► matches, SET target
//! ```
//!
//! What is modelled is the kernel side (net/netfilter/ipset/ip_set_core.c
//! `ip_set_test`/`ip_set_add`/`ip_set_del`, each type's `kadt`, and
//! ip_set_getport.c for ports): how a packet becomes an element under the
//! rule's src/dst flags, longest-prefix lookup with `nomatch` elements,
//! `--return-nomatch`, per-element timeouts and counters (bumped on every
//! lookup that finds a live element, then tested), list:set walking its
//! members in order. Time is the capture's, in jiffies; timeouts from the
//! file count from the replay's first packet (when the oracle harness
//! restores the sets).
//!
//! Invariants: set order and element order are deterministic (file order,
//! `BTreeMap`), so two replays of the same input end in the same state.

pub mod elem;
mod expand;
pub mod parse;
pub mod save;
pub mod set;

pub use parse::{parse, ParseError};
use set::Key;
pub use set::{CounterOp, Flags, Kind, Set};
use std::collections::HashMap;

/// All sets of one replay, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sets {
    pub sets: Vec<Set>,
    index: HashMap<String, usize>,
    /// The jiffy the file's relative timeouts count from (first packet).
    anchored: bool,
}

/// What a set lookup needs of a packet (IPv4): addresses, and the port
/// information `ip_set_get_ip4_port` finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pkt {
    pub src: u32,
    pub dst: u32,
    pub proto: u8,
    /// (source, destination) port, ICMP `type << 8 | code` for both, (0, 0)
    /// for protocols without ports; `None` when ports cannot be read (a
    /// later fragment of a protocol with ports, or a cut header).
    pub ports: Option<(u16, u16)>,
    /// `skb->len`: the IP total length.
    pub len: u32,
    /// Capture time in jiffies.
    pub now: u64,
}

impl Pkt {
    fn addr(&self, src: bool) -> u32 {
        if src {
            self.src
        } else {
            self.dst
        }
    }

    fn port(&self, src: bool) -> Option<(u8, u16)> {
        let (s, d) = self.ports?;
        Some((self.proto, if src { s } else { d }))
    }
}

/// The skbinfo an element handed back (`--map-set`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkbInfo {
    pub mark: Option<(u32, u32)>,
}

impl Sets {
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub fn get(&self, name: &str) -> Option<&Set> {
        self.sets.get(self.index_of(name)?)
    }

    pub(crate) fn push(&mut self, set: Set) {
        self.index.insert(set.name.clone(), self.sets.len());
        self.sets.push(set);
    }

    /// Starts the clock of the file's timeouts at the first packet.
    fn anchor(&mut self, now: u64) {
        if !self.anchored {
            self.anchored = true;
            for s in &mut self.sets {
                s.anchor(now);
            }
        }
    }

    /// Whether lookups in set `idx` can be judged: its type is modelled (for
    /// a list:set, every member's is).
    pub fn judged(&self, idx: usize) -> bool {
        let Some(s) = self.sets.get(idx) else {
            return false;
        };
        match s.kind {
            Kind::Unsupported => false,
            Kind::ListSet => s.elems.values().all(|e| {
                e.member
                    .as_deref()
                    .and_then(|n| self.get(n))
                    .is_some_and(|m| m.kind != Kind::Unsupported)
            }),
            _ => true,
        }
    }

    /// `ip_set_test`: is the packet in set `idx` under `dirs` (true = src)?
    pub fn test(&mut self, idx: usize, p: &Pkt, dirs: &[bool], f: &Flags) -> bool {
        self.test_info(idx, p, dirs, f, &mut SkbInfo::default())
    }

    /// [`Sets::test`] also reporting the element's skbinfo.
    pub fn test_info(
        &mut self,
        idx: usize,
        p: &Pkt,
        dirs: &[bool],
        f: &Flags,
        info: &mut SkbInfo,
    ) -> bool {
        self.anchor(p.now);
        let Some(set) = self.sets.get(idx) else {
            return false;
        };
        if dirs.len() < set.kind.dimension() || !set.inet {
            return false;
        }
        let kind = set.kind;
        let found = if kind == Kind::ListSet {
            return self.list_test(idx, p, dirs, f, info);
        } else {
            let Some(key) = key_of(set, p, dirs, false) else {
                return false;
            };
            let set = &mut self.sets[idx];
            let hit = set.lookup(key, f, p.now, u64::from(p.len));
            if let (Some((k, _)), true) = (hit, set.skbinfo) {
                info.mark = set.elems.get(&k).and_then(|e| e.ext.skbmark);
            }
            hit.map(|h| h.1)
        };
        match found {
            // --return-nomatch swaps a match and a nomatch element.
            Some(nomatch) if f.return_nomatch && kind.has_nomatch() => nomatch,
            Some(nomatch) => !nomatch,
            None => false,
        }
    }

    /// `list_set_ktest`: the first member that matches decides; counters of
    /// members are not tested, and `! --update-subcounters` stops their
    /// updates; the list element's own extensions are then checked.
    fn list_test(
        &mut self,
        idx: usize,
        p: &Pkt,
        dirs: &[bool],
        f: &Flags,
        info: &mut SkbInfo,
    ) -> bool {
        let sub = Flags {
            packets: None,
            bytes: None,
            skip_counter_update: f.skip_counter_update || f.skip_subcounter_update,
            ..*f
        };
        let keys: Vec<Key> = self.sets[idx].elems.keys().copied().collect();
        for key in keys {
            let member = self.sets[idx].elems[&key].member.clone();
            let Some(m) = member.and_then(|n| self.index_of(&n)) else {
                continue;
            };
            if !self.test_info(m, p, dirs, &sub, info) {
                continue;
            }
            let list = &mut self.sets[idx];
            let sf = list.flags();
            let Some(e) = list.elems.get_mut(&key) else {
                continue;
            };
            if Set::match_ext(&mut e.ext, &sf, f, p.now, u64::from(p.len)) {
                if list.skbinfo {
                    info.mark = e.ext.skbmark;
                }
                return true;
            }
        }
        false
    }

    /// `ip_set_add` from `-j SET --add-set`: whether the set took the
    /// element (list:set tries its members in order until one does).
    pub fn add(
        &mut self,
        idx: usize,
        p: &Pkt,
        dirs: &[bool],
        timeout: Option<u32>,
        exist: bool,
    ) -> bool {
        self.adt(idx, p, dirs, Some((timeout, exist)))
    }

    /// `ip_set_del` from `-j SET --del-set`: whether an element went.
    pub fn del(&mut self, idx: usize, p: &Pkt, dirs: &[bool]) -> bool {
        self.adt(idx, p, dirs, None)
    }

    /// Add (`Some((timeout, exist))`) or delete; whether the set accepted
    /// the packet's element (list:set stops at the first member that does).
    fn adt(
        &mut self,
        idx: usize,
        p: &Pkt,
        dirs: &[bool],
        add: Option<(Option<u32>, bool)>,
    ) -> bool {
        self.anchor(p.now);
        let Some(set) = self.sets.get(idx) else {
            return false;
        };
        if dirs.len() < set.kind.dimension() || !set.inet {
            return false; // -IPSET_ERR_TYPE_MISMATCH
        }
        if set.kind == Kind::ListSet {
            let members: Vec<(Option<String>, bool)> = set
                .elems
                .values()
                .map(|e| {
                    (
                        e.member.clone(),
                        set.timeout.is_some() && e.ext.expired(p.now),
                    )
                })
                .collect();
            for (name, expired) in members {
                let Some(m) = name.and_then(|n| self.index_of(&n)).filter(|_| !expired) else {
                    continue;
                };
                if self.adt(m, p, dirs, add) {
                    return true;
                }
            }
            return false;
        }
        let Some(key) = key_of(set, p, dirs, true) else {
            return false;
        };
        let set = &mut self.sets[idx];
        match add {
            Some((timeout, exist)) => set.kadd(key, timeout, exist, p.now, u64::from(p.len)),
            None => set.kdel(key, p.now),
        }
    }
}

/// The element a packet stands for in `set` (each type's `kadt`); `None`
/// when the packet has no such element (ports unreadable, outside a bitmap's
/// range: -EINVAL / -IPSET_ERR_BITMAP_RANGE, which count as no match).
fn key_of(set: &Set, p: &Pkt, dirs: &[bool], adding: bool) -> Option<Key> {
    let d = |i: usize| dirs.get(i).copied().unwrap_or(false);
    let net = |ip: u32| {
        // A lookup tries every prefix; an add or delete uses the longest.
        let c = if adding { set.add_cidr() } else { 32 };
        (ip & elem::mask(c), c)
    };
    Some(match set.kind {
        Kind::HashIp => Key {
            ip: masked(set, p.addr(d(0)))?,
            ..Key::default()
        },
        Kind::HashNet => {
            let (ip, cidr) = net(p.addr(d(0)));
            Key {
                ip,
                cidr,
                ..Key::default()
            }
        }
        Kind::HashIpPort | Kind::HashIpPortIp | Kind::HashNetPort => {
            let (proto, port) = p.port(d(1))?;
            let (ip, cidr) = match set.kind {
                Kind::HashNetPort => net(p.addr(d(0))),
                Kind::HashIpPort => (masked(set, p.addr(d(0)))?, 0),
                _ => (p.addr(d(0)), 0),
            };
            Key {
                ip,
                cidr,
                proto,
                port,
                ip2: if set.kind == Kind::HashIpPortIp {
                    p.addr(d(2))
                } else {
                    0
                },
            }
        }
        Kind::BitmapIp | Kind::BitmapPort => return bitmap_key(set, p, d(0)),
        Kind::ListSet | Kind::Unsupported => return None,
    })
}

/// hash:ip and hash:ip,port addresses under the set's mask; 0 is -EINVAL
/// in `hash_ip4_kadt` / `hash_ipport4_kadt` (no lookup, no add).
fn masked(set: &Set, ip: u32) -> Option<u32> {
    Some(ip & set.ipmask()).filter(|ip| *ip != 0)
}

/// bitmap:ip and bitmap:port elements: the id in the range (ports of TCP
/// and UDP only: `ip_set_get_ip_port`); outside the range there is none
/// (-IPSET_ERR_BITMAP_RANGE).
fn bitmap_key(set: &Set, p: &Pkt, src: bool) -> Option<Key> {
    if set.kind == Kind::BitmapPort {
        let (proto, port) = p.port(src)?;
        let v = u32::from(port);
        if !matches!(proto, 6 | 17) || v < set.range.0 || v > set.range.1 {
            return None;
        }
        return Some(Key {
            port,
            ..Key::default()
        });
    }
    let ip = p.addr(src);
    if ip < set.range.0 || ip > set.range.1 {
        return None;
    }
    Some(Key {
        ip: ((ip & elem::mask(set.netmask)) - set.range.0) >> (32 - u32::from(set.netmask)),
        ..Key::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETS: &str = "create n hash:net family inet
add n 10.0.0.0/8
add n 10.1.0.0/16 nomatch
create ipp hash:ip,port family inet counters
add ipp 10.0.0.1,udp:53 packets 0 bytes 0
create p bitmap:port range 1-100
add p 53
create l list:set size 4 counters
add l ipp
add l n
";

    fn pkt(src: &str, proto: u8, ports: Option<(u16, u16)>) -> Pkt {
        Pkt {
            src: elem::ip(src).unwrap(),
            dst: elem::ip("192.0.2.1").unwrap(),
            proto,
            ports,
            len: 100,
            now: 0,
        }
    }

    #[test]
    fn dimensions_nomatch_and_return_nomatch() {
        let mut s = parse(SETS).unwrap();
        let n = s.index_of("n").unwrap();
        let f = Flags::default();
        let rn = Flags {
            return_nomatch: true,
            ..f
        };
        let p = pkt("10.1.2.3", 17, Some((1000, 53)));
        assert!(!s.test(n, &p, &[true], &f));
        assert!(s.test(n, &p, &[true], &rn));
        let q = pkt("10.2.0.1", 17, Some((1000, 53)));
        assert!(s.test(n, &q, &[true], &f));
        assert!(!s.test(n, &q, &[true], &rn));
        // Two dimensions need two flags; more are fine.
        let ipp = s.index_of("ipp").unwrap();
        let p = pkt("10.0.0.1", 17, Some((1000, 53)));
        assert!(!s.test(ipp, &p, &[true], &f));
        assert!(s.test(ipp, &p, &[true, false, true], &f));
        assert!(!s.test(ipp, &p, &[true, true], &f));
        // A later fragment has no ports.
        assert!(!s.test(ipp, &pkt("10.0.0.1", 17, None), &[true, false], &f));
    }

    #[test]
    fn hash_ip_never_holds_address_zero() {
        let mut s = parse("create z hash:ip netmask 8\nadd z 10.0.0.0\n").unwrap();
        let z = s.index_of("z").unwrap();
        let p = pkt("0.1.2.3", 17, Some((68, 67)));
        assert!(!s.add(z, &p, &[true], None, false));
        assert!(!s.test(z, &p, &[true], &Flags::default()));
        assert!(s.test(z, &pkt("10.9.9.9", 17, None), &[true], &Flags::default()));
        assert!(parse("create z hash:ip\nadd z 0.0.0.0\n").is_err());
        let mut s =
            parse("create b hash:ip,port bitmask 255.0.255.0\nadd b 10.1.2.3,80\n").unwrap();
        let b = s.index_of("b").unwrap();
        let q = pkt("10.9.2.9", 6, Some((1000, 80)));
        assert!(s.test(b, &q, &[true, false], &Flags::default()));
        assert!(!s.add(
            b,
            &pkt("0.9.0.9", 6, Some((1, 80))),
            &[true, false],
            None,
            false
        ));
    }

    #[test]
    fn bitmap_port_is_tcp_and_udp_only() {
        let mut s = parse(SETS).unwrap();
        let i = s.index_of("p").unwrap();
        let f = Flags::default();
        assert!(s.test(i, &pkt("1.2.3.4", 6, Some((1, 53))), &[false], &f));
        assert!(!s.test(i, &pkt("1.2.3.4", 132, Some((1, 53))), &[false], &f));
        assert!(!s.test(i, &pkt("1.2.3.4", 6, Some((1, 101))), &[false], &f));
    }

    #[test]
    fn list_walks_members_and_counts_both_levels() {
        let mut s = parse(SETS).unwrap();
        let l = s.index_of("l").unwrap();
        let f = Flags::default();
        let p = pkt("10.0.0.1", 17, Some((1000, 53)));
        // One flag: ipp (two dimensions) is skipped, n matches.
        assert!(s.test(l, &p, &[true], &f));
        assert!(s.test(l, &p, &[true, false], &f));
        let ipp = &s.get("ipp").unwrap().elems;
        assert_eq!(ipp.values().next().unwrap().ext.packets, 1);
        let list: Vec<u64> = s
            .get("l")
            .unwrap()
            .elems
            .values()
            .map(|e| e.ext.packets)
            .collect();
        assert_eq!(list, vec![1, 1]);
        // ! --update-subcounters keeps the member's counters.
        let skip = Flags {
            skip_subcounter_update: true,
            ..f
        };
        assert!(s.test(l, &p, &[true, false], &skip));
        let ipp = &s.get("ipp").unwrap().elems;
        assert_eq!(ipp.values().next().unwrap().ext.packets, 1);
        // An add through the list goes to the first member that takes it.
        let q = pkt("10.0.0.9", 17, Some((1000, 99)));
        assert!(s.add(l, &q, &[true, false], None, false));
        assert_eq!(s.get("ipp").unwrap().elems.len(), 2);
        assert!(s.del(l, &q, &[true, false]));
        assert_eq!(s.get("ipp").unwrap().elems.len(), 1);
    }

    #[test]
    fn file_timeouts_count_from_the_first_packet() {
        let mut s = parse("create t hash:ip timeout 10\nadd t 10.0.0.1 timeout 2\n").unwrap();
        let t = s.index_of("t").unwrap();
        let f = Flags::default();
        let mut p = pkt("10.0.0.1", 1, Some((0x800, 0x800)));
        p.now = 1000;
        assert!(s.test(t, &p, &[true], &f));
        p.now = 1000 + 2 * crate::ext::state::HZ;
        assert!(s.test(t, &p, &[true], &f));
        p.now += 1;
        assert!(!s.test(t, &p, &[true], &f));
    }

    #[test]
    fn unsupported_types_exist_but_are_not_judged() {
        let s = parse(
            "create nn hash:net,net family inet\nadd nn 10.0.0.0/8,10.1.0.0/16\n\
create l list:set\nadd l nn\ncreate h hash:ip\n",
        )
        .unwrap();
        assert!(!s.judged(s.index_of("nn").unwrap()));
        assert!(!s.judged(s.index_of("l").unwrap()));
        assert!(s.judged(s.index_of("h").unwrap()));
        assert!(s
            .save(0)
            .starts_with("create nn hash:net,net family inet\n"));
        assert!(parse("create x hash:foo\n").is_err());
    }
}
