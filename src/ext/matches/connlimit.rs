//! `-m connlimit` (libxt_connlimit.c revision 1, xt_connlimit.c): compares
//! the number of connections sharing the packet's source (or destination)
//! address, masked to a prefix, with a limit.
//!
//! Kept in the kernel's form: `limit`, the `XT_CONNLIMIT_INVERT` sense
//! (`--connlimit-upto N` is the inverse of `--connlimit-above N`), the prefix
//! length of `mask` and the DADDR flag. Save always prints the mask and
//! `--connlimit-saddr`/`--connlimit-daddr`. Replay keeps the kernel's
//! per-rule lists (nf_conncount.c) and asks conntrack which remembered
//! tuples still have a confirmed entry.

use super::tcp::unreachable_option;
use crate::ext::facts::L4Facts;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::state::{jiffies, ConnKey, ConnView, Presence, State};
use crate::ext::value::{number, xt_exclusive, xt_uint};
use crate::ext::{Facts, MatchDef, MatchResult, RuleCtx};
use std::collections::HashMap;
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connlimit {
    pub limit: u32,
    /// XT_CONNLIMIT_INVERT: match while the count is <= limit.
    pub upto: bool,
    /// Prefix length of the grouping mask.
    pub mask_len: u8,
    /// XT_CONNLIMIT_DADDR: group by destination address.
    pub daddr: bool,
    given: Vec<&'static str>,
}

impl Default for Connlimit {
    fn default() -> Connlimit {
        Connlimit {
            limit: 0,
            upto: false,
            mask_len: 32,
            daddr: false,
            given: Vec::new(),
        }
    }
}

impl MatchDef for Connlimit {
    const NAME: &'static str = "connlimit";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("connlimit-upto").inv(),
        OptSpec::req("connlimit-above").inv(),
        OptSpec::req("connlimit-mask"),
        OptSpec::flag("connlimit-saddr"),
        OptSpec::flag("connlimit-daddr"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "connlimit-upto" | "connlimit-above" => {
                self.limit = xt_uint(call, "connlimit", 0, u64::from(u32::MAX))? as u32;
                self.upto = (call.key == "connlimit-upto") != call.invert;
            }
            "connlimit-mask" => {
                self.mask_len = parse_plen(call.arg()).ok_or_else(|| {
                    call.err("connlimit: bad value for option \"--connlimit-mask\", neither a valid network mask nor valid CIDR (0-32).")
                })?
            }
            "connlimit-saddr" => self.daddr = false,
            "connlimit-daddr" => self.daddr = true,
            _ => return unreachable_option(call),
        }
        self.given.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let has = |k: &str| self.given.contains(&k);
        for (a, b) in [
            ("connlimit-upto", "connlimit-above"),
            ("connlimit-saddr", "connlimit-daddr"),
        ] {
            if has(a) && has(b) {
                return Err(xt_exclusive("connlimit", a, b));
            }
        }
        if !has("connlimit-upto") && !has("connlimit-above") {
            return Err(ExtError::new(
                "You must specify \"--connlimit-above\" or \"--connlimit-upto\".",
            ));
        }
        Ok(())
    }

    /// `connlimit_print4`: `#conn src/32 > 2`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let dir = if self.daddr { "dst" } else { "src" };
        let op = if self.upto { "<=" } else { ">" };
        let _ = write!(out, " #conn {dir}/{} {op} {}", self.mask_len, self.limit);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let op = if self.upto { "upto" } else { "above" };
        let dir = if self.daddr { "daddr" } else { "saddr" };
        let _ = write!(
            out,
            " --connlimit-{op} {} --connlimit-mask {} --connlimit-{dir}",
            self.limit, self.mask_len
        );
    }

    /// `connlimit_mt`: counts, in this rule's own lists (`nf_conncount`),
    /// the connections remembered for the packet's masked source (or
    /// destination), adding the packet's own tuple (`ct->tuplehash[0]`, or
    /// the packet's tuple when it has no entry).
    fn eval_state(&self, facts: &Facts, st: &mut State) -> MatchResult {
        let Some(tuple) = st.conns.current().or_else(|| packet_tuple(facts)) else {
            return MatchResult::Hotdrop;
        };
        let mask = match self.mask_len {
            0 => 0,
            n => u32::MAX << (32 - u32::from(n.min(32))),
        };
        let key = if self.daddr { facts.dst } else { facts.src } & mask;
        let now = jiffies(facts.now_ns);
        let conns = st.conns;
        let lists = st
            .rule::<HashMap<u32, CountList>>()
            .get_or_insert_with(HashMap::new);
        let count = match lists.get_mut(&key) {
            Some(list) if !list.conns.is_empty() => list.add(tuple, now, conns),
            _ => {
                lists.insert(key, CountList::new(tuple, now));
                1
            }
        };
        MatchResult::from_bool((count > self.limit as usize) != self.upto)
    }
}

/// `xtopt_parse_plen` for IPv4: a prefix length 0-32, or a dotted mask
/// (a non-contiguous one leaves the mask all ones, i.e. /32).
pub fn parse_plen(s: &str) -> Option<u8> {
    if let Some(n) = number(s, 0, 32) {
        return Some(n as u8);
    }
    let m = inet_aton(s)?;
    let len = m.leading_ones();
    Some(if m.checked_shl(len).unwrap_or(0) == 0 {
        len as u8
    } else {
        32
    })
}

/// `inet_aton` (what `getaddrinfo(AI_NUMERICHOST)` accepts for IPv4): one
/// to four base-0 parts, the last filling the remaining bytes (`a.b` is
/// `a.0.0.b`).
pub fn inet_aton(s: &str) -> Option<u32> {
    let parts: Vec<u64> = s
        .split('.')
        .map(|p| crate::ext::value::strtoul(p, 0, u64::from(u32::MAX)))
        .collect::<Option<_>>()?;
    let (last, head) = parts.split_last()?;
    if head.len() > 3 || head.iter().any(|p| *p > 255) {
        return None;
    }
    let tail_bits = 8 * (4 - head.len() as u32);
    if tail_bits < 32 && *last >> tail_bits != 0 {
        return None;
    }
    let high = head
        .iter()
        .enumerate()
        .fold(0u64, |acc, (i, p)| acc | p << (24 - 8 * i));
    u32::try_from(high | last).ok()
}

/// `CONNCOUNT_GC_MAX_NODES`: stale entries dropped per visit at most.
const GC_MAX_NODES: usize = 8;

/// The tuple `nf_ct_get_tuplepr` makes of a packet without an entry.
fn packet_tuple(f: &Facts) -> Option<ConnKey> {
    let l4 = match f.l4 {
        L4Facts::Tcp { sport, dport, .. }
        | L4Facts::Udp { sport, dport }
        | L4Facts::Ports { sport, dport } => (sport, dport),
        L4Facts::Icmp { kind, code } => (0, u16::from(kind) << 8 | u16::from(code)),
        _ if f.l4_truncated => return None,
        _ => (0, 0),
    };
    Some(ConnKey {
        proto: f.proto,
        src: f.src,
        dst: f.dst,
        l4,
    })
}

/// One key's list (`struct nf_conncount_list`): remembered tuples with the
/// jiffy they were added, and the jiffy of the last garbage collection.
#[derive(Debug)]
struct CountList {
    conns: Vec<(ConnKey, u64)>,
    last_gc: u64,
}

impl CountList {
    /// `insert_tree` for a new key: the list starts with this tuple.
    fn new(tuple: ConnKey, now: u64) -> CountList {
        CountList {
            conns: vec![(tuple, now)],
            last_gc: now,
        }
    }

    /// `__nf_conncount_add`: unless collected in this very jiffy, walk the
    /// list dropping tuples whose entry is gone (this CPU added them: the
    /// replay is one CPU) or closed, and stop if the tuple is already there;
    /// then append it. Returns the list's count.
    fn add(&mut self, tuple: ConnKey, now: u64, conns: &dyn ConnView) -> usize {
        if self.last_gc < now {
            let mut collect = 0;
            let mut i = 0;
            while i < self.conns.len() && collect <= GC_MAX_NODES {
                let (t, _) = self.conns[i];
                match conns.presence(&t) {
                    Presence::Gone => {
                        self.conns.remove(i);
                        collect += 1;
                        continue;
                    }
                    Presence::Alive | Presence::Closed if t == tuple => return self.conns.len(),
                    Presence::Closed => {
                        self.conns.remove(i);
                        collect += 1;
                        continue;
                    }
                    Presence::Alive => i += 1,
                }
            }
        }
        self.conns.push((tuple, now));
        self.last_gc = now;
        self.conns.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;
    use super::*;

    #[test]
    fn defaults_and_inversion() {
        assert_eq!(
            roundtrip("-m connlimit ! --connlimit-upto 3 --connlimit-mask 255.255.0.0").unwrap(),
            "-m connlimit --connlimit-above 3 --connlimit-mask 16 --connlimit-saddr"
        );
        assert_eq!(
            roundtrip("-m connlimit --connlimit-upto 0 --connlimit-daddr").unwrap(),
            "-m connlimit --connlimit-upto 0 --connlimit-mask 32 --connlimit-daddr"
        );
        assert!(roundtrip("-m connlimit --connlimit-upto 4294967296").is_err());
        // "33" is also inet_aton's 0.0.0.33: a non-contiguous mask, so /32.
        assert_eq!(
            roundtrip("-m connlimit --connlimit-above 1 --connlimit-mask 33").unwrap(),
            "-m connlimit --connlimit-above 1 --connlimit-mask 32 --connlimit-saddr"
        );
        assert!(roundtrip("-m connlimit --connlimit-above 1 --connlimit-mask 4294967296").is_err());
        assert!(
            roundtrip("-m connlimit --connlimit-above 1 --connlimit-saddr --connlimit-daddr")
                .is_err()
        );
        assert!(roundtrip("-m connlimit").is_err());
    }

    /// Tuples 1..=n are alive in conntrack, `closed` are in TIME_WAIT.
    struct Table {
        alive: Vec<u16>,
        closed: Vec<u16>,
        current: u16,
    }

    impl ConnView for Table {
        fn current(&self) -> Option<ConnKey> {
            Some(key(self.current))
        }
        fn presence(&self, k: &ConnKey) -> Presence {
            if self.closed.contains(&k.l4.0) {
                Presence::Closed
            } else if self.alive.contains(&k.l4.0) {
                Presence::Alive
            } else {
                Presence::Gone
            }
        }
        fn acct(&self) -> Option<crate::ext::state::Acct> {
            None
        }
    }

    fn key(sport: u16) -> ConnKey {
        ConnKey {
            proto: 6,
            src: 0x0a00_0001,
            dst: 0x0a00_0002,
            l4: (sport, 22),
        }
    }

    #[test]
    fn counts_remembered_connections_like_nf_conncount() {
        use crate::ext::state::{MatchKey, State, Store};
        use crate::ext::MatchResult::{No, Yes};
        let m = super::super::testutil::first_match("-m connlimit --connlimit-above 2");
        let bytes = [0u8; 40];
        let mut store = Store::default();
        let k = MatchKey {
            table: 0,
            chain: 0,
            rule: 0,
            idx: 0,
        };
        let mut run = |t: &Table, ms: u64| {
            let f =
                super::super::testutil::facts(&bytes, 0, 64, Default::default(), ms * 1_000_000);
            m.eval_state(&f, &mut State::new(&mut store, k, t))
        };
        // Three new connections 10 ms apart: the third is above 2.
        let t = |alive: &[u16], cur| Table {
            alive: alive.to_vec(),
            closed: vec![],
            current: cur,
        };
        assert_eq!(run(&t(&[], 1), 0), No);
        assert_eq!(run(&t(&[1], 2), 10), No);
        assert_eq!(run(&t(&[1, 2], 3), 20), Yes);
        // The third was refused (its entry never confirmed), but a packet of
        // connection 1 again stops the walk at its own tuple, first in the
        // list, before the stale third is collected: still 3.
        assert_eq!(run(&t(&[1, 2], 1), 30), Yes);
        // Connection 2 closes: the walk drops it and the stale third, and a
        // new one fits again.
        let closing = Table {
            alive: vec![1, 2],
            closed: vec![2],
            current: 4,
        };
        assert_eq!(run(&closing, 40), No);
    }
}
