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

use super::header::PacketHead;
use super::host::{Host, InputRoute};
use super::judge::Judge;
use super::nat;
use super::outcome::{Generated, HookPass, Ifaces, Outcome, Record, RuleName, Skipped, Verdict};
use super::state::{accounted, Conns};
use super::view::{ct_info, l4_facts};
use super::walk::{walk_into, Fast, Prepared, TableCounters, TableVerdict, TraceStep, WalkBuf};
use crate::conntrack::{self, CtState, Dir, PacketInfo, Params, Template};
use crate::ext::facts::{CtFacts, Facts, L4Facts, NatRequest};
use crate::ext::matches::state;
use crate::ext::state::Store;
use crate::ext::targets::reject::RejectWith;
use crate::ir::{Hook, Ruleset, TableKind};
use crate::packet::{self, Frame, Packet, PktType, Summary};

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
}

/// The ruleset's tables with their counters.
struct Tables<'r> {
    rs: &'r Ruleset,
    counters: Vec<TableCounters>,
    /// Parallel to `rs.tables`: what the walk precomputes of each.
    prepared: Vec<Prepared>,
    /// Parallel to `rs.tables`, per chain and rule: `table/CHAIN/N`, the name a
    /// record gives its deciding rule, made once so a packet shares it instead
    /// of formatting (and allocating) it.
    names: Vec<Vec<Vec<RuleName>>>,
    walk_buf: WalkBuf,
    trace: bool,
    /// Recorded table walks, when explaining (`iptwalk trace`).
    walks: Option<Vec<super::explain::TableWalk>>,
    /// Stateful matches' memory (limit buckets, recent lists, ...).
    memory: Store,
    verdicts_only: bool,
    log: bool,
}

/// What one table walk decided.
struct Step {
    verdict: TableVerdict,
    /// A new connection mark set by CONNMARK.
    ct_mark: Option<u32>,
    /// `table/CHAIN/N` of the deciding rule.
    rule: Option<RuleName>,
    reject: Option<RejectWith>,
    /// What a NAT target asked for.
    nat: Option<NatRequest>,
}

/// NAT dropped the packet (`NF_DROP` from `nf_nat_inet_fn`); `rule` is the nat rule whose
/// target asked for it.
fn nat_drop(rule: Option<RuleName>) -> Step {
    Step {
        verdict: TableVerdict::Drop,
        ct_mark: None,
        rule,
        reject: None,
        nat: None,
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
}

impl<'r> Tables<'r> {
    /// Walks `kind` at `hook`; `None` when the ruleset has no such table
    /// (it then lets everything through).
    fn run(
        &mut self,
        kind: TableKind,
        hook: Hook,
        facts: &mut Facts,
        flight: &mut Flight,
        conns: &Conns,
    ) -> Option<Step> {
        let ti = self.rs.tables.iter().position(|t| t.kind == kind)?;
        let table = &self.rs.tables[ti];
        match self.prepared.get(ti) {
            Some(p) => p.base(hook)?,
            None => table.chain_index(hook.chain_name())?,
        };
        facts.hook = hook;
        facts.table = kind;
        let bytes = u64::from(facts.len);
        // The prefilter skips rules a packet cannot match; explaining (`iptwalk
        // trace`) must see every rule tested, so it walks without it.
        let fast = match (&self.walks, self.prepared.get(ti)) {
            (None, Some(prepared)) => Some(Fast {
                prepared,
                head: PacketHead::of(facts),
            }),
            _ => None,
        };
        let mut judge = Judge::new(facts).with_memory(&mut self.memory, ti, conns);
        judge.effects.want_log = self.log;
        judge.record = self.walks.as_ref().map(|_| Vec::new());
        let (verdict, decided_by) = walk_into(
            table,
            fast,
            hook,
            &mut judge,
            &mut self.counters[ti],
            bytes,
            &mut self.walk_buf,
        );
        if let (Some(walks), Some(events)) = (&mut self.walks, judge.record.take()) {
            walks.push(super::explain::TableWalk {
                table: kind,
                hook,
                events,
                verdict,
                decided_by,
            });
        }
        for step in &self.walk_buf.trace {
            if let (TraceStep::Rule { chain, num }, false) = (step, self.verdicts_only) {
                let named = self
                    .names
                    .get(ti)
                    .and_then(|t| t.get(*chain)?.get(num.checked_sub(1)?));
                flight.matched.push(named.cloned().unwrap_or_else(|| {
                    let chain = &table.chains[*chain].name;
                    RuleName::from(format!("{}/{chain}/{num}", kind.name()))
                }));
            }
            if self.trace {
                flight.trace.push(trace_line(table, hook, *step));
            }
        }
        for d in judge.depends_on.drain(..) {
            if !flight.depends_on.contains(&d) {
                flight.depends_on.push(d);
            }
        }
        let mut fx = std::mem::take(&mut judge.effects);
        flight.log.append(&mut fx.log);
        if fx.notrack {
            flight.notrack = true;
        }
        if let Some(h) = fx.helper.and_then(conntrack::HelperKind::from_name) {
            flight.template.helper = Some(h);
        }
        let rule = decided_by.map(|p| {
            let named = self.names.get(ti).and_then(|t| t.get(p.chain)?.get(p.rule));
            named.map_or_else(|| RuleName::from(rule_name(table, p)), RuleName::clone)
        });
        Some(Step {
            verdict,
            ct_mark: fx.ct_mark,
            rule,
            reject: fx.reject,
            nat: fx.nat,
        })
    }

    /// The nat table exists: only then are the NAT hooks registered (iptable_nat).
    fn has_nat(&self) -> bool {
        self.rs.tables.iter().any(|t| t.kind == TableKind::Nat)
    }
}

pub struct Engine<'r> {
    tables: Tables<'r>,
    host: Host,
    ct: conntrack::Table,
    defrag: packet::Defrag,
    opts: Options,
    /// Reassembled datagrams are copied here to outlive the defrag borrow.
    scratch: Vec<u8>,
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

impl<'r> Engine<'r> {
    pub fn new(rs: &'r Ruleset, host: Host, params: Params, mut opts: Options) -> Engine<'r> {
        let counters = rs.tables.iter().map(TableCounters::for_table).collect();
        let mut memory = Store::default();
        // The sets move into the replay's memory (they are large; `opts` keeps none).
        memory.ipsets = opts.ipsets.take();
        Engine {
            tables: Tables {
                rs,
                counters,
                prepared: rs.tables.iter().map(Prepared::new).collect(),
                names: rs.tables.iter().map(rule_names).collect(),
                walk_buf: WalkBuf::default(),
                trace: opts.trace,
                walks: None,
                memory,
                verdicts_only: opts.verdicts_only,
                log: opts.log,
            },
            host,
            ct: conntrack::Table::new(params),
            defrag: packet::Defrag::new(),
            opts,
            scratch: Vec::new(),
        }
    }

    /// The ruleset with the counters the kernel would show now.
    pub fn ruleset_with_counters(&self) -> Ruleset {
        let mut rs = self.tables.rs.clone();
        for (t, c) in rs.tables.iter_mut().zip(&self.tables.counters) {
            for (ci, chain) in t.chains.iter_mut().enumerate() {
                if chain.is_builtin() {
                    chain.counters.packets = c.policy[ci].0;
                    chain.counters.bytes = c.policy[ci].1;
                }
                for (r, rc) in chain.rules.iter_mut().zip(&c.rules[ci]) {
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

    pub fn conntrack(&self) -> &conntrack::Table {
        &self.ct
    }

    /// Replaces the conntrack table (`iptwalk trace --ctstate` starts from
    /// connections set up beforehand).
    pub fn set_conntrack(&mut self, ct: conntrack::Table) {
        self.ct = ct;
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
        let pkt = match packet::decode(frame) {
            Ok(p) => p,
            Err(skip) => {
                return Record::Skipped(Skipped {
                    index: frame.index,
                    skipped: Some(skip.to_string()),
                    error: None,
                })
            }
        };
        let ts = u64::try_from(frame.ts_ns.max(0)).unwrap_or(u64::MAX);
        let summary = if self.opts.verdicts_only {
            String::new()
        } else {
            packet::text::text_of(Summary::of_ip(pkt.ip.bytes()), 64)
        };
        let src = u32::from(pkt.ip.src());
        let dst = u32::from(pkt.ip.dst());
        let local_out = self.host.is_local(src);
        let expected = if local_out {
            Hook::Output
        } else if self.host.is_local(dst) {
            Hook::Input
        } else {
            Hook::Forward
        };
        let path: &'static str = match (local_out, self.host.ingress(src)) {
            (true, _) => "local-out",
            (false, "eth1") => "wire-in:eth1",
            (false, "eth0") => "wire-in:eth0",
            (false, _) => "wire-in",
        };
        let mut flight = Flight {
            matched: Vec::new(),
            depends_on: Vec::new(),
            template: Template::default(),
            notrack: false,
            trace: Vec::new(),
            log: Vec::new(),
            summary: summary.clone(),
            original: (pkt.ip.bytes().as_ptr() as usize, pkt.ip.bytes().len()),
            at_filter: None,
            egress: None,
            filtered: false,
            nat_random_port: false,
            quote: nat::Quote::default(),
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
        let ct_after = if self.opts.verdicts_only {
            None
        } else {
            self.ct.view_for_packet(&ct_info(&pkt, ts, hook, true))
        };
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
        let generated = fate
            .reject
            .map(|r| reject_reply(&pkt, r))
            .into_iter()
            .collect();
        Record::Packet(Box::new(Outcome {
            index: frame.index,
            hook: fate.hook.map(Hook::chain_name),
            verdict: fate.verdict,
            ctstate,
            ctdir,
            rule: fate.rule,
            summary,
            path,
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
        }))
    }

    fn fly(
        &mut self,
        pkt: &Packet,
        ts: u64,
        local_out: bool,
        expected: Hook,
        flight: &mut Flight,
    ) -> Fate {
        // ip_rcv_core drops malformed headers before any hook.
        if let Some(problem) = pkt
            .problem
            .filter(|_| !pkt.ip.is_fragment() || pkt.ip.ihl() < 5)
        {
            // A raw socket with IP_HDRINCL rewrites the total length of what the
            // host sends (raw_send_hdrinc), so only received packets die here.
            let fixed_by_sender = local_out
                && !matches!(
                    problem,
                    packet::Malformed::IhlTooSmall(_) | packet::Malformed::HeaderTruncated { .. }
                );
            if is_ip_level(&problem) && !fixed_by_sender {
                let mut f = Fate::not_reached(expected, None, None);
                f.note = Some(problem.to_string());
                return f;
            }
        }
        if !pkt.ip_checksum_ok() && !self.opts.trust_checksums && !local_out {
            let mut f = Fate::not_reached(expected, None, None);
            f.note = Some("bad IPv4 header checksum (ip_rcv drops it)".into());
            return f;
        }
        // nf_defrag_ipv4 at −400, before raw.
        let user = if local_out {
            packet::fragments::USER_CONNTRACK_OUT
        } else {
            packet::fragments::USER_CONNTRACK_IN
        };
        let whole = match self.defrag.feed(i128::from(ts), user, pkt) {
            packet::DefragOutcome::NotFragment => None,
            packet::DefragOutcome::Held => {
                let mut f = Fate::not_reached(expected, None, None);
                f.note = Some("fragment held for reassembly".into());
                return f;
            }
            packet::DefragOutcome::Dropped(why) => {
                let mut f = Fate::not_reached(expected, None, None);
                f.note = Some(format!("fragment dropped by reassembly: {why:?}"));
                return f;
            }
            packet::DefragOutcome::Complete(bytes) => {
                self.scratch.clear();
                self.scratch.extend_from_slice(bytes);
                Some(())
            }
        };
        let scratch = std::mem::take(&mut self.scratch);
        let fate = match whole {
            Some(()) => match packet::decode_ipv4(pkt.l2, &scratch) {
                Ok(full) => self.hooks(&full, ts, local_out, expected, flight),
                Err(_) => Fate::not_reached(expected, None, None),
            },
            None => self.hooks(pkt, ts, local_out, expected, flight),
        };
        self.scratch = scratch;
        fate
    }

    /// The hooks of one (complete) packet.
    fn hooks(
        &mut self,
        pkt: &Packet,
        ts: u64,
        local_out: bool,
        expected: Hook,
        flight: &mut Flight,
    ) -> Fate {
        let (l4, l4_truncated) = l4_facts(pkt);
        let host = &self.host;
        let mut facts = Facts {
            hook: Hook::Prerouting,
            table: TableKind::Raw,
            in_iface: "",
            out_iface: "",
            src: u32::from(pkt.ip.src()),
            dst: u32::from(pkt.ip.dst()),
            proto: pkt.ip.proto(),
            ttl: pkt.ip.ttl(),
            tos: pkt.ip.tos(),
            frag_off: pkt.ip.frag_offset(),
            // Locally sent packets count what was sent (see `fly`).
            len: if local_out {
                pkt.ip.bytes().len() as u32
            } else {
                u32::from(pkt.ip.total_len())
            },
            bytes: pkt.ip.bytes(),
            ihl: pkt.ip.header_len() as u8,
            l4,
            l4_truncated,
            src_mac: if local_out { None } else { pkt.l2.src_mac },
            mac_header: None,
            pkttype: pkttype(pkt.l2.pkttype, local_out),
            mark: 0,
            ct: CtFacts::default(),
            now_ns: ts,
            host,
        };
        let checksum_ok = self.opts.trust_checksums || pkt.l4_checksum_ok().unwrap_or(true);
        let mut run = Run {
            tables: &mut self.tables,
            ct: &mut self.ct,
            host,
            flight,
            conn: None,
            helper_drop: None,
        };
        if local_out {
            let dev = host.route(facts.dst).unwrap_or("eth0");
            run.local_out(&mut facts, pkt, ts, checksum_ok, dev, expected)
        } else {
            let dev = host.ingress(facts.src);
            run.wire_in(&mut facts, pkt, ts, checksum_ok, dev, expected)
        }
    }
}

/// One packet's pass through the hooks, with the state it carries.
struct Run<'a, 'r> {
    tables: &'a mut Tables<'r>,
    host: &'a Host,
    ct: &'a mut conntrack::Table,
    flight: &'a mut Flight,
    /// The conntrack verdict at the conntrack hook (`None` before it, or when
    /// the packet is untracked).
    conn: Option<conntrack::Verdict>,
    /// A conntrack helper dropped the packet at POSTROUTING (its log message).
    helper_drop: Option<&'static str>,
}

impl<'a> Run<'a, '_> {
    fn table(&mut self, kind: TableKind, hook: Hook, facts: &mut Facts) -> Option<Step> {
        let conns = Conns {
            table: self.ct,
            conn: self.conn,
            now_ns: facts.now_ns,
        };
        let step = self.tables.run(kind, hook, facts, self.flight, &conns)?;
        if let (Some(m), Some(id)) = (step.ct_mark, self.conn.and_then(|v| v.conn)) {
            self.ct.set_mark(id, m);
            facts.ct.mark = m;
        }
        // nf_send_reset() puts an existing connection into CLOSE.
        if step.reject == Some(RejectWith::TcpReset) {
            if let Some(id) = self.conn.and_then(|v| v.conn) {
                self.ct.set_closing(id, facts.now_ns);
            }
        }
        Some(step)
    }

    /// conntrack at −200 (`nf_conntrack_in`).
    fn track(
        &mut self,
        facts: &mut Facts,
        pkt: &Packet,
        ts: u64,
        checksum_ok: bool,
        hook: conntrack::Hook,
    ) {
        if self.flight.notrack {
            facts.ct = CtFacts {
                state: state::UNTRACKED,
                ..CtFacts::default()
            };
            return;
        }
        let info: PacketInfo = ct_info(pkt, ts, hook, checksum_ok);
        let v = self.ct.process_with(&info, &self.flight.template);
        if let (true, Some(id), Some(dir)) = (accounted(&v, facts), v.conn, v.dir) {
            self.ct.account(id, dir, u64::from(facts.len));
        }
        facts.ct = ct_facts(&v, self.ct, ts);
        self.conn = Some(v);
    }

    /// Whether the nat table runs for this packet: a connection's first packet.
    fn nat_runs(&self) -> bool {
        self.conn.as_ref().is_some_and(|v| {
            v.unconfirmed
                || (v.killed && self.ct.dying().is_some_and(|id| !self.ct.is_confirmed(id)))
        })
    }

    /// NAT at `hook` (`nf_nat_inet_fn`): for a connection's first packet the nat table runs
    /// and the binding is made (the target's or the null binding); then the header is
    /// rewritten (`nf_nat_packet`). `Err` carries the step that dropped the packet.
    fn nat_hook(&mut self, facts: &mut Facts, hook: Hook) -> Result<(), Step> {
        if !self.tables.has_nat() {
            return Ok(());
        }
        let mut req = None;
        let mut rule = None;
        // nf_nat_inet_fn: rules run only while this manip is unbound (an expected
        // connection's nf_nat_follow_master binds both before any hook).
        let bound = self
            .conn
            .and_then(|v| v.conn)
            .is_some_and(|id| self.ct.nat_initialized(id, nat::manip_of(hook)));
        if self.nat_runs() && !bound {
            if let Some(s) = self.table(TableKind::Nat, hook, facts) {
                if s.verdict != TableVerdict::Accept {
                    return Err(s);
                }
                req = s.nat;
                rule = s.rule;
            }
        }
        facts.hook = hook;
        let Some(v) = self.conn else {
            return Ok(());
        };
        // A connection this packet killed still NATs the packet (the skb holds its entry).
        let conn = v.conn.or(self.ct.dying().filter(|_| v.killed));
        let (Some(id), Some(dir)) = (conn, v.dir) else {
            return Ok(());
        };
        if v.unconfirmed || (v.killed && !self.ct.is_confirmed(id)) {
            match nat::bind(self.ct, id, req.as_ref(), facts, self.host) {
                Some(random) => self.flight.nat_random_port |= random,
                None => return Err(nat_drop(rule)),
            }
            facts.ct = ct_facts(&v, self.ct, facts.now_ns);
        }
        self.translate(&v, id, dir, facts)
    }

    /// `nf_nat_ipv4_fn` after the binding: an ICMP error RELATED to the connection is
    /// translated by `nf_nat_icmp_reply_translation` (its quote included), which refuses
    /// redirects; every other packet by `nf_nat_packet`.
    fn translate(
        &mut self,
        v: &conntrack::Verdict,
        id: conntrack::ConnId,
        dir: Dir,
        facts: &mut Facts,
    ) -> Result<(), Step> {
        let icmp_error = v.state == CtState::Related && facts.proto == 1;
        if icmp_error
            && matches!(facts.l4, L4Facts::Icmp { kind: 5, .. })
            && self.ct.nat_refuses_redirect(id)
        {
            return Err(nat_drop(None));
        }
        let quote = icmp_error.then_some(&mut self.flight.quote);
        nat::apply(self.ct, id, dir, facts, quote);
        Ok(())
    }

    /// The packet died: an entry it created is never confirmed.
    fn drop_conn(&mut self) {
        if let Some(v) = &self.conn {
            if let (true, Some(id)) = (v.unconfirmed, v.conn) {
                self.ct.discard(id);
            }
        }
    }

    /// The connection's helper (FTP, TFTP) at the end of LOCAL_IN or POST_ROUTING
    /// (`nf_confirm` calls `helper->help` before confirming), so only a packet that passed
    /// every table can create an expectation. `Err`: the helper dropped the packet.
    fn help(&mut self, facts: &Facts) -> Result<(), &'static str> {
        let Some(v) = self.conn else { return Ok(()) };
        let end = (facts.len as usize).min(facts.bytes.len());
        let l4 = facts.bytes.get(usize::from(facts.ihl)..end).unwrap_or(&[]);
        match self.ct.help(&v, l4, facts.now_ns) {
            conntrack::HelpVerdict::Accept => Ok(()),
            conntrack::HelpVerdict::Drop(why) => Err(why),
            // The master is NATed: nf_nat_ftp / nf_nat_tftp register the expectation (at a
            // random port when the announced one is taken).
            conntrack::HelpVerdict::Nat(req) => {
                let seq = match facts.l4 {
                    L4Facts::Tcp { seq, .. } => seq,
                    _ => 0,
                };
                let random = self.ct.nat_help(req, seq, facts.now_ns)?;
                self.flight.nat_random_port |= random;
                Ok(())
            }
        }
    }

    fn confirm(&mut self) {
        if let Some(v) = &self.conn {
            if let (true, Some(id)) = (v.unconfirmed, v.conn) {
                let _ = self.ct.confirm(id);
            }
        }
    }

    fn dropped_before_filter(&mut self, step: Step, expected: Hook) -> Fate {
        self.drop_conn();
        Fate::not_reached(expected, step.rule, self.conn)
    }

    /// The first hook of a packet, PREROUTING from the wire or OUTPUT from
    /// the host: raw (−300), conntrack (−200), mangle (−150), nat DNAT (−100).
    /// Returns the fate of a packet that died there.
    fn first_hook(
        &mut self,
        facts: &mut Facts,
        pkt: &Packet,
        ts: u64,
        ck: bool,
        hook: Hook,
        expected: Hook,
    ) -> Option<Fate> {
        if let Some(s) = self
            .table(TableKind::Raw, hook, facts)
            .filter(|s| s.verdict != TableVerdict::Accept)
        {
            return Some(Fate::not_reached(expected, s.rule, None));
        }
        let ct_hook = match hook {
            Hook::Output => conntrack::Hook::LocalOut,
            _ => conntrack::Hook::PreRouting,
        };
        self.track(facts, pkt, ts, ck, ct_hook);
        if let Some(s) = self
            .table(TableKind::Mangle, hook, facts)
            .filter(|s| s.verdict != TableVerdict::Accept)
        {
            return Some(self.dropped_before_filter(s, expected));
        }
        if let Err(s) = self.nat_hook(facts, hook) {
            return Some(self.dropped_before_filter(s, expected));
        }
        None
    }

    /// PREROUTING → routing → INPUT or FORWARD → POSTROUTING.
    fn wire_in<'p>(
        &mut self,
        facts: &mut Facts<'p>,
        pkt: &Packet,
        ts: u64,
        ck: bool,
        dev: &'p str,
        expected: Hook,
    ) -> Fate
    where
        'a: 'p,
    {
        facts.in_iface = dev;
        facts.mac_header = self.host.mac_header(dev, facts.src_mac);
        if let Some(fate) = self.first_hook(facts, pkt, ts, ck, Hook::Prerouting, expected) {
            return fate;
        }
        let route = self.host.input_route(facts.src, facts.dst);
        match route {
            InputRoute::Drop(why) => {
                self.drop_conn();
                let mut f = Fate::not_reached(expected, None, self.conn);
                f.note = Some(format!("dropped by routing: {why}"));
                f
            }
            InputRoute::Local => self.input(facts, dev, Hook::Input),
            InputRoute::Forward { dev: out } => {
                if facts.ttl <= 1 {
                    // ip_forward: "too many hops", ICMP time exceeded, before FORWARD.
                    self.drop_conn();
                    let mut f = Fate::not_reached(Hook::Forward, None, self.conn);
                    f.note = Some("TTL expired in forwarding".into());
                    return f;
                }
                let host: &'a Host = self.host;
                let out = host
                    .interfaces
                    .iter()
                    .find(|i| i.name == out)
                    .map_or("eth0", |i| i.name.as_str());
                self.forward(facts, dev, out)
            }
        }
    }

    /// INPUT: mangle, filter, security, nat (SNAT), then confirm.
    fn input<'p>(&mut self, facts: &mut Facts<'p>, dev: &'p str, hook: Hook) -> Fate {
        facts.in_iface = dev;
        facts.out_iface = "";
        if let Some(s) = self
            .table(TableKind::Mangle, hook, facts)
            .filter(|s| s.verdict != TableVerdict::Accept)
        {
            return self.dropped_before_filter(s, hook);
        }
        let mut fate = self.filter(facts, hook);
        fate.iface = Ifaces {
            input: Some(dev.into()),
            output: None,
        };
        if fate.verdict == Verdict::Accept && self.nat_hook(facts, hook).is_err() {
            self.drop_conn();
            return fate;
        }
        if fate.verdict == Verdict::Accept && fate.fate.is_none() {
            if let Err(why) = self.help(facts) {
                self.drop_conn();
                fate.fate = Some(Verdict::Drop);
                fate.note = Some(format!("dropped by the conntrack helper: {why}"));
                return fate;
            }
        }
        if fate.verdict == Verdict::Accept {
            self.confirm();
        } else {
            self.drop_conn();
        }
        fate
    }

    /// filter then security at `hook`; the filter verdict is the record's.
    fn filter(&mut self, facts: &mut Facts, hook: Hook) -> Fate {
        // The header texts are only for display: verdict-only records skip them.
        if !self.flight.filtered && !self.tables.verdicts_only {
            self.flight.filtered = true;
            let f = &self.flight;
            self.flight.at_filter = nat::changed_header(facts, &f.quote, f.original, &f.summary);
        }
        let step = self.table(TableKind::Filter, hook, facts);
        let (verdict, rule, reject) = match step {
            None => (Verdict::Accept, None, None),
            Some(s) => match (s.verdict, s.reject) {
                (TableVerdict::Accept, _) => (Verdict::Accept, s.rule, None),
                (_, Some(r)) => (Verdict::Reject, s.rule, Some(r)),
                _ => (Verdict::Drop, s.rule, None),
            },
        };
        let mut fate = Fate {
            verdict,
            hook: Some(hook),
            rule,
            reject,
            ct: self.conn,
            iface: Ifaces::default(),
            hooks: Vec::new(),
            fate: None,
            note: None,
        };
        if verdict == Verdict::Accept {
            if let Some(s) = self.table(TableKind::Security, hook, facts) {
                if s.verdict != TableVerdict::Accept {
                    // The oracle's ACCEPT means "reached security": keep it, note the drop.
                    fate.note = Some(format!(
                        "dropped in the security table ({})",
                        s.rule.unwrap_or_else(|| "policy".into())
                    ));
                    fate.fate = Some(Verdict::Drop);
                }
            }
        }
        fate
    }

    /// FORWARD then POSTROUTING.
    fn forward<'p>(&mut self, facts: &mut Facts<'p>, in_dev: &'p str, out_dev: &'p str) -> Fate {
        facts.in_iface = in_dev;
        facts.out_iface = out_dev;
        // ip_forward() decrements the TTL (ip_decrease_ttl) before NF_INET_FORWARD: FORWARD
        // and POSTROUTING see it one lower (LOG's TTL= in testdata/kernel_log shows it).
        facts.ttl = facts.ttl.saturating_sub(1);
        if let Some(s) = self
            .table(TableKind::Mangle, Hook::Forward, facts)
            .filter(|s| s.verdict != TableVerdict::Accept)
        {
            return self.dropped_before_filter(s, Hook::Forward);
        }
        let mut fate = self.filter(facts, Hook::Forward);
        fate.iface = Ifaces {
            input: Some(in_dev.into()),
            output: Some(out_dev.into()),
        };
        if fate.verdict != Verdict::Accept || fate.fate.is_some() {
            self.drop_conn();
            return fate;
        }
        self.postrouting(facts);
        self.note_helper_drop(&mut fate);
        fate
    }

    /// Records a drop by a helper at POSTROUTING on the packet's fate.
    fn note_helper_drop(&mut self, fate: &mut Fate) {
        if let Some(why) = self.helper_drop.take() {
            fate.fate = Some(Verdict::Drop);
            fate.note = Some(format!("dropped by the conntrack helper: {why}"));
        }
    }

    /// POSTROUTING: mangle, nat (SNAT), confirm.
    fn postrouting(&mut self, facts: &mut Facts) -> bool {
        facts.hook = Hook::Postrouting;
        // ip_output() passes skb->dev as the hook's `in`: a forwarded packet keeps its input
        // device (LOG prints IN= and MAC= in POSTROUTING too, kernel-checked), a local one
        // has none.
        let mangle_ok = self
            .table(TableKind::Mangle, Hook::Postrouting, facts)
            .is_none_or(|s| s.verdict == TableVerdict::Accept);
        let nat_ok = mangle_ok && self.nat_hook(facts, Hook::Postrouting).is_ok();
        if mangle_ok && nat_ok {
            if let Err(why) = self.help(facts) {
                self.helper_drop = Some(why);
                self.drop_conn();
                return false;
            }
            if self.flight.egress.is_none() && !self.tables.verdicts_only {
                let f = &self.flight;
                self.flight.egress = nat::changed_header(facts, &f.quote, f.original, &f.summary);
            }
            self.confirm();
            true
        } else {
            self.drop_conn();
            false
        }
    }

    /// OUTPUT → POSTROUTING, and for local destinations back in through lo.
    fn local_out<'p>(
        &mut self,
        facts: &mut Facts<'p>,
        pkt: &Packet,
        ts: u64,
        ck: bool,
        dev: &'p str,
        expected: Hook,
    ) -> Fate
    where
        'a: 'p,
    {
        facts.in_iface = "";
        facts.out_iface = dev;
        let dst_before = facts.dst;
        if let Some(fate) = self.first_hook(facts, pkt, ts, ck, Hook::Output, expected) {
            return fate;
        }
        // ip_route_me_harder: a destination changed in OUTPUT is routed again.
        let host: &'a Host = self.host;
        let dev = if facts.dst == dst_before {
            dev
        } else {
            host.route(facts.dst).unwrap_or("eth0")
        };
        facts.out_iface = dev;
        let mut fate = self.filter(facts, Hook::Output);
        fate.iface = Ifaces {
            input: None,
            output: Some(dev.into()),
        };
        if fate.verdict != Verdict::Accept || fate.fate.is_some() {
            self.drop_conn();
            return fate;
        }
        let out_ok = self.postrouting(facts);
        self.note_helper_drop(&mut fate);
        if dev != "lo" || !out_ok {
            return fate;
        }
        // Through lo: PREROUTING (conntrack already attached), then INPUT.
        let mut first = HookPass {
            hook: "OUTPUT",
            verdict: fate.verdict,
            input: None,
            output: Some("lo".into()),
        };
        first.verdict = fate.verdict;
        facts.in_iface = "lo";
        facts.out_iface = "";
        facts.mac_header = self.host.mac_header("lo", None);
        let mut second_verdict = Verdict::NotReached;
        let pre_ok = [TableKind::Raw, TableKind::Mangle].into_iter().all(|k| {
            self.table(k, Hook::Prerouting, facts)
                .is_none_or(|s| s.verdict == TableVerdict::Accept)
        });
        if pre_ok {
            self.conn = self.conn.map(|mut v| {
                v.unconfirmed = false;
                v
            });
            let input = self.input(facts, "lo", Hook::Input);
            second_verdict = input.verdict;
        }
        fate.hooks = vec![
            first,
            HookPass {
                hook: "INPUT",
                verdict: second_verdict,
                input: Some("lo".into()),
                output: None,
            },
        ];
        fate.fate = Some(second_verdict);
        fate.rule = None;
        fate
    }
}

/// A TRACE line as `trace_packet()` in ip_tables.c words it. The kernel
/// calls an unconditional standard-verdict rule "policy" in a built-in chain
/// and "return" in a user chain (`get_chainname_rulenum`), and numbers the
/// implicit tail entry one past the last rule.
/// `table/CHAIN/N` of the rule at `p` (N 1-based, as `iptables -L --line-numbers`).
fn rule_name(table: &crate::ir::Table, p: super::walk::RulePos) -> String {
    let chain = table.chains.get(p.chain).map_or("?", |c| c.name.as_str());
    format!("{}/{chain}/{}", table.kind.name(), p.rule + 1)
}

/// `table/CHAIN/N` of every rule of `table`, per chain.
fn rule_names(table: &crate::ir::Table) -> Vec<Vec<RuleName>> {
    let kind = table.kind.name();
    table
        .chains
        .iter()
        .map(|c| {
            (1..=c.rules.len())
                .map(|n| RuleName::from(format!("{kind}/{}/{n}", c.name)))
                .collect()
        })
        .collect()
}

fn trace_line(table: &crate::ir::Table, hook: Hook, step: TraceStep) -> String {
    let (chain, comment, num) = match step {
        TraceStep::Rule { chain, num } => {
            let c = &table.chains[chain];
            let r = &c.rules[num - 1];
            // The kernel's `unconditional()`: no header condition and no match
            // at all (a comment is a match).
            let unconditional = r.src.is_any()
                && !r.src_inv
                && r.dst.is_any()
                && !r.dst_inv
                && r.in_iface.is_any()
                && r.out_iface.is_any()
                && r.proto == 0
                && !r.proto_inv
                && !r.frag
                && r.matches.is_empty();
            let tail_like = unconditional && matches!(r.target, crate::ir::RuleTarget::Verdict(_));
            let comment = match (tail_like, c.is_builtin()) {
                (true, true) => "policy",
                (true, false) => "return",
                _ => "rule",
            };
            (chain, comment, num)
        }
        TraceStep::Return { chain } => (chain, "return", table.chains[chain].rules.len() + 1),
        TraceStep::Policy { chain } => (chain, "policy", table.chains[chain].rules.len() + 1),
    };
    let _ = hook;
    format!(
        "{}:{}:{}:{}",
        table.name(),
        table.chains[chain].name,
        comment,
        num
    )
}

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

fn dir_name(d: Dir) -> &'static str {
    match d {
        Dir::Original => "ORIGINAL",
        Dir::Reply => "REPLY",
    }
}

/// The conntrack facts matches see.
fn ct_facts(v: &conntrack::Verdict, table: &conntrack::Table, now: u64) -> CtFacts {
    let bit = match v.state {
        CtState::New => state::NEW,
        CtState::Established => state::ESTABLISHED,
        CtState::Related => state::RELATED,
        CtState::Invalid => state::INVALID,
        CtState::Untracked => state::UNTRACKED,
    };
    let mut f = CtFacts {
        state: bit,
        reply: v.dir == Some(Dir::Reply),
        ..CtFacts::default()
    };
    if let Some(conn) = v.conn.and_then(|id| table.get(id)) {
        let status = conn.status;
        f.status = status.0;
        f.snat = status.has(conntrack::Status::SRC_NAT);
        f.dnat = status.has(conntrack::Status::DST_NAT);
        f.proto = conn.tuple(Dir::Original).proto;
        f.orig = tuple_facts(conn.tuple(Dir::Original));
        f.repl = tuple_facts(conn.tuple(Dir::Reply));
        f.expires =
            u32::try_from(conn.expires_ns.saturating_sub(now) / 1_000_000_000).unwrap_or(u32::MAX);
        f.mark = conn.mark;
        f.helper = conn.helper.map_or("", conntrack::HelperKind::name);
        if let Some(m) = conn.master {
            f.has_master = true;
            f.master_helper = table
                .get(m)
                .and_then(|c| c.helper)
                .map_or("", conntrack::HelperKind::name);
        }
    }
    f
}

/// (src, dst, sport, dport) of a tuple, for `--ctorig*`/`--ctrepl*`.
fn tuple_facts(t: &conntrack::Tuple) -> (u32, u32, u16, u16) {
    let v4 = |a: std::net::IpAddr| match a {
        std::net::IpAddr::V4(a) => u32::from(a),
        std::net::IpAddr::V6(_) => 0,
    };
    let (sp, dp) = match t.l4 {
        conntrack::L4Key::Ports { src, dst } => (src, dst),
        _ => (0, 0),
    };
    (v4(t.src), v4(t.dst), sp, dp)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_the_formatted_ones() {
        let l = crate::ir::load(&crate::source::SourceFile::new(
            "t",
            "*filter\n:in - [0:0]\n-A in -j ACCEPT\nCOMMIT\n",
        ));
        let table = &l.ruleset.tables[0];
        let names = rule_names(table);
        let chain = table.chain_index("in").unwrap_or(usize::MAX);
        let p = super::super::walk::RulePos { chain, rule: 0 };
        assert_eq!(&*names[chain][0], "filter/in/1");
        assert_eq!(&*names[chain][0], rule_name(table, p));
    }
}
