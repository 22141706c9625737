//! One ipset: its type, creation options and elements with their
//! extensions (timeout, counters, comment, skbinfo), and the element-level
//! operations the kernel's set types share (ip_set_hash_gen.h,
//! ip_set_bitmap_gen.h, ip_set_list_set.c, ip_set_core.c).
//!
//! Every type stores its elements under a [`Key`] in a `BTreeMap`, so
//! iteration (and `save`) is deterministic. Hash types with networks keep a
//! count per prefix length, which is what the kernel's `h->nets` array is:
//! a lookup of a packet address tries those prefixes from the longest.

use super::elem;
use std::collections::BTreeMap;

/// The set types replay models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    HashIp,
    HashNet,
    HashIpPort,
    HashNetPort,
    HashIpPortIp,
    BitmapIp,
    BitmapPort,
    ListSet,
    /// A type ipset has and replay does not model (hash:net,net,
    /// hash:ip,mac, ...): the set exists, rules using it are flagged.
    Unsupported,
}

/// ipset 7.17's types that replay does not model.
pub const UNSUPPORTED: &[&str] = &[
    "bitmap:ip,mac",
    "hash:mac",
    "hash:ip,mac",
    "hash:net,net",
    "hash:ip,port,net",
    "hash:ip,mark",
    "hash:net,port,net",
    "hash:net,iface",
];

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "hash:ip" => Kind::HashIp,
            "hash:net" => Kind::HashNet,
            "hash:ip,port" => Kind::HashIpPort,
            "hash:net,port" => Kind::HashNetPort,
            "hash:ip,port,ip" => Kind::HashIpPortIp,
            "bitmap:ip" => Kind::BitmapIp,
            "bitmap:port" => Kind::BitmapPort,
            "list:set" => Kind::ListSet,
            t if UNSUPPORTED.contains(&t) => Kind::Unsupported,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::HashIp => "hash:ip",
            Kind::HashNet => "hash:net",
            Kind::HashIpPort => "hash:ip,port",
            Kind::HashNetPort => "hash:net,port",
            Kind::HashIpPortIp => "hash:ip,port,ip",
            Kind::BitmapIp => "bitmap:ip",
            Kind::BitmapPort => "bitmap:port",
            Kind::ListSet => "list:set",
            Kind::Unsupported => "unsupported",
        }
    }

    /// `set->type->dimension`: how many src/dst flags a rule must give.
    pub fn dimension(self) -> usize {
        match self {
            Kind::HashIpPort | Kind::HashNetPort => 2,
            Kind::HashIpPortIp => 3,
            _ => 1,
        }
    }

    /// `IPSET_TYPE_NOMATCH`: the type has `nomatch` elements (and so
    /// `--return-nomatch` means something).
    pub fn has_nomatch(self) -> bool {
        matches!(self, Kind::HashNet | Kind::HashNetPort)
    }

    /// Types whose elements carry a prefix length (`IP_SET_HASH_WITH_NETS`).
    pub fn has_nets(self) -> bool {
        self.has_nomatch()
    }

    pub fn has_port(self) -> bool {
        matches!(
            self,
            Kind::HashIpPort | Kind::HashNetPort | Kind::HashIpPortIp | Kind::BitmapPort
        )
    }
}

/// An element's identity. Unused fields stay 0; bitmap:ip keys hold the
/// element id in `ip`, bitmap:port the port in `port`, list:set the member
/// position in `ip` (the member order is the list order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub ip: u32,
    pub cidr: u8,
    pub proto: u8,
    pub port: u16,
    pub ip2: u32,
}

/// When an element expires: `ip_set_timeout_set` stores an absolute jiffy
/// (0 = permanent). Elements read from a file carry their remaining seconds
/// until the replay's first packet fixes the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Never,
    /// Seconds after the replay's start (from `timeout N` in the file).
    After(u32),
    /// Alive while jiffies <= this (`ip_set_timeout_expired`).
    At(u64),
}

/// The extensions of one element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ext {
    pub expiry: Expiry,
    pub packets: u64,
    pub bytes: u64,
    pub comment: Option<String>,
    /// skbinfo: `skbmark` value and mask, `skbprio`, `skbqueue`.
    pub skbmark: Option<(u32, u32)>,
    pub skbprio: Option<u32>,
    pub skbqueue: Option<u16>,
}

impl Default for Ext {
    fn default() -> Ext {
        Ext {
            expiry: Expiry::Never,
            packets: 0,
            bytes: 0,
            comment: None,
            skbmark: None,
            skbprio: None,
            skbqueue: None,
        }
    }
}

impl Ext {
    pub fn expired(&self, now: u64) -> bool {
        match self.expiry {
            Expiry::At(t) => now > t,
            _ => false,
        }
    }
}

/// An element: its extensions and, for net types, the `nomatch` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elem {
    pub nomatch: bool,
    pub ext: Ext,
    /// list:set: the member set's name.
    pub member: Option<String>,
}

/// `IPSET_COUNTER_*` of `--packets-*`/`--bytes-*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterOp {
    Eq(u64),
    Ne(u64),
    Lt(u64),
    Gt(u64),
}

impl CounterOp {
    /// `ip_set_match_counter`.
    pub fn holds(self, v: u64) -> bool {
        match self {
            CounterOp::Eq(x) => v == x,
            CounterOp::Ne(x) => v != x,
            CounterOp::Lt(x) => v < x,
            CounterOp::Gt(x) => v > x,
        }
    }
}

/// The `cmdflags` and match extensions of one lookup (`struct ip_set_adt_opt`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub return_nomatch: bool,
    pub skip_counter_update: bool,
    pub skip_subcounter_update: bool,
    /// `IPSET_FLAG_MATCH_COUNTERS` with the packets and bytes tests.
    pub packets: Option<CounterOp>,
    pub bytes: Option<CounterOp>,
}

impl Flags {
    fn match_counters(&self) -> bool {
        self.packets.is_some() || self.bytes.is_some()
    }
}

/// A set as created, with its elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set {
    pub name: String,
    pub kind: Kind,
    /// The type as written on the `create` line.
    pub type_name: String,
    /// `family inet` (false: inet6, which no IPv4 packet ever matches:
    /// `ip_set_test` compares the families first).
    pub inet: bool,
    /// Default timeout in seconds; `Some` = the set supports timeouts.
    pub timeout: Option<u32>,
    pub counters: bool,
    pub comment: bool,
    pub skbinfo: bool,
    pub maxelem: u32,
    /// hash:ip, hash:ip,port and bitmap:ip `netmask`.
    pub netmask: u8,
    /// hash:ip, hash:ip,port `bitmask` (an address mask, instead of netmask).
    pub bitmask: Option<u32>,
    /// bitmap ranges (addresses or ports), inclusive.
    pub range: (u32, u32),
    /// list:set `size`.
    pub size: u32,
    /// The `create` line's options as written, reprinted by `save`.
    pub create_opts: String,
    pub elems: BTreeMap<Key, Elem>,
    /// Net types: number of elements per prefix length (`h->nets`).
    pub nets: BTreeMap<u8, usize>,
}

impl Set {
    pub fn new(name: &str, kind: Kind) -> Set {
        Set {
            name: name.to_string(),
            kind,
            type_name: kind.name().to_string(),
            inet: true,
            timeout: None,
            counters: false,
            comment: false,
            skbinfo: false,
            maxelem: 65536,
            netmask: 32,
            bitmask: None,
            range: (0, 0),
            size: 8,
            create_opts: String::new(),
            elems: BTreeMap::new(),
            nets: BTreeMap::new(),
        }
    }

    /// The address mask of hash:ip and hash:ip,port (`h->bitmask.ip`: from
    /// `bitmask`, or `netmask`).
    pub fn ipmask(&self) -> u32 {
        self.bitmask.unwrap_or_else(|| elem::mask(self.netmask))
    }

    /// The prefix a kernel-side add or delete uses on a net type
    /// (`INIT_CIDR(h->nets[0].cidr[0], HOST_MASK)`: the longest prefix in the
    /// set, a host when the set is empty).
    pub fn add_cidr(&self) -> u8 {
        self.nets.keys().next_back().copied().unwrap_or(32)
    }

    /// `ip_set_match_extensions`: a found element counts only when alive; its
    /// counters are bumped (unless skipped) and then tested.
    pub fn match_ext(ext: &mut Ext, set: &SetFlags, f: &Flags, now: u64, len: u64) -> bool {
        if set.timeout && ext.expired(now) {
            return false;
        }
        if set.counters {
            if !f.skip_counter_update {
                ext.packets += 1;
                ext.bytes += len;
            }
            if f.match_counters()
                && !(f.packets.is_none_or(|op| op.holds(ext.packets))
                    && f.bytes.is_none_or(|op| op.holds(ext.bytes)))
            {
                return false;
            }
        }
        true
    }

    pub fn flags(&self) -> SetFlags {
        SetFlags {
            timeout: self.timeout.is_some(),
            counters: self.counters,
        }
    }

    /// Looks `key` up as `mtype_test` does: `Some(nomatch)` for a live
    /// element passing the counter tests. Net types try every prefix in the
    /// set from the longest (`mtype_test_cidrs`), going on to shorter ones
    /// when an element fails its extensions.
    pub fn lookup(&mut self, key: Key, f: &Flags, now: u64, len: u64) -> Option<(Key, bool)> {
        let sf = self.flags();
        let cidrs: Vec<u8> = if self.kind.has_nets() {
            self.nets.keys().rev().copied().collect()
        } else {
            vec![key.cidr]
        };
        for c in cidrs {
            let k = if self.kind.has_nets() {
                Key {
                    ip: key.ip & elem::mask(c),
                    cidr: c,
                    ..key
                }
            } else {
                key
            };
            if let Some(e) = self.elems.get_mut(&k) {
                if Set::match_ext(&mut e.ext, &sf, f, now, len) {
                    return Some((k, e.nomatch));
                }
            }
        }
        None
    }

    /// A kernel-side add (`mtype_add` via `kadt`): a new element, or with
    /// `exist` (or over an expired one) fresh extensions. Counters start at
    /// the adding packet (`IP_SET_INIT_KEXT`: 1 packet, `skb->len` bytes).
    /// Whether the set took it (false: -IPSET_ERR_EXIST or the set is full).
    pub fn kadd(
        &mut self,
        key: Key,
        timeout: Option<u32>,
        exist: bool,
        now: u64,
        len: u64,
    ) -> bool {
        let secs = timeout.or(self.timeout).unwrap_or(0);
        let ext = Ext {
            expiry: if self.timeout.is_none() || secs == 0 {
                Expiry::Never
            } else {
                Expiry::At(now + u64::from(secs) * crate::ext::state::HZ)
            },
            packets: if self.counters { 1 } else { 0 },
            bytes: if self.counters { len } else { 0 },
            ..Ext::default()
        };
        if let Some(e) = self.elems.get_mut(&key) {
            if exist || e.ext.expired(now) {
                e.nomatch = false;
                e.ext = ext;
                return true;
            }
            return false;
        }
        if self.elems.len() >= self.maxelem as usize {
            return false; // -IPSET_ERR_HASH_FULL
        }
        self.insert(
            key,
            Elem {
                nomatch: false,
                ext,
                member: None,
            },
        );
        true
    }

    /// A kernel-side delete: only a live element goes (`mtype_del` answers
    /// -IPSET_ERR_EXIST for an expired one; bitmaps clear the bit anyway).
    pub fn kdel(&mut self, key: Key, now: u64) -> bool {
        let alive = match self.elems.get(&key) {
            Some(e) => !e.ext.expired(now),
            None => return false,
        };
        if alive || matches!(self.kind, Kind::BitmapIp | Kind::BitmapPort) {
            self.remove(key);
        }
        alive
    }

    /// Adds or replaces an element, keeping the prefix counts.
    pub fn insert(&mut self, key: Key, e: Elem) {
        if self.elems.insert(key, e).is_none() && self.kind.has_nets() {
            *self.nets.entry(key.cidr).or_default() += 1;
        }
    }

    fn remove(&mut self, key: Key) {
        if self.elems.remove(&key).is_some() && self.kind.has_nets() {
            if let Some(n) = self.nets.get_mut(&key.cidr) {
                *n -= 1;
                if *n == 0 {
                    self.nets.remove(&key.cidr);
                }
            }
        }
    }

    /// Fixes file timeouts (seconds from the start) to jiffies once the
    /// replay's clock is known.
    pub fn anchor(&mut self, now: u64) {
        for e in self.elems.values_mut() {
            if let Expiry::After(s) = e.ext.expiry {
                e.ext.expiry = Expiry::At(now + u64::from(s) * crate::ext::state::HZ);
            }
        }
    }
}

/// What `ip_set_match_extensions` needs of the set.
#[derive(Debug, Clone, Copy)]
pub struct SetFlags {
    pub timeout: bool,
    pub counters: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net_set() -> Set {
        let mut s = Set::new("n", Kind::HashNet);
        s.counters = true;
        for (ip, cidr, nomatch) in [(0x0a00_0000, 8, false), (0x0a01_0000, 16, true)] {
            s.insert(
                Key {
                    ip,
                    cidr,
                    ..Key::default()
                },
                Elem {
                    nomatch,
                    ext: Ext::default(),
                    member: None,
                },
            );
        }
        s
    }

    #[test]
    fn longest_prefix_first_and_nomatch() {
        let mut s = net_set();
        let f = Flags::default();
        let host = |ip| Key {
            ip,
            cidr: 32,
            ..Key::default()
        };
        assert_eq!(
            s.lookup(host(0x0a01_0203), &f, 0, 60).map(|h| h.1),
            Some(true)
        );
        assert_eq!(
            s.lookup(host(0x0a02_0203), &f, 0, 60).map(|h| h.1),
            Some(false)
        );
        assert_eq!(s.lookup(host(0x0b00_0001), &f, 0, 60), None);
        // Counters are bumped on the element found, nomatch or not.
        let e = &s.elems[&Key {
            ip: 0x0a01_0000,
            cidr: 16,
            ..Key::default()
        }];
        assert_eq!((e.ext.packets, e.ext.bytes), (1, 60));
        assert_eq!(s.add_cidr(), 16);
    }

    #[test]
    fn counter_test_failing_falls_back_to_shorter_prefix() {
        let mut s = net_set();
        let f = Flags {
            packets: Some(CounterOp::Gt(1)),
            ..Flags::default()
        };
        let k = Key {
            ip: 0x0a01_0203,
            cidr: 32,
            ..Key::default()
        };
        // /16 has 1 packet after the bump (not > 1), /8 neither: no match.
        assert_eq!(s.lookup(k, &f, 0, 10), None);
        // Second packet: /16 has 2 > 1 and answers nomatch.
        assert_eq!(s.lookup(k, &f, 0, 10).map(|h| h.1), Some(true));
    }

    #[test]
    fn kernel_add_respects_exist_and_timeouts() {
        let mut s = Set::new("t", Kind::HashIp);
        s.timeout = Some(10);
        s.counters = true;
        let k = Key {
            ip: 1,
            cidr: 32,
            ..Key::default()
        };
        assert!(s.kadd(k, None, false, 100, 40));
        assert_eq!(s.elems[&k].ext.expiry, Expiry::At(100 + 10 * 250));
        assert_eq!((s.elems[&k].ext.packets, s.elems[&k].ext.bytes), (1, 40));
        assert!(!s.kadd(k, Some(60), false, 200, 40));
        assert_eq!(s.elems[&k].ext.expiry, Expiry::At(100 + 10 * 250));
        assert!(s.kadd(k, Some(60), true, 200, 40));
        assert_eq!(s.elems[&k].ext.expiry, Expiry::At(200 + 60 * 250));
        let f = Flags::default();
        assert_eq!(s.lookup(k, &f, 200 + 60 * 250, 1).map(|h| h.1), Some(false));
        assert_eq!(s.lookup(k, &f, 201 + 60 * 250, 1), None);
        assert!(s.kdel(k, 0));
        assert!(s.elems.is_empty());
    }
}
