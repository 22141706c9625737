//! `-m recent` (libxt_recent.c rev 1, kernel xt_recent.c): per-name lists of
//! recently seen addresses, set, checked, updated or removed by rules.
//!
//! Exactly one of `--set/--rcheck/--update/--remove` is required.
//! The kernel (`recent_mt_check`) refuses `--seconds`, `--hitcount`, `--rttl`
//! and `--reap` with `--set`/`--remove`, a hitcount of 65536 or more, and an
//! empty name. Save prints the name bare and `--seconds`/`--hitcount` with
//! `%d`, as 1.8.9 does.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::state::{jiffies, State, HZ};
use crate::ext::value::{inet_aton, uint};
use crate::ext::{CheckCtx, Facts, MatchDef, MatchResult, RuleCtx};
use std::fmt::Write;
use std::net::Ipv4Addr;

/// `XT_RECENT_NAME_LEN`: the name buffer, NUL included.
pub const NAME_LEN: usize = 200;
/// `XT_RECENT_MAX_NSTAMPS`: hitcounts must be below this.
pub const MAX_NSTAMPS: u32 = 65536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Set,
    Rcheck,
    Update,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    pub op: Option<Op>,
    pub invert: bool,
    /// 0 = not given.
    pub seconds: u32,
    /// 0 = not given.
    pub hitcount: u32,
    pub reap: bool,
    pub rttl: bool,
    pub name: String,
    pub mask: u32,
    /// `--rdest` (else `--rsource`, the default).
    pub dest: bool,
    /// Option keys given, for the exclusion checks.
    given: Vec<&'static str>,
}

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            op: None,
            invert: false,
            seconds: 0,
            hitcount: 0,
            reap: false,
            rttl: false,
            name: "DEFAULT".to_string(),
            mask: u32::MAX,
            dest: false,
            given: Vec::new(),
        }
    }
}

const OPS: [(&str, Op); 4] = [
    ("set", Op::Set),
    ("rcheck", Op::Rcheck),
    ("update", Op::Update),
    ("remove", Op::Remove),
];

impl MatchDef for Recent {
    const NAME: &'static str = "recent";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::flag("set").inv(),
        OptSpec::flag("rcheck").inv(),
        OptSpec::flag("update").inv(),
        OptSpec::flag("remove").inv(),
        OptSpec::req("seconds"),
        OptSpec::flag("reap"),
        OptSpec::req("hitcount"),
        OptSpec::flag("rttl"),
        OptSpec::req("name"),
        OptSpec::flag("rsource"),
        OptSpec::flag("rdest"),
        OptSpec::req("mask"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let arg = call.arg();
        let range = |min: u64| {
            call.err(format!(
                "recent: bad value for option \"--{}\", or out of range ({min}-4294967295).",
                call.key
            ))
        };
        match call.key {
            "set" | "rcheck" | "update" | "remove" => {
                self.op = OPS.iter().find(|(k, _)| *k == call.key).map(|(_, o)| *o);
                self.invert |= call.invert;
            }
            "seconds" => {
                self.seconds = uint(arg, 1, u64::from(u32::MAX)).ok_or_else(|| range(1))? as u32
            }
            "hitcount" => {
                self.hitcount = uint(arg, 0, u64::from(u32::MAX)).ok_or_else(|| range(0))? as u32
            }
            "reap" => self.reap = true,
            "rttl" => self.rttl = true,
            "name" => {
                // XTOPT_PUT into a 200-byte buffer: longer names are cut.
                let mut end = arg.len().min(NAME_LEN - 1);
                while !arg.is_char_boundary(end) {
                    end -= 1;
                }
                self.name = arg.get(..end).unwrap_or(arg).to_string();
            }
            "rsource" => self.dest = false,
            "rdest" => self.dest = true,
            "mask" => {
                self.mask = inet_aton(arg)
                    .or_else(|| (arg == "localhost").then_some(0x7f00_0001))
                    .ok_or_else(|| call.err("getaddrinfo: Name or service not known"))?;
            }
            _ => unreachable_option(call)?,
        }
        self.given.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let has = |k: &str| self.given.contains(&k);
        let ops: Vec<&str> = OPS.iter().map(|(k, _)| *k).filter(|k| has(k)).collect();
        match ops.as_slice() {
            [] => {
                return Err(ExtError::new(
                    "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'",
                ))
            }
            [a, b, ..] => {
                return Err(ExtError::new(format!(
                    "recent: option \"--{a}\" cannot be used together with \"--{b}\"."
                )))
            }
            [_] => {}
        }
        if has("reap") && !has("seconds") {
            return Err(ExtError::new(
                "recent: option \"--reap\" also requires \"--seconds\".",
            ));
        }
        if has("rttl") {
            if let Some(op) = ["set", "remove"].into_iter().find(|o| has(o)) {
                return Err(ExtError::new(format!(
                    "recent: option \"--rttl\" cannot be used together with \"--{op}\"."
                )));
            }
        }
        Ok(())
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        let refuse = |why: &str| {
            Err(ExtError::new(format!(
                "the kernel refuses this recent match: {why}"
            )))
        };
        let modifies = matches!(self.op, Some(Op::Set | Op::Remove));
        if modifies && (self.seconds != 0 || self.hitcount != 0 || self.rttl || self.reap) {
            return refuse(
                "--seconds, --hitcount, --rttl and --reap only go with --rcheck or --update",
            );
        }
        if self.hitcount >= MAX_NSTAMPS {
            return refuse(&format!(
                "hitcount ({}) is larger than allowed maximum ({})",
                self.hitcount,
                MAX_NSTAMPS - 1
            ));
        }
        if let Err(why) = super::hashlimit::check_proc_name(&self.name) {
            return refuse(&why);
        }
        Ok(())
    }

    /// `recent_print` (IPv4): the operation in capitals, then seconds, reap,
    /// hit count, TTL, name, side and mask, each labelled.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.invert {
            out.push_str(" !");
        }
        out.push_str(" recent:");
        out.push_str(match self.op {
            Some(Op::Set) => " SET",
            Some(Op::Rcheck) => " CHECK",
            Some(Op::Update) => " UPDATE",
            Some(Op::Remove) => " REMOVE",
            None => "",
        });
        if self.seconds != 0 {
            let _ = write!(out, " seconds: {}", self.seconds as i32);
        }
        if self.reap {
            out.push_str(" reap");
        }
        if self.hitcount != 0 {
            let _ = write!(out, " hit_count: {}", self.hitcount as i32);
        }
        if self.rttl {
            out.push_str(" TTL-Match");
        }
        let side = if self.dest { "dest" } else { "source" };
        let _ = write!(
            out,
            " name: {} side: {side} mask: {}",
            self.name,
            Ipv4Addr::from(self.mask)
        );
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.invert {
            out.push_str(" !");
        }
        if let Some((k, _)) = OPS.iter().find(|(_, o)| Some(*o) == self.op) {
            let _ = write!(out, " --{k}");
        }
        if self.seconds != 0 {
            let _ = write!(out, " --seconds {}", self.seconds as i32);
        }
        if self.reap {
            out.push_str(" --reap");
        }
        if self.hitcount != 0 {
            let _ = write!(out, " --hitcount {}", self.hitcount as i32);
        }
        if self.rttl {
            out.push_str(" --rttl");
        }
        let _ = write!(
            out,
            " --name {} --mask {}",
            self.name,
            Ipv4Addr::from(self.mask)
        );
        out.push_str(if self.dest { " --rdest" } else { " --rsource" });
    }

    /// `recent_mt`: looks the packet's masked address up in the list named
    /// `--name` (shared by every rule naming it), then sets, checks, updates
    /// or removes. `--update` refreshes the entry only when the match's
    /// final answer is true (`XT_RECENT_UPDATE && ret`): an update that
    /// fails its `--hitcount` adds no hit, as the kernel showed in
    /// hm_match_recent_addrtype.
    fn eval_state(&self, facts: &Facts, st: &mut State) -> MatchResult {
        let Some(op) = self.op else {
            return MatchResult::No;
        };
        let now = jiffies(facts.now_ns);
        let addr = if self.dest { facts.dst } else { facts.src } & self.mask;
        // "use TTL as seen before forwarding": +1 once an output device is
        // known, except for the host's own packets.
        let ttl = if !facts.out_iface.is_empty() && facts.pkttype != PKTTYPE_OUTGOING {
            facts.ttl.wrapping_add(1)
        } else {
            facts.ttl
        };
        let list = st
            .named::<List>(Self::NAME, &self.name)
            .get_or_insert_with(List::default);
        list.widen(self.nstamp_mask());
        let mut ret = self.invert;
        let Some(seq) = list.lookup(addr, if self.rttl { ttl } else { 0 }) else {
            if op == Op::Set {
                list.insert(addr, ttl, now);
                ret = !ret;
            }
            return MatchResult::from_bool(ret);
        };
        match op {
            Op::Set => ret = !ret,
            Op::Remove => {
                list.remove(seq);
                return MatchResult::from_bool(!ret);
            }
            Op::Rcheck | Op::Update => {
                let since = now.wrapping_sub(u64::from(self.seconds) * HZ);
                if self.hits_reached(list.stamps(seq), since) {
                    ret = !ret;
                }
                if self.reap {
                    list.reap(since, seq);
                }
            }
        }
        if op == Op::Set || (op == Op::Update && ret) {
            list.update(seq, now, ttl);
        }
        MatchResult::from_bool(ret)
    }
}

/// `PACKET_OUTGOING`: the host's own packets (their TTL is not bumped).
const PKTTYPE_OUTGOING: u8 = 4;
/// `ip_list_tot`: entries per list before the least recently used goes.
const IP_LIST_TOT: usize = 100;

impl Recent {
    /// `recent_mt_check`: stamps kept per entry, minus one. The reference
    /// kernel's `ip_pkt_list_tot` parameter is 0
    /// (/sys/module/xt_recent/parameters), so the hitcount decides.
    fn nstamp_mask(&self) -> usize {
        if self.hitcount > 0 {
            (self.hitcount as usize).next_power_of_two() - 1
        } else {
            31
        }
    }

    /// The `--rcheck/--update` loop: at least `--hitcount` stamps (any one
    /// without it) not older than `--seconds`.
    fn hits_reached(&self, stamps: &[u64], since: u64) -> bool {
        let mut hits = 0;
        for &stamp in stamps {
            // time_after(time, stamp): older than --seconds.
            if self.seconds != 0 && (since.wrapping_sub(stamp) as i64) > 0 {
                continue;
            }
            hits += 1;
            if self.hitcount == 0 || hits >= self.hitcount {
                return true;
            }
        }
        false
    }
}

/// One address in a list (`struct recent_entry`).
#[derive(Debug)]
struct Entry {
    /// Creation order: the hash chain is searched oldest first.
    seq: u64,
    addr: u32,
    ttl: u8,
    /// Ring of jiffies stamps, `nstamps` of them valid, `index` the next slot.
    stamps: Vec<u64>,
    index: usize,
    nstamps: usize,
}

/// A named list (`struct recent_table`), entries in LRU order (oldest first).
#[derive(Debug, Default)]
struct List {
    entries: Vec<Entry>,
    mask: usize,
    next_seq: u64,
}

impl List {
    /// Rules check in at load and the largest ring wins; replay meets them
    /// lazily, so a wider rule grows the rings instead of flushing (at load
    /// time the kernel's flush empties an empty list).
    fn widen(&mut self, mask: usize) {
        if mask > self.mask {
            self.mask = mask;
            for e in &mut self.entries {
                e.stamps.resize(mask + 1, 0);
            }
        }
    }

    /// `recent_entry_lookup`: same address, and the TTL agrees when one is
    /// asked for (`ttl == 0` asks for none; an entry with TTL 0 fits any).
    fn lookup(&self, addr: u32, ttl: u8) -> Option<u64> {
        self.entries
            .iter()
            .filter(|e| e.addr == addr && (ttl == e.ttl || ttl == 0 || e.ttl == 0))
            .map(|e| e.seq)
            .min()
    }

    fn pos(&self, seq: u64) -> Option<usize> {
        self.entries.iter().position(|e| e.seq == seq)
    }

    fn stamps(&self, seq: u64) -> &[u64] {
        self.pos(seq)
            .and_then(|i| self.entries.get(i))
            .map_or(&[], |e| &e.stamps[..e.nstamps])
    }

    /// `recent_entry_init`: a full list loses its least recently used entry.
    fn insert(&mut self, addr: u32, ttl: u8, now: u64) {
        if self.entries.len() >= IP_LIST_TOT {
            self.entries.remove(0);
        }
        let mut stamps = vec![0; self.mask + 1];
        stamps[0] = now;
        self.entries.push(Entry {
            seq: self.next_seq,
            addr,
            ttl,
            stamps,
            index: 1,
            nstamps: 1,
        });
        self.next_seq += 1;
    }

    fn remove(&mut self, seq: u64) {
        if let Some(i) = self.pos(seq) {
            self.entries.remove(i);
        }
    }

    /// `recent_entry_update`: a new stamp in the ring; the entry becomes the
    /// most recently used.
    fn update(&mut self, seq: u64, now: u64, ttl: u8) {
        let Some(i) = self.pos(seq) else { return };
        let mut e = self.entries.remove(i);
        e.index &= self.mask;
        if let Some(slot) = e.stamps.get_mut(e.index) {
            *slot = now;
        }
        e.index += 1;
        e.nstamps = e.nstamps.max(e.index);
        e.ttl = ttl;
        self.entries.push(e);
    }

    /// `recent_entry_reap`: drops the least recently used entry (unless it
    /// is the one being worked on) when its newest stamp is too old.
    fn reap(&mut self, since: u64, working: u64) {
        let Some(oldest) = self.entries.first() else {
            return;
        };
        let newest = oldest
            .stamps
            .get(oldest.index.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        if oldest.seq != working && (since.wrapping_sub(newest) as i64) > 0 {
            self.entries.remove(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn defaults_and_refusals() {
        let rt = |r| roundtrip("filter", "INPUT", r);
        assert_eq!(
            rt("-m recent --update --rttl").unwrap(),
            "-m recent --update --rttl --name DEFAULT --mask 255.255.255.255 --rsource"
        );
        assert_eq!(
            rt("-m recent --update --reap --seconds 3 --rdest --mask 10").unwrap(),
            "-m recent --update --seconds 3 --reap --name DEFAULT --mask 0.0.0.10 --rdest"
        );
        assert!(rt("-m recent --set --rttl").is_err());
        assert!(rt("-m recent --set --seconds 5").is_err());
        assert!(rt("-m recent --rcheck --hitcount 65536").is_err());
        assert!(rt("-m recent --update --reap").is_err());
        assert!(rt("-m recent --set --name ..").is_err());
    }

    #[test]
    fn lists_are_shared_and_time_windowed() {
        use crate::ext::state::{MatchKey, NoConns, State, Store};
        use crate::ext::MatchResult::{No, Yes};
        let set = crate::ext::matches::testutil::first_match("-m recent --set --name w");
        let check = crate::ext::matches::testutil::first_match(
            "-m recent --rcheck --seconds 2 --hitcount 2 --name w",
        );
        let rttl = crate::ext::matches::testutil::first_match("-m recent --rcheck --rttl --name w");
        let mut store = Store::default();
        let bytes = [0u8; 20];
        let mut run = |m: &crate::ext::Match, rule: usize, ms: u64, ttl: u8| {
            let f = crate::ext::matches::testutil::facts(
                &bytes,
                0,
                ttl,
                Default::default(),
                ms * 1_000_000,
            );
            let key = MatchKey {
                table: 0,
                chain: 0,
                rule,
                idx: 0,
            };
            m.eval_state(&f, &mut State::new(&mut store, key, &NoConns))
        };
        assert_eq!(run(&check, 1, 0, 64), No);
        assert_eq!(run(&set, 0, 0, 64), Yes);
        assert_eq!(run(&check, 1, 500, 64), No);
        assert_eq!(run(&set, 0, 1000, 64), Yes);
        // Two stamps within 2 s of 1.5 s.
        assert_eq!(run(&check, 1, 1500, 64), Yes);
        // At 2.5 s the first stamp is older than 2 s: one hit left.
        assert_eq!(run(&check, 1, 2500, 64), No);
        // --rttl: the entry remembers TTL 64.
        assert_eq!(run(&rttl, 2, 2600, 63), No);
        assert_eq!(run(&rttl, 2, 2600, 64), Yes);
    }
}
