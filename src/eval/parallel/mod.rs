//! Flow-sharded parallel replay (`iptwalk replay --jobs N`) whose output is
//! byte-identical to one [`Engine`].
//!
//! Every worker owns a whole [`Engine`] (its own conntrack table, defrag
//! queues, counters) and replays its own shard of the records. Worker 0 reads
//! the capture, once, from the file ([`Source::File`]) or a pipe
//! ([`Source::Stream`]), numbers every record, finds each one's shard key,
//! replays its own records and deals the others' to their workers in batches
//! (`deal`, which also decides each address pair's worker as the replay goes, so
//! that all workers stay busy whatever a record costs on this machine). What
//! a record leaves for the caller is split in two: what can be counted in any
//! order goes into the worker's own state (the caller's totals, merged at the
//! end), what must come out in capture order (a jsonl line) goes to the
//! calling thread, which merges the workers' streams by record number. A
//! `--format summary` replay therefore sends nothing per record to the calling
//! thread. Capture errors are worker 0's items, in their place in the capture.
//!
//! The shard key is the unordered address pair {src, dst}: every conntrack
//! tuple of a connection without NAT (both directions), every expectation the
//! FTP and TFTP helpers register (built from the master's tuples;
//! `nf_conntrack_ftp` ignores other addresses with `loose=0`), every defrag
//! queue (keyed by src, dst, id, proto in `ip_find`) and every ICMP error
//! (keyed by the header it quotes, where `nf_conntrack_icmp`'s
//! `icmp_error_message` looks the RELATED entry up) stay inside one pair.
//!
//! State that is not per pair makes the sharding inexact, and [`plan`] then
//! runs one worker: NAT targets (`nf_nat_get_unique_tuple` picks ports unique
//! across every connection sharing the new address), the matches and targets
//! that keep memory across flows (recent, limit, hashlimit, quota,
//! connlimit, statistic, set, SET, rateest, RATEEST, SYNPROXY, TPROXY).
//!
//! Known inexactness left: `nf_defrag_ipv4`'s global limits
//! (`ipfrag_high_thresh`, 4 MiB of held fragments over all queues, and
//! `ipfrag_max_dist`, counted per source over all its destinations) are seen
//! per shard, and a fragmented ICMP error is keyed by its outer addresses
//! (only the first fragment holds the quoted header).

use super::engine::{Engine, Options, Step};
use super::host::Host;
use super::walk::TableCounters;
use crate::conntrack::Params;
use crate::ir::{RuleTarget, Ruleset};
use crate::packet::{self, CaptureError, CaptureReader, Frame};
use std::io::Read;
use std::path::Path;

mod deal;
mod rewind;
mod sharded;
mod touch;

pub use rewind::Rewind;

/// Match extensions whose memory spans flows (`ext::state::Store`, or the
/// whole conntrack table for connlimit).
const GLOBAL_MATCHES: &[&str] = &[
    "recent",
    "limit",
    "hashlimit",
    "quota",
    "connlimit",
    "statistic",
    "set",
    "rateest",
];
/// Target extensions that change state shared across flows: NAT port
/// choice, ipset contents, rate estimators, SYN cookies, socket lookups.
const GLOBAL_TARGETS: &[&str] = &[
    "SNAT",
    "DNAT",
    "MASQUERADE",
    "REDIRECT",
    "NETMAP",
    "SET",
    "RATEEST",
    "SYNPROXY",
    "TPROXY",
];
/// Most workers a replay runs: a worker is named by a byte where the dealing worker
/// notes which worker each address pair went to (`deal`).
pub const MAX_WORKERS: usize = deal::MAX_WORKERS;
/// Items a worker collects for the calling thread before it sends them.
const BATCH: usize = 256;
/// Records between two [`Item::Progress`] reports.
const PROGRESS_EVERY: u64 = 4096;

/// How a replay runs, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Workers (1: today's single engine, on the calling thread).
    pub workers: usize,
    /// Why one worker runs although more were asked for (or would run by default).
    pub reason: Option<String>,
    /// Items (rendered records, errors) a worker sends the calling thread at
    /// a time; it also reports at least every 64 batches' worth of records
    /// read, so the records held for reordering stay bounded.
    pub batch: usize,
    /// Replay only the first this many items (records and errors).
    pub limit: Option<u64>,
    /// How the address pairs are spread over the workers.
    pub spread: Spread,
    /// `render` makes nothing of any record (`--format summary`: the workers only count):
    /// nothing then waits in the calling thread for the workers' reports but the progress
    /// bar, so they report 16 times less often. Each report may wake the calling thread,
    /// which takes a core from a worker: on mix_1m with two workers, ~100 such preemptions
    /// a replay against ~20 (see `sharded`).
    pub renders_nothing: bool,
}

/// How the address pairs of a sharded replay are spread over the workers; either way each
/// pair stays with one worker, so the output is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// Each pair to a worker that keeps up when it is first seen (see `deal`): every
    /// worker busy to the end.
    AsTheyKeepUp,
    /// Each new pair to the next worker in turn: every worker replays some pairs of any
    /// capture, however short, and a pair's worker is decided as in `AsTheyKeepUp`, when
    /// first seen (for tests).
    InTurn,
}

impl Plan {
    /// `sharded over 2 workers` / `1 worker (the ruleset uses limit: ...)`.
    pub fn describe(&self) -> String {
        match (&self.reason, self.workers) {
            (Some(r), _) => format!("1 worker ({r})"),
            (None, 1) => "1 worker".to_string(),
            (None, n) => format!("sharded by address pair over {n} workers"),
        }
    }
}

/// Decides how many workers may run `rs` with output identical to one (at most
/// [`MAX_WORKERS`]).
pub fn plan(rs: &Ruleset, jobs: usize) -> Plan {
    let jobs = jobs.clamp(1, MAX_WORKERS);
    let (workers, reason) = match global_state_user(rs) {
        Some(what) if jobs > 1 => (
            1,
            Some(format!("the ruleset uses {what}, whose state spans flows")),
        ),
        _ => (jobs, None),
    };
    Plan {
        workers,
        reason,
        batch: BATCH,
        limit: None,
        spread: Spread::AsTheyKeepUp,
        renders_nothing: false,
    }
}

/// The first extension in `rs` whose state is not per address pair.
fn global_state_user(rs: &Ruleset) -> Option<String> {
    for t in &rs.tables {
        for chain in &t.chains {
            for r in &chain.rules {
                if let Some(m) = r
                    .matches
                    .iter()
                    .find(|m| GLOBAL_MATCHES.contains(&m.m.name()))
                {
                    return Some(format!("-m {}", m.m.name()));
                }
                if let RuleTarget::Ext(x) = &r.target {
                    if GLOBAL_TARGETS.contains(&x.name()) {
                        return Some(format!("-j {}", x.name()));
                    }
                }
            }
        }
    }
    None
}

/// ICMP types that quote the packet they are about (`icmp_is_err`).
fn is_icmp_error(t: u8) -> bool {
    matches!(t, 3 | 4 | 5 | 11 | 12)
}

/// The shard key of a record: its unordered address pair, the quoted
/// header's for an ICMP error; 0 for what the engine skips (stateless).
pub fn shard_key(frame: &Frame) -> u64 {
    shard_key_of(frame.linktype, frame.data)
}

/// [`shard_key`] of a record of link type `linktype` whose bytes are `data`
/// (what the dealing worker's look ahead shows of a record).
#[inline]
fn shard_key_of(linktype: u32, data: &[u8]) -> u64 {
    // Untagged Ethernet, IPv4, not ICMP, 20 header bytes there (nearly every record): one
    // fixed-size read and four tests; the general path below gives the same key.
    const ETH: usize = 14;
    if let Some(h) = data
        .get(..ETH + 20)
        .and_then(|h| <&[u8; ETH + 20]>::try_from(h).ok())
    {
        if linktype == packet::link::linktype::ETHERNET
            && h[12..ETH] == [8, 0]
            && h[ETH] >> 4 == 4
            && h[ETH + 9] != 1
        {
            return pair_key(be32(&h[ETH + 12..ETH + 16]), be32(&h[ETH + 16..ETH + 20]));
        }
    }
    shard_key_general(linktype, data)
}

/// [`shard_key_of`] for every record.
#[inline(never)]
fn shard_key_general(linktype: u32, data: &[u8]) -> u64 {
    // Only the link layer and the IPv4 header: the engine decodes the rest.
    let Some(ip) = l3(linktype, data) else {
        return 0;
    };
    // What `Ipv4::new` insists on (20 bytes, version 4) and the addresses,
    // read in place: every worker does this for every record. Only ICMP
    // needs the header's lengths and flags.
    match ip.get(..20) {
        Some(h) if h[0] >> 4 == 4 && h[9] != 1 => pair_key(be32(&h[12..16]), be32(&h[16..20])),
        _ => header_key(ip),
    }
}

fn be32(b: &[u8]) -> u32 {
    b.try_into().map_or(0, u32::from_be_bytes)
}

/// [`shard_key_of`] the IPv4 bytes `ip` of an ICMP packet (or of what is
/// not IPv4), through the decoded header.
#[inline(never)]
fn header_key(ip: &[u8]) -> u64 {
    let Some(ip) = packet::Ipv4::new(ip) else {
        return 0;
    };
    let (mut a, mut b) = (u32::from(ip.src()), u32::from(ip.dst()));
    // Fragments stay with their outer pair, where defrag queues them.
    if ip.proto() == 1 && !ip.is_fragment() && ip.header_len() >= 20 {
        let icmp = ip.payload();
        let quoted = |at: usize| {
            icmp.get(8 + at..12 + at)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map(u32::from_be_bytes)
        };
        if let (Some(&t), Some(qs), Some(qd)) = (icmp.first(), quoted(12), quoted(16)) {
            if is_icmp_error(t) {
                (a, b) = (qs, qd);
            }
        }
    }
    pair_key(a, b)
}

/// [`shard_key_of`] of a record whose flow `touch::flow_of` reads as `flow`: an untagged
/// Ethernet IPv4 TCP or UDP record, on the fast path of `shard_key_of`, which reads the same
/// addresses at the same offsets (see the test).
#[inline]
fn flow_key(flow: &crate::conntrack::Flow4) -> u64 {
    pair_key(flow.src, flow.dst)
}

/// The key of the unordered address pair {a, b}.
#[inline]
fn pair_key(a: u32, b: u32) -> u64 {
    let (lo, hi) = (a.min(b), a.max(b));
    // Fibonacci hashing: the pair's bits spread over the high word.
    ((u64::from(lo) << 32) | u64::from(hi)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The IPv4 bytes of a record, as `link::strip` finds them. Every worker
/// computes this for every record of the capture, so untagged Ethernet (what
/// almost every capture holds) is read directly, without the L2 description
/// `strip` builds for the engine: its 14-byte header and ethertype 0x0800
/// are all `strip` looks at then.
fn l3(linktype: u32, data: &[u8]) -> Option<&[u8]> {
    if linktype == packet::link::linktype::ETHERNET && data.get(12..14) == Some(&[8, 0]) {
        return data
            .get(14..)
            .filter(|ip| ip.first().is_some_and(|b| b >> 4 == 4));
    }
    packet::link::strip(linktype, data).ok().map(|(_, ip)| ip)
}

/// Where the workers read the capture from.
pub enum Source<'a> {
    /// A regular file.
    File(&'a Path),
    /// Bytes that can be read once (a pipe), from the capture's first byte.
    Stream(Box<dyn Read + Send + 'a>),
}

impl<'a> Source<'a> {
    fn open(self) -> Result<CaptureReader<Box<dyn Read + Send + 'a>>, CaptureError> {
        match self {
            Source::File(path) => {
                let f = std::fs::File::open(path).map_err(CaptureError::Open)?;
                CaptureReader::new(Box::new(f) as Box<dyn Read + Send>)
            }
            Source::Stream(r) => CaptureReader::new(r),
        }
    }
}

/// What reaches the calling thread, in capture order.
pub enum Item<T> {
    /// What the worker rendered of a record for the calling thread.
    Record(T),
    /// A capture error (`is_fatal` ends the replay after it).
    Error(CaptureError),
    /// The replay has got this far into the capture (byte offset of a
    /// record): sent every few thousand records, for a progress bar.
    Progress(u64),
}

/// What the replay leaves behind.
pub struct Finished<W> {
    /// The counters summed over the workers, table by table
    /// ([`Finished::ruleset_with_counters`] writes them into the ruleset).
    pub counters: Vec<TableCounters>,
    /// The ipsets as the (first) engine left them.
    pub ipsets: Option<crate::ipset::Sets>,
    /// The link type of the capture (of pcapng's first interface), as the
    /// (first) worker's reader saw it at the end.
    pub linktype: Option<u32>,
    /// Packets whose outcome came from the established-flow lane, over all
    /// workers ([`Engine::lane_packets`]).
    pub lane_packets: u64,
    /// Connections live at the end, over all workers ([`Engine::live_connections`]).
    pub live_connections: usize,
    /// Each worker's state, in worker order.
    pub states: Vec<W>,
}

impl<W> Finished<W> {
    /// `rs`, the ruleset replayed, with the replay's counters (what `--counters` saves).
    /// Made on request only: a copy of a 10,000-rule ruleset costs a few milliseconds
    /// (more while its memory is first touched), which a replay not asked for its counters
    /// should not wait for at its end.
    pub fn ruleset_with_counters(&self, rs: &Ruleset) -> Ruleset {
        Engine::ruleset_with(rs, &self.counters)
    }
}

/// What each worker builds its engine from.
pub struct Setup<'r> {
    pub rs: &'r Ruleset,
    pub host: Host,
    pub params: Params,
    pub opts: Options,
}

/// Replays `source` with `plan.workers` engines. Each worker gets its own
/// state from `state` and calls `render` on each of its records: whatever
/// can be counted in any order goes into the state, what `render` returns
/// goes to `sink` on the calling thread, in capture order, with the capture
/// errors and progress reports. `sink` stops the replay by returning `false`.
pub fn replay<W, T, Mk, Rf, Sk>(
    source: Source<'_>,
    setup: Setup<'_>,
    plan: &Plan,
    state: Mk,
    render: Rf,
    mut sink: Sk,
) -> Finished<W>
where
    W: Send,
    T: Send,
    Mk: Fn(usize) -> W + Sync,
    Rf: Fn(&mut W, &Frame, &Step) -> Option<T> + Sync,
    Sk: FnMut(Item<T>) -> bool,
{
    if plan.workers > 1 {
        return sharded::run(source, setup, plan, (&state, &render), &mut sink);
    }
    let mut w = state(0);
    let mut engine = Engine::new(setup.rs, setup.host, setup.params, setup.opts);
    let mut reader = match source.open() {
        Ok(r) => r,
        Err(e) => {
            sink(Item::Error(e));
            return Finished {
                counters: engine.counters(),
                ipsets: engine.ipsets().cloned(),
                linktype: None,
                lane_packets: 0,
                live_connections: 0,
                states: vec![w],
            };
        }
    };
    let limit = plan.limit.unwrap_or(u64::MAX);
    let mut seq = 0u64;
    let mut flows = Vec::with_capacity(touch::AHEAD);
    let mut spare: Vec<Frame<'static>> = Vec::with_capacity(touch::AHEAD);
    // Runs of records whole in the read window, each framed once; their flows touched
    // together before they are replayed (see `touch`). What a run cannot show (a record cut
    // by the window's end, an error, a pcapng capture) is read one record at a time.
    'read: while seq < limit {
        let most = usize::try_from(limit - seq).map_or(touch::AHEAD, |n| n.min(touch::AHEAD));
        let mut frames = emptied(std::mem::take(&mut spare));
        flows.clear();
        let run = reader.peek_run(most, |frame| {
            flows.extend(touch::flow_of(frame.linktype, frame.data));
            frames.push(frame);
        });
        if run.records > 0 {
            engine.conntrack().touch(&flows);
            for frame in frames.drain(..) {
                seq += 1;
                if !replay_one(&mut engine, (&mut w, &render), &frame, (seq, &mut sink)) {
                    break 'read;
                }
            }
            spare = emptied(frames);
            reader.consume_run(run);
            continue;
        }
        let Some(next) = reader.next_frame() else {
            break;
        };
        seq += 1;
        let go = match next {
            Ok(ref frame) => replay_one(&mut engine, (&mut w, &render), frame, (seq, &mut sink)),
            Err(e) => {
                let fatal = e.is_fatal();
                sink(Item::Error(e)) && !fatal
            }
        };
        if !go {
            break;
        }
    }
    Finished {
        counters: engine.counters(),
        ipsets: engine.ipsets().cloned(),
        linktype: reader.linktype(),
        lane_packets: engine.lane_packets(),
        live_connections: engine.live_connections(),
        states: vec![w],
    }
}

/// Replays record number `seq` (from 1) of a one-worker replay and hands `sink` what
/// `render` made of it, and a progress report every [`PROGRESS_EVERY`] records; false when
/// `sink` says stop.
#[inline]
fn replay_one<W, T, Rf, Sk>(
    engine: &mut Engine,
    (w, render): (&mut W, &Rf),
    frame: &Frame,
    (seq, sink): (u64, &mut Sk),
) -> bool
where
    Rf: Fn(&mut W, &Frame, &Step) -> Option<T>,
    Sk: FnMut(Item<T>) -> bool,
{
    let step = engine.step(frame);
    let go = match render(w, frame, &step) {
        Some(t) => sink(Item::Record(t)),
        None => true,
    };
    go && (seq % PROGRESS_EVERY != 0 || sink(Item::Progress(frame.offset)))
}

/// `v` emptied, as a vector of another type of the same size (frames borrowing the next
/// run's window), in the same memory: std's `collect` of a vector's own `into_iter` reuses
/// its allocation, so the frames of a run cost no allocation (one a run cost ~2% of the
/// dealing worker's instructions).
fn emptied<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

#[cfg(test)]
mod tests;
