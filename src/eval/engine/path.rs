//! One packet's path through the hooks ([`Run`]): PREROUTING, routing, INPUT or FORWARD,
//! POSTROUTING, or OUTPUT for what the host sends; conntrack, NAT and the helpers at their
//! places between the tables.

use crate::conntrack::{self, CtState, Dir, PacketInfo};
use crate::eval::host::{Host, InputRoute};
use crate::eval::host_index::HostIndex;
use crate::eval::nat;
use crate::eval::outcome::{HookPass, Ifaces, Verdict};
use crate::eval::state::{accounted, Conns};
use crate::eval::view::ct_info;
use crate::eval::walk::TableVerdict;
use crate::ext::facts::{CtFacts, Facts, L4Facts};
use crate::ext::matches::state;
use crate::ext::targets::reject::RejectWith;
use crate::ir::{Hook, TableKind};
use crate::packet::Packet;

use super::tables::{nat_drop, Step, Tables};
use super::{Fate, Flight};

/// One packet's pass through the hooks, with the state it carries.
pub(super) struct Run<'a, 'r> {
    pub(super) tables: &'a mut Tables<'r>,
    pub(super) host: &'a Host,
    /// `host`'s routes, indexed.
    pub(super) places: &'a HostIndex,
    pub(super) ct: &'a mut conntrack::Table,
    pub(super) flight: &'a mut Flight,
    /// The conntrack verdict at the conntrack hook (`None` before it, or when
    /// the packet is untracked).
    pub(super) conn: Option<conntrack::Verdict>,
    /// A conntrack helper dropped the packet at POSTROUTING (its log message).
    pub(super) helper_drop: Option<&'static str>,
}

impl<'a> Run<'a, '_> {
    /// Walks the `kind` table at `hook`; `None` when there is none there.
    #[inline]
    fn table(&mut self, kind: TableKind, hook: Hook, facts: &mut Facts) -> Option<Step> {
        // Most rulesets have a table or two: a hook without one costs one look-up.
        self.tables.at.get(kind, hook)?;
        self.walk_table(kind, hook, facts)
    }

    #[inline(never)]
    fn walk_table(&mut self, kind: TableKind, hook: Hook, facts: &mut Facts) -> Option<Step> {
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
        let v = match self.flight.pretracked.take() {
            Some(v) => v,
            None => {
                let info: PacketInfo = ct_info(pkt, ts, hook, checksum_ok);
                self.ct.process_with(&info, &self.flight.template)
            }
        };
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
    #[inline]
    fn nat_hook(&mut self, facts: &mut Facts, hook: Hook) -> Result<(), Step> {
        // Without a nat table no NAT hook is registered: checked inline, as
        // most rulesets have none.
        if !self.tables.has_nat() {
            return Ok(());
        }
        self.nat_hook_registered(facts, hook)
    }

    /// [`Self::nat_hook`] when the nat table exists.
    #[inline(never)]
    fn nat_hook_registered(&mut self, facts: &mut Facts, hook: Hook) -> Result<(), Step> {
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
    pub(super) fn wire_in<'p>(
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
        let (host, places): (&'a Host, &'a HostIndex) = (self.host, self.places);
        let route = host.input_route_with(facts.src, facts.dst, |d| places.route(host, d));
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
    pub(super) fn local_out<'p>(
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
            self.places.route(host, facts.dst).unwrap_or("eth0")
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
