//! The tables of a ruleset as one replay runs them: counters, the walk's precomputed
//! indexes, the name of every rule, and one table walk at a hook ([`Tables::run`]).

use crate::conntrack;
use crate::eval::header::PacketHead;
use crate::eval::judge::Judge;
use crate::eval::outcome::RuleName;
use crate::eval::reads::Reads;
use crate::eval::state::Conns;
use crate::eval::walk::{
    walk_into, Fast, Prepared, RulePos, TableCounters, TableVerdict, TraceStep, WalkBuf,
};
use crate::ext::facts::{Facts, NatRequest};
use crate::ext::state::Store;
use crate::ext::targets::reject::RejectWith;
use crate::ir::{Hook, Ruleset, TableKind};
use std::borrow::Cow;

use super::Flight;

/// A table's rule names, per chain and rule.
pub(super) type TableNames = Vec<Vec<RuleName>>;

/// The ruleset's tables with their counters.
pub(super) struct Tables<'r> {
    pub(super) rs: &'r Ruleset,
    pub(super) counters: Vec<TableCounters>,
    /// Parallel to `rs.tables`: what the walk precomputes of each (its own, or
    /// lent by a sharded replay: see [`super::Compiling`]).
    pub(super) prepared: Cow<'r, [Prepared]>,
    /// Parallel to `rs.tables`, per chain and rule: `table/CHAIN/N`, the name a
    /// record gives its deciding rule, made once so a packet shares it instead
    /// of formatting (and allocating) it.
    pub(super) names: Cow<'r, [TableNames]>,
    pub(super) walk_buf: WalkBuf,
    pub(super) trace: bool,
    /// Recorded table walks, when explaining (`iptwalk trace`).
    pub(super) walks: Option<Vec<crate::eval::explain::TableWalk>>,
    /// Stateful matches' memory (limit buckets, recent lists, ...).
    pub(super) memory: Store,
    pub(super) verdicts_only: bool,
    pub(super) log: bool,
    /// What this packet's walks read beyond its flow, over all tables.
    pub(super) reads: Reads,
    /// The counters this packet's walks bumped, in order, when the
    /// established-flow lane wants to learn them (`learning`, see [`super::lane`]);
    /// kept between packets so collecting them allocates nothing.
    pub(super) bumps: Vec<Bump>,
    pub(super) learning: bool,
    /// Per table kind and hook ([`TableKind`] and [`Hook`] as `usize`): the index of the
    /// table that has the hook's built-in chain, found once instead of per packet.
    pub(super) at: Placement,
}

/// Which table (its index in the ruleset) runs at each hook, per kind; `None` where the
/// ruleset has no such table or the table no chain for the hook (the kernel registers a
/// table's hook functions only for its built-in chains, `xt_hook_ops_alloc`).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Placement {
    at: [[Option<u8>; 5]; 5],
    nat: bool,
}

impl Placement {
    pub(super) fn new(rs: &Ruleset, prepared: &[Prepared]) -> Placement {
        let mut p = Placement::default();
        for kind in TableKind::ALL {
            // The first table of a kind is the one that runs (as `Iterator::position` found it).
            let Some(ti) = rs.tables.iter().position(|t| t.kind == kind) else {
                continue;
            };
            p.nat |= kind == TableKind::Nat;
            for hook in Hook::ALL {
                let base = match prepared.get(ti) {
                    Some(pr) => pr.base(hook),
                    None => rs.tables[ti].chain_index(hook.chain_name()),
                };
                p.at[kind as usize][hook as usize] = base.and_then(|_| u8::try_from(ti).ok());
            }
        }
        p
    }

    /// The index of the `kind` table when it has a chain at `hook`.
    #[inline]
    pub(super) fn get(&self, kind: TableKind, hook: Hook) -> Option<usize> {
        self.at[kind as usize][hook as usize].map(usize::from)
    }
}

/// One counter a walk bumped: a rule's, or the policy's of a built-in chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Bump {
    pub(super) table: u16,
    pub(super) chain: u32,
    /// The rule's index; `None`: the chain's policy.
    pub(super) rule: Option<u32>,
}

/// What one table walk decided.
pub(super) struct Step {
    pub(super) verdict: TableVerdict,
    /// A new connection mark set by CONNMARK.
    pub(super) ct_mark: Option<u32>,
    /// `table/CHAIN/N` of the deciding rule.
    pub(super) rule: Option<RuleName>,
    pub(super) reject: Option<RejectWith>,
    /// What a NAT target asked for.
    pub(super) nat: Option<NatRequest>,
}

/// NAT dropped the packet (`NF_DROP` from `nf_nat_inet_fn`); `rule` is the nat rule whose
/// target asked for it.
pub(super) fn nat_drop(rule: Option<RuleName>) -> Step {
    Step {
        verdict: TableVerdict::Drop,
        ct_mark: None,
        rule,
        reject: None,
        nat: None,
    }
}

impl<'r> Tables<'r> {
    /// Walks `kind` at `hook`; `None` when the ruleset has no such table
    /// (it then lets everything through).
    pub(super) fn run(
        &mut self,
        kind: TableKind,
        hook: Hook,
        facts: &mut Facts,
        flight: &mut Flight,
        conns: &Conns,
    ) -> Option<Step> {
        let ti = self.at.get(kind, hook)?;
        let table = &self.rs.tables[ti];
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
            walks.push(crate::eval::explain::TableWalk {
                table: kind,
                hook,
                events,
                verdict,
                decided_by,
            });
        }
        self.reads |= self.walk_buf.reads;
        if self.learning {
            let trace = &self.walk_buf.trace;
            self.bumps.extend(trace.iter().filter_map(|s| bump(ti, *s)));
        }
        // The matched rules' names and TRACE lines; a verdicts-only replay
        // without TRACE keeps neither, and skips the loop.
        if !self.verdicts_only || self.trace {
            for step in &self.walk_buf.trace {
                if let (TraceStep::Rule { chain, num }, false) = (step, self.verdicts_only) {
                    let rule = num.saturating_sub(1);
                    flight.matched.push(shared_name(
                        &self.names,
                        self.rs,
                        ti,
                        RulePos {
                            chain: *chain,
                            rule,
                        },
                    ));
                }
                if self.trace {
                    flight.trace.push(trace_line(table, hook, *step));
                }
            }
        }
        if !judge.depends_on.is_empty() {
            self.reads |= Reads::OPAQUE;
            for d in judge.depends_on.drain(..) {
                if !flight.depends_on.contains(&d) {
                    flight.depends_on.push(d);
                }
            }
        }
        // What the targets did, read in place: most walks ran none.
        let fx = &mut judge.effects;
        if !fx.log.is_empty() {
            flight.log.append(&mut fx.log);
        }
        if fx.notrack {
            flight.notrack = true;
        }
        if let Some(h) = fx.helper.and_then(conntrack::HelperKind::from_name) {
            flight.template.helper = Some(h);
        }
        let rule = decided_by.map(|p| shared_name(&self.names, self.rs, ti, p));
        Some(Step {
            verdict,
            ct_mark: fx.ct_mark,
            rule,
            reject: fx.reject,
            nat: fx.nat.take(),
        })
    }

    /// The nat table exists: only then are the NAT hooks registered (iptable_nat).
    pub(super) fn has_nat(&self) -> bool {
        self.at.nat
    }
}

/// The counter a TRACE step bumped (a RETURN bumps none).
fn bump(table: usize, step: TraceStep) -> Option<Bump> {
    let table = u16::try_from(table).ok()?;
    match step {
        TraceStep::Rule { chain, num } => Some(Bump {
            table,
            chain: u32::try_from(chain).ok()?,
            rule: Some(u32::try_from(num.checked_sub(1)?).ok()?),
        }),
        TraceStep::Policy { chain } => Some(Bump {
            table,
            chain: u32::try_from(chain).ok()?,
            rule: None,
        }),
        TraceStep::Return { .. } => None,
    }
}

impl Tables<'_> {
    /// Before a packet's full path: nothing read yet, and its bumps collected
    /// when the lane will learn from it.
    pub(super) fn start_packet(&mut self, learning: bool) {
        self.reads = Reads::FLOW;
        self.bumps.clear();
        self.learning = learning;
    }

    /// The counters with the lane's packets added: `unbumped` gives the counters each
    /// learned walk bumped, with the packets and bytes that replayed it since
    /// ([`super::learned::Learned::unbumped`]). Each bump of a walk adds them once, as
    /// the walk bumped it once per packet.
    pub(super) fn counters_with<'a>(
        &self,
        unbumped: impl Iterator<Item = (&'a [Bump], (u64, u64))>,
    ) -> Vec<TableCounters> {
        let mut counters = self.counters.clone();
        for (bumps, (packets, bytes)) in unbumped {
            for b in bumps {
                let Some(t) = counters.get_mut(usize::from(b.table)) else {
                    continue;
                };
                let c = match b.rule {
                    Some(r) => t
                        .rules
                        .get_mut(b.chain as usize)
                        .and_then(|c| c.get_mut(r as usize)),
                    None => t.policy.get_mut(b.chain as usize),
                };
                if let Some(c) = c {
                    c.0 += packets;
                    c.1 += bytes;
                }
            }
        }
        counters
    }
}

/// `table/CHAIN/N` of the rule at `p` (N 1-based, as `iptables -L --line-numbers`).
pub(super) fn rule_name(table: &crate::ir::Table, p: RulePos) -> String {
    let chain = table.chains.get(p.chain).map_or("?", |c| c.name.as_str());
    format!("{}/{chain}/{}", table.kind.name(), p.rule + 1)
}

/// The shared name of the rule at `p` in table `ti` (made once by [`rule_names`]).
fn shared_name(names: &[Vec<Vec<RuleName>>], rs: &Ruleset, ti: usize, p: RulePos) -> RuleName {
    let named = names.get(ti).and_then(|t| t.get(p.chain)?.get(p.rule));
    match (named, rs.tables.get(ti)) {
        (Some(n), _) => n.clone(),
        (None, Some(table)) => RuleName::from(rule_name(table, p)),
        (None, None) => RuleName::from("?"),
    }
}

/// `table/CHAIN/N` of every rule of `table`, per chain.
pub(super) fn rule_names(table: &crate::ir::Table) -> Vec<Vec<RuleName>> {
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

/// A TRACE line as `trace_packet()` in ip_tables.c words it. The kernel
/// calls an unconditional standard-verdict rule "policy" in a built-in chain
/// and "return" in a user chain (`get_chainname_rulenum`), and numbers the
/// implicit tail entry one past the last rule.
fn trace_line(table: &crate::ir::Table, hook: Hook, step: TraceStep) -> String {
    let (chain, comment, num) = match step {
        TraceStep::Rule { chain, num } => {
            let c = &table.chains[chain];
            let r = &c.rules[num - 1];
            // The kernel's `unconditional()`: no header condition and no match
            // at all (a comment is a match).
            let unconditional = r.header_is_any() && r.matches.is_empty();
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
        let p = crate::eval::walk::RulePos { chain, rule: 0 };
        assert_eq!(&*names[chain][0], "filter/in/1");
        assert_eq!(&*names[chain][0], rule_name(table, p));
    }
}
