//! The replay engine: one capture record at a time through defrag, the hooks
//! and their tables, and conntrack, as the kernel's netfilter does it.
//!
//! Per hook, tables run in priority order (raw −300, conntrack −200, mangle
//! −150, nat DNAT −100, filter 0, security 50, nat SNAT 100) and the entry a
//! packet created is confirmed only when the packet leaves its last hook
//! alive (`__nf_conntrack_confirm` at INT_MAX). The nat table is consulted
//! only for the first packet of a connection (`nf_nat_inet_fn`: manips not
//! yet initialised). Packets the host would send itself are reported, not
//! replayed, as in the kernel oracle.

mod flight;
mod lane;
mod learned;
mod path;
mod shared;
mod tables;

use super::host::Host;
use super::host_index::HostIndex;
use super::nat;
use super::outcome::{
    Brief, Generated, HookPass, Ifaces, Outcome, Record, RuleName, Skipped, Verdict,
};
use super::outcome_json::FlowJsons;
use super::reads::Reads;
use super::view::{ct_info, l4_facts};
use super::walk::{Prepared, TableCounters, WalkBuf};
use crate::conntrack::{self, CtState, Dir, Params, Template};
use crate::ext::facts::{CtFacts, Facts};
use crate::ext::state::Store;
use crate::ext::targets::reject::RejectWith;
use crate::ir::{Hook, Ruleset, TableKind};
use crate::packet::{self, Frame, Packet, PktType, Summary};
use lane::{LaneHit, LaneJson, Lanes, PacketPart, Tracked};
pub use lane::{LaneKey, LaneRecord};
use path::Run;
use shared::Classes;
use std::borrow::Cow;
use std::sync::OnceLock;
use tables::{rule_names, TableNames, Tables};

/// Replay settings beyond the host model.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Treat every layer-4 checksum as correct, as the oracle does after
    /// recomputing them (captures of offloaded traffic carry bad ones).
    pub trust_checksums: bool,
    /// Record the kernel's TRACE lines (`table:chain:rule|return|policy:N`).
    pub trace: bool,
    /// Fill only what totals need (index, hook, verdict, ctstate/ctdir, rule,
    /// reject_with, depends_on, note): `summary` is left empty and `matched`
    /// and `ct_after` are not computed, which saves formatting per packet.
    pub verdicts_only: bool,
    /// The ipsets `-m set` and `-j SET` use (`--ipset FILE`); each engine
    /// works on its own copy.
    pub ipsets: Option<crate::ipset::Sets>,
    /// Keep the lines LOG writes to the kernel log (`Outcome::log`).
    pub log: bool,
    /// Walk the tables for every packet: no established-flow lane (see
    /// `engine::lane`). The reference the lane is tested against.
    pub walk_every_packet: bool,
}

impl Options {
    /// Every packet walks the tables, none takes a lane: asked for, or TRACE lines
    /// (made by walking) are wanted.
    fn walks_every_packet(&self) -> bool {
        self.trace || self.walk_every_packet
    }
}

/// A packet's journey: what accumulates over the hooks.
struct Flight {
    matched: Vec<RuleName>,
    depends_on: Vec<&'static str>,
    template: Template,
    notrack: bool,
    trace: Vec<String>,
    /// LOG lines, when kept.
    log: Vec<String>,
    /// The record's summary, and the header at the first filter hook and after POSTROUTING
    /// when different from it.
    summary: String,
    /// Address and length of the IP bytes `summary` was made from (see
    /// [`nat::changed_header`]).
    original: (usize, usize),
    at_filter: Option<String>,
    egress: Option<String>,
    filtered: bool,
    /// A NAT binding for which the kernel draws the port at random.
    nat_random_port: bool,
    /// What NAT did to the header an ICMP error quotes.
    quote: nat::Quote,
    /// Conntrack's verdict, when the lane asked conntrack before the full path ran.
    pretracked: Option<conntrack::Verdict>,
}

pub struct Engine<'r> {
    tables: Tables<'r>,
    host: Host,
    /// The host's addresses and routes, indexed for [`Engine::place`].
    places: HostIndex,
    ct: conntrack::Table,
    defrag: packet::Defrag,
    opts: Options,
    /// Reassembled datagrams are copied here to outlive the defrag borrow.
    scratch: Vec<u8>,
    lanes: Lanes,
    /// The JSON of learned outcomes, for full records of the lane.
    lane_json: LaneJson,
    /// The texts of the connections of the lane's full records, by table slot.
    flow_json: FlowJsons,
    /// The `ct_after` of the lane's last full record: its [`LaneRecord`] borrows it, so
    /// that a record handed on for every packet stays a few words.
    lane_ct_after: Option<conntrack::CtView>,
    /// The latest capture time replayed (ns): "now" for [`Engine::live_connections`].
    latest_ns: u64,
}

/// A replayed record as [`Engine::step`] hands it on.
pub enum Step<'e> {
    Record(Record),
    /// A packet that took the established-flow lane: its record is not built
    /// unless asked for ([`Step::record`]).
    Lane(LaneRecord<'e>),
}

impl Step<'_> {
    /// What totals count of it; `None` for a skipped record.
    pub fn brief(&self) -> Option<Brief<'_>> {
        match self {
            Step::Record(Record::Packet(o)) => Some(o.brief()),
            Step::Record(Record::Skipped(_)) => None,
            Step::Lane(lane) => Some(lane.brief()),
        }
    }

    pub fn into_record(self) -> Record {
        match self {
            Step::Record(r) => r,
            Step::Lane(lane) => Record::Packet(lane.outcome()),
        }
    }

    /// The whole record, built when it is a [`LaneRecord`].
    pub fn record(&self) -> std::borrow::Cow<'_, Record> {
        match self {
            Step::Record(r) => std::borrow::Cow::Borrowed(r),
            Step::Lane(lane) => std::borrow::Cow::Owned(Record::Packet(lane.outcome())),
        }
    }

    /// Appends the record's JSON line (no newline), as [`Record::write_json`]
    /// writes [`Step::record`], without building a lane packet's record.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Step::Record(r) => r.write_json(out),
            Step::Lane(lane) => lane.write_json(out),
        }
    }
}

/// How a record ends, before it becomes an [`Outcome`].
struct Fate {
    verdict: Verdict,
    hook: Option<Hook>,
    rule: Option<RuleName>,
    reject: Option<RejectWith>,
    ct: Option<conntrack::Verdict>,
    iface: Ifaces,
    hooks: Vec<HookPass>,
    fate: Option<Verdict>,
    note: Option<String>,
}

impl Fate {
    fn not_reached(hook: Hook, rule: Option<RuleName>, ct: Option<conntrack::Verdict>) -> Fate {
        Fate {
            verdict: Verdict::NotReached,
            hook: Some(hook),
            rule,
            reject: None,
            ct,
            iface: Ifaces::default(),
            hooks: Vec::new(),
            fate: None,
            note: None,
        }
    }
}

/// What every engine of a sharded replay of one ruleset compiles alike, made once, by
/// whichever worker asks first ([`Engine::sharing`]): the walk's index of each table and
/// the rules' names (~2 ms with 10,000 rules), and the header classes by which the lanes
/// share outcomes (~2 ms). Each engine building its own took ~22 ms of wall time with two
/// workers building at once (fresh memory faulted in by both), against ~5 ms for one. Made
/// before the workers started, the tables were followed by each worker's classes: the
/// engines were ready ~4.5 ms into a replay with 10,000 rules. Now the dealing worker makes
/// the tables first and the others the classes, at once on two cores, and the engines are
/// ready at ~3.5 ms. A worker that finds a part not begun makes it itself (a thread may
/// start milliseconds late: see `parallel::sharded`), one that finds it being made waits.
/// (A thread of its own for the classes, spawned by the calling thread before the workers,
/// gained nothing: spawned by a busy thread, it waited on that thread's core for up to a
/// scheduler tick, ~4 ms here.)
#[derive(Debug, Default)]
pub struct Compiling {
    tables: OnceLock<(Vec<Prepared>, Vec<TableNames>)>,
    /// Copied into each engine's lanes (~0.6 MB, against ~2 ms to make).
    classes: OnceLock<Option<Classes>>,
}

/// Each table's walk index and rule names.
fn compile_tables(rs: &Ruleset) -> (Vec<Prepared>, Vec<TableNames>) {
    (
        rs.tables.iter().map(Prepared::new).collect(),
        rs.tables.iter().map(rule_names).collect(),
    )
}

impl<'r> Engine<'r> {
    pub fn new(rs: &'r Ruleset, host: Host, params: Params, opts: Options) -> Engine<'r> {
        let (prepared, names) = compile_tables(rs);
        let classes = Lanes::classes(rs, &host, opts.walks_every_packet());
        let compiled = (Cow::Owned(prepared), Cow::Owned(names), classes);
        Engine::build(rs, compiled, host, params, opts)
    }

    /// [`Engine::new`], sharing what the engines of a sharded replay of `rs` compile alike
    /// (`compiling`, which must serve no other ruleset, host or options): the tables first
    /// when `tables_first` (the dealing worker), else the lanes' classes first.
    pub fn sharing(
        rs: &'r Ruleset,
        (compiling, tables_first): (&'r Compiling, bool),
        host: Host,
        params: Params,
        opts: Options,
    ) -> Engine<'r> {
        let tables = || compiling.tables.get_or_init(|| compile_tables(rs));
        let classes = || {
            let walks = opts.walks_every_packet();
            compiling
                .classes
                .get_or_init(|| Lanes::classes(rs, &host, walks))
        };
        let ((prepared, names), classes) = if tables_first {
            (tables(), classes())
        } else {
            let classes = classes();
            (tables(), classes)
        };
        let lent = (
            Cow::Borrowed(&prepared[..]),
            Cow::Borrowed(&names[..]),
            classes.clone(),
        );
        Engine::build(rs, lent, host, params, opts)
    }

    fn build(
        rs: &'r Ruleset,
        (prepared, names, classes): (Cow<'r, [Prepared]>, Cow<'r, [TableNames]>, Option<Classes>),
        host: Host,
        params: Params,
        mut opts: Options,
    ) -> Engine<'r> {
        let counters = rs.tables.iter().map(TableCounters::for_table).collect();
        let lanes = Lanes::new(rs, opts.walks_every_packet(), classes);
        let mut memory = Store::default();
        // The sets move into the replay's memory (they are large; `opts` keeps none).
        memory.ipsets = opts.ipsets.take();
        Engine {
            tables: Tables {
                rs,
                counters,
                at: tables::Placement::new(rs, &prepared),
                prepared,
                names,
                walk_buf: WalkBuf::default(),
                trace: opts.trace,
                walks: None,
                memory,
                verdicts_only: opts.verdicts_only,
                log: opts.log,
                reads: Reads::FLOW,
                bumps: Vec::new(),
                learning: false,
            },
            places: HostIndex::new(&host),
            host,
            ct: conntrack::Table::new(params),
            defrag: packet::Defrag::new(),
            opts,
            scratch: Vec::new(),
            lanes,
            lane_json: LaneJson::default(),
            flow_json: FlowJsons::default(),
            lane_ct_after: None,
            latest_ns: 0,
        }
    }

    /// The ruleset with the counters the kernel would show now.
    pub fn ruleset_with_counters(&self) -> Ruleset {
        Engine::ruleset_with(self.tables.rs, &self.counters())
    }

    /// The counters the kernel would show now, table by table (what
    /// [`Engine::ruleset_with_counters`] writes into the ruleset).
    pub fn counters(&self) -> Vec<TableCounters> {
        self.tables.counters_with(self.lanes.learned.unbumped())
    }

    /// `rs` with `counters` (from an engine of `rs`) on its built-in chains' policies and
    /// its rules; user chains keep the file's counters (the kernel keeps none for them).
    pub fn ruleset_with(rs: &Ruleset, counters: &[TableCounters]) -> Ruleset {
        let mut rs = rs.clone();
        for (t, c) in rs.tables.iter_mut().zip(counters) {
            for (ci, chain) in t.chains.iter_mut().enumerate() {
                if chain.is_builtin() {
                    if let Some(&(packets, bytes)) = c.policy.get(ci) {
                        (chain.counters.packets, chain.counters.bytes) = (packets, bytes);
                    }
                }
                let rules = c.rules.get(ci).map_or(&[][..], Vec::as_slice);
                for (r, rc) in chain.rules.iter_mut().zip(rules) {
                    r.counters.packets = rc.0;
                    r.counters.bytes = rc.1;
                }
            }
        }
        rs
    }

    /// The ipsets as the replay left them (`-j SET` adds and deletes,
    /// element counters).
    pub fn ipsets(&self) -> Option<&crate::ipset::Sets> {
        self.tables.memory.ipsets.as_ref()
    }

    /// Packets whose outcome came from the established-flow lane (see `engine::lane`).
    pub fn lane_packets(&self) -> u64 {
        self.lanes.taken()
    }

    /// Connection directions whose first lane packet copied an outcome another
    /// connection learned (see `engine::shared`); they count among [`Engine::lane_packets`].
    pub fn lane_shared(&self) -> u64 {
        self.lanes.shared_hits()
    }

    /// Records handed on as a [`LaneRecord`]: the lane's packets, and the misses
    /// whose full path taught the outcome their record then borrows.
    pub fn lane_records(&self) -> u64 {
        self.lanes.taken() + self.lanes.handed
    }

    pub fn conntrack(&self) -> &conntrack::Table {
        &self.ct
    }

    /// Connections the table holds live at the latest capture time replayed: at least what
    /// a kernel's table held then (see [`conntrack::KERNEL_DEFAULT_MAX`]).
    pub fn live_connections(&self) -> usize {
        self.ct.live_len(self.latest_ns)
    }

    /// Replaces the conntrack table (`iptwalk trace --ctstate` starts from
    /// connections set up beforehand).
    pub fn set_conntrack(&mut self, ct: conntrack::Table) {
        self.ct = ct;
        // Memos name this engine's learned outcomes.
        self.ct.forget_lanes();
    }

    /// Starts or stops recording every table walk (see [`super::explain`]).
    pub fn set_explain(&mut self, on: bool) {
        self.tables.walks = on.then(Vec::new);
    }

    /// The table walks recorded since the last call, in order.
    pub fn take_walks(&mut self) -> Vec<super::explain::TableWalk> {
        self.tables
            .walks
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Replays one capture record.
    pub fn process(&mut self, frame: &Frame) -> Record {
        self.step(frame).into_record()
    }

    /// Replays one capture record; a packet that takes the established-flow
    /// lane comes back as a [`LaneRecord`] borrowed from what the lane learned
    /// (and the frame), and no record is built for it.
    pub fn step<'e>(&'e mut self, frame: &Frame<'e>) -> Step<'e> {
        let ts = capture_ns(frame.ts_ns);
        self.latest_ns = self.latest_ns.max(ts);
        let lane_open = self.tables.walks.is_none();
        // The established-flow lane: conntrack first, then the learned walks if
        // any. A plain frame (nearly all) is read without being decoded; the
        // full path decodes it only if the lane misses.
        let mut tried: Option<Tracked> = None;
        let mut placed = None;
        let mut plain_ip = None;
        if lane_open {
            if let Some(p) = packet::plain(frame.linktype, frame.data) {
                let local_out = self.places.is_local(p.src());
                placed = Some(local_out);
                plain_ip = Some(p.ip);
                if !local_out {
                    match self.take_plain_lane(&p, ts) {
                        Ok(hit) => return self.lane_step(hit, frame.index, p.ip, p.src(), ts),
                        Err(t) => tried = Some(t),
                    }
                }
            }
        }
        // A plain frame's link header is read at fixed offsets (see `decode_plain`).
        let decoded = match plain_ip {
            Some(ip) => packet::decode_plain(frame.data, ip),
            None => packet::decode(frame),
        };
        let pkt = match decoded {
            Ok(p) => p,
            Err(skip) => {
                return Step::Record(Record::Skipped(Skipped {
                    index: frame.index,
                    skipped: Some(skip.to_string()),
                    error: None,
                }))
            }
        };
        // A plain frame's addresses are the decoded packet's: placed once.
        let src = u32::from(pkt.ip.src());
        let local_out = placed.unwrap_or_else(|| self.places.is_local(src));
        if tried.is_none() && !local_out && lane_open {
            match self.take_lane(&pkt, ts) {
                Ok(hit) => return self.lane_step(hit, frame.index, pkt.ip.bytes(), src, ts),
                Err(t) => tried = Some(t),
            }
        }
        let expected = self.headed(local_out, u32::from(pkt.ip.dst()));
        let (pretracked, lesson) = tried.unwrap_or((None, None));
        let summary = if self.opts.verdicts_only {
            String::new()
        } else {
            Summary::of_ip(pkt.ip.bytes()).text()
        };
        self.tables.start_packet(lesson.is_some());
        let mut flight = Flight {
            matched: Vec::new(),
            depends_on: Vec::new(),
            template: Template::default(),
            notrack: false,
            trace: Vec::new(),
            log: Vec::new(),
            summary,
            original: (pkt.ip.bytes().as_ptr() as usize, pkt.ip.bytes().len()),
            at_filter: None,
            egress: None,
            filtered: false,
            nat_random_port: false,
            quote: nat::Quote::default(),
            pretracked,
        };
        let fate = self.fly(&pkt, ts, local_out, expected, &mut flight);
        // Like the oracle: the entry the packet's tuple maps to after the
        // packet, whether or not the packet itself got that far.
        let hook = if local_out {
            conntrack::Hook::LocalOut
        } else {
            conntrack::Hook::PreRouting
        };
        self.ct.reap_dying();
        let (ctstate, ctdir) = match (&fate.ct, flight.notrack) {
            (_, true) if fate.ct.is_some() || fate.verdict != Verdict::NotReached => {
                (Some("UNTRACKED"), None)
            }
            (Some(v), _) => (
                Some(v.state.name()),
                v.dir
                    .filter(|_| !matches!(v.state, CtState::Invalid))
                    .map(dir_name),
            ),
            (None, _) => (None, None),
        };
        // A lesson learned: the packet's record is the lane's, borrowed from what
        // was learned instead of built (see `learn_lane`).
        if let Some(hit) = lesson.and_then(|l| self.learn_lane(l, &flight, &fate, (ctstate, ctdir)))
        {
            return self.lane_step(hit, frame.index, pkt.ip.bytes(), src, ts);
        }
        let ct_after = if self.opts.verdicts_only {
            None
        } else {
            self.ct.view_for_packet(&ct_info(&pkt, ts, hook, true))
        };
        let generated = fate
            .reject
            .map(|r| reject_reply(&pkt, r))
            .into_iter()
            .collect();
        let outcome = Box::new(Outcome {
            index: frame.index,
            hook: fate.hook.map(Hook::chain_name),
            verdict: fate.verdict,
            ctstate,
            ctdir,
            rule: fate.rule,
            summary: flight.summary,
            path: self.path_of(local_out, src),
            reject_with: fate.reject.map(RejectWith::name),
            iface: fate.iface,
            hooks: fate.hooks,
            fate: fate.fate,
            generated,
            ct_after,
            matched: flight.matched,
            depends_on: flight.depends_on,
            trace: flight.trace,
            log: flight.log,
            // Header texts for display: not built for verdicts-only records.
            at_filter: flight.at_filter.filter(|_| !self.opts.verdicts_only),
            egress: flight.egress.filter(|_| !self.opts.verdicts_only),
            nat_random_port: flight.nat_random_port,
            note: fate.note,
        });
        Step::Record(Record::Packet(outcome))
    }

    /// The record's `path` of a packet from `src`, sent by this host (`local_out`) or from
    /// the wire. Asked only when a record is built: a lane record finds its own
    /// ([`LaneRecord`]), so a verdicts-only replay looks no route up per packet.
    fn path_of(&self, local_out: bool, src: u32) -> &'static str {
        if local_out {
            "local-out"
        } else {
            self.places.wire_path(src)
        }
    }

    /// The hook a packet to `dst` is headed for, sent by this host (`local_out`) or not.
    fn headed(&self, local_out: bool, dst: u32) -> Hook {
        if local_out {
            Hook::Output
        } else if self.places.is_local(dst) {
            Hook::Input
        } else {
            Hook::Forward
        }
    }

    /// The record of a packet that took the lane, whose IPv4 bytes are `ip`. Inlined, with
    /// the packet's part of a full record out of line: a verdicts-only replay (nearly every
    /// packet of a `--format summary` one) hands on a few words.
    #[inline]
    fn lane_step<'e>(
        &'e mut self,
        hit: LaneHit,
        index: u64,
        ip: &'e [u8],
        src: u32,
        ts: u64,
    ) -> Step<'e> {
        let part = if self.opts.verdicts_only {
            None
        } else {
            debug_assert_eq!(
                hit.conn.and_then(|id| self.ct.view_of(id, ts)),
                self.ct_after_slow(ip, ts)
            );
            let out = (
                &mut self.lane_ct_after,
                &mut self.lane_json,
                &mut self.flow_json,
            );
            Some(packet_part(
                &self.ct,
                &self.lanes,
                out,
                (hit.conn, hit.learned),
                ip,
                ts,
            ))
        };
        Step::Lane(LaneRecord::new(
            &self.lanes,
            &self.places,
            hit,
            (index, src),
            part,
        ))
    }

    /// `ct_after` found by the packet's tuple, as the full path finds it: what
    /// [`Self::lane_step`] must agree with.
    fn ct_after_slow(&self, ip: &[u8], ts: u64) -> Option<conntrack::CtView> {
        let pkt = packet::decode_ipv4(packet::L2::default(), ip).ok()?;
        let info = ct_info(&pkt, ts, conntrack::Hook::PreRouting, true);
        self.ct.view_for_packet(&info)
    }
}

/// The part of a lane record a full record shows beyond the learned outcome (see
/// [`Engine::lane_step`]): the packet's bytes, `ct_after` (kept in `out.0`, which the record
/// borrows) and the learned outcome's JSON (made once, in `out.1`).
#[inline(never)]
fn packet_part<'e>(
    ct: &conntrack::Table,
    lanes: &'e Lanes,
    out: (
        &'e mut Option<conntrack::CtView>,
        &'e mut LaneJson,
        &'e mut FlowJsons,
    ),
    // The hit's entry and learned outcome, not the whole `LaneHit`: passed in registers,
    // so a verdicts-only replay (which makes no packet part) does not store it per packet.
    (conn, learned): (Option<conntrack::ConnId>, u32),
    ip: &'e [u8],
    ts: u64,
) -> PacketPart<'e> {
    // The entry the packet's tuple maps to is the one conntrack put it on (see
    // `LaneHit::conn`): no lookup.
    *out.0 = conn.and_then(|id| ct.view_of(id, ts));
    let ct_after = out.0.as_ref();
    let flow = conn.zip(ct_after).and_then(|(id, v)| out.2.of(id, v));
    PacketPart {
        ip,
        ct_after,
        json: out.1.of(lanes, learned),
        flow,
    }
}

/// A capture time in ns as the replay keeps it: clamped to `0..=u64::MAX`. Every record's
/// time fits (the high word of `ns` is 0) until the year 2554: one test then.
#[inline(always)]
fn capture_ns(ns: i128) -> u64 {
    if ns >> 64 == 0 {
        ns as u64
    } else {
        u64::try_from(ns.max(0)).unwrap_or(u64::MAX)
    }
}

/// Header faults `ip_rcv_core` drops before any hook (the rest reach netfilter).
fn is_ip_level(p: &packet::Malformed) -> bool {
    use packet::Malformed::*;
    matches!(
        p,
        IhlTooSmall(_)
            | HeaderTruncated { .. }
            | TotalLengthExceedsCaptured { .. }
            | TotalLengthBelowHeader { .. }
    )
}

/// `skb->pkt_type` as `-m pkttype` reads it (PACKET_HOST 0 … PACKET_OUTGOING 4).
fn pkttype(t: Option<PktType>, local_out: bool) -> u8 {
    if local_out {
        return 4; // PACKET_OUTGOING
    }
    match t {
        Some(PktType::Broadcast) => 1,
        Some(PktType::Multicast) => 2,
        Some(PktType::OtherHost) => 3,
        _ => 0,
    }
}

/// The record's `ctdir` text.
fn dir_name(d: Dir) -> &'static str {
    match d {
        Dir::Original => "ORIGINAL",
        Dir::Reply => "REPLY",
    }
}

/// The answer `-j REJECT` would send (reported, not replayed).
fn reject_reply(pkt: &Packet, r: RejectWith) -> Generated {
    let (icmp_type, icmp_code) = match r {
        RejectWith::TcpReset => (None, None),
        RejectWith::NetUnreachable => (Some(3), Some(0)),
        RejectWith::HostUnreachable => (Some(3), Some(1)),
        RejectWith::ProtoUnreachable => (Some(3), Some(2)),
        RejectWith::PortUnreachable => (Some(3), Some(3)),
        RejectWith::NetProhibited => (Some(3), Some(9)),
        RejectWith::HostProhibited => (Some(3), Some(10)),
        RejectWith::AdminProhibited => (Some(3), Some(13)),
    };
    Generated {
        src: pkt.ip.dst().to_string(),
        dst: pkt.ip.src().to_string(),
        kind: r.name(),
        icmp_type,
        icmp_code,
        by: "REJECT",
    }
}
