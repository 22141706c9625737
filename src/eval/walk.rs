//! The chain walk of one table at one hook, as `ipt_do_table()` in
//! net/ipv4/netfilter/ip_tables.c does it.
//!
//! A flat loop over (chain, rule) positions with an explicit jump stack:
//! - a rule whose header and matches all match gets its counters bumped
//!   (`ADD_COUNTER` happens only on a full match, before the target runs);
//! - `-j CHAIN` pushes the return position, `-g CHAIN` does not;
//! - falling off a user chain, or RETURN, pops the stack; at depth 0 (or
//!   RETURN/fall-through in a built-in chain) the built-in chain's policy
//!   decides and the policy counters are bumped, as the kernel's underflow
//!   entry is counted;
//! - a target extension that returns XT_CONTINUE goes on with the next rule.
//!
//! What a match or a target means is not decided here: the caller's
//! [`RuleJudge`] says whether a rule matches and what a target does, so the
//! walk is shared by replay, `trace` and tests.

use super::classify::{Candidates, ChainIndex};
use super::header::{Head, PacketHead};
use super::reads::Reads;
use crate::ext::Target;
use crate::ir::{Hook, Policy, Rule, RuleTarget, Table, Verdict};

/// What a target extension tells the walk (`NF_*` / `XT_CONTINUE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetVerdict {
    Continue,
    Accept,
    Drop,
    Queue,
    /// The packet was consumed (e.g. REJECT sends a reply and drops: NF_DROP;
    /// this is for targets that steal it).
    Stolen,
}

/// How the walk asks about rules.
pub trait RuleJudge {
    /// Does the rule (its `ipt_ip` header and every match) match the packet?
    fn matches(&mut self, rule: &Rule) -> bool;
    /// [`RuleJudge::matches`] for a rule whose [`Head`] admitted the packet
    /// (addresses, protocol, fragment: what [`Head::admits`] tests, exactly as the
    /// header test does); `ifaces`: the rule also tests an interface.
    fn matches_admitted(&mut self, rule: &Rule, ifaces: bool) -> bool {
        let _ = ifaces;
        self.matches(rule)
    }
    /// Runs a target extension on the packet.
    fn target(&mut self, rule: &Rule, target: &Target) -> TargetVerdict;
    /// A match asked to drop the packet on the spot (`par->hotdrop`).
    fn hotdrop(&self) -> bool {
        false
    }
    /// Told after every rule test, in walk order (for `iptwalk trace`).
    fn tested(&mut self, _pos: RulePos, _matched: bool) {}
    /// Told of every TRACE step as it happens (for `iptwalk trace`).
    fn stepped(&mut self, _step: TraceStep) {}
    /// Told where the next rule sits, before `matches` (stateful matches
    /// keep their memory per rule position).
    fn at(&mut self, _pos: RulePos) {}
}

/// The final verdict of the table for this packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableVerdict {
    Accept,
    Drop,
    Queue,
    Stolen,
}

/// Position of a rule: chain index in the table and 0-based rule index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RulePos {
    pub chain: usize,
    pub rule: usize,
}

/// One step as TRACE reports it (`nf_trace` comments: "rule", "return", "policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceStep {
    /// A rule matched (1-based number as `iptables -L --line-numbers`).
    Rule { chain: usize, num: usize },
    /// Fell off (or RETURNed from) a user chain back to its caller.
    Return { chain: usize },
    /// The built-in chain's policy decided.
    Policy { chain: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkOutcome {
    pub verdict: TableVerdict,
    /// The rule whose target gave the verdict; `None` when the policy did.
    pub decided_by: Option<RulePos>,
    pub trace: Vec<TraceStep>,
}

/// Packet and byte counters of a table, parallel to its chains and rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableCounters {
    /// Per chain: (policy packets, policy bytes), then one pair per rule.
    pub policy: Vec<(u64, u64)>,
    pub rules: Vec<Vec<(u64, u64)>>,
}

impl TableCounters {
    pub fn for_table(t: &Table) -> TableCounters {
        TableCounters {
            policy: vec![(0, 0); t.chains.len()],
            rules: t
                .chains
                .iter()
                .map(|c| vec![(0, 0); c.rules.len()])
                .collect(),
        }
    }

    /// Adds `other`'s counts (the same table's, of another engine) to these.
    pub fn add(&mut self, other: &TableCounters) {
        let pairs = |a: &mut [(u64, u64)], b: &[(u64, u64)]| {
            for (x, y) in a.iter_mut().zip(b) {
                x.0 += y.0;
                x.1 += y.1;
            }
        };
        pairs(&mut self.policy, &other.policy);
        for (a, b) in self.rules.iter_mut().zip(&other.rules) {
            pairs(a, b);
        }
    }
}

/// A table indexed once for fast walks: every rule's packed [`Head`] (in chain
/// order, chains one after another), the chain each `-j`/`-g` names, and the
/// built-in chain of each hook. The walk then skips runs of rules whose
/// header fails by scanning a dense array, and never looks a chain up by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prepared {
    /// Per chain, the index of its first rule in `heads` and `jumps`, and one
    /// past the last chain's end.
    start: Vec<usize>,
    heads: Vec<Head>,
    jumps: Vec<Option<usize>>,
    base: [Option<usize>; 5],
    /// Per chain, its rules by the (protocol, dport) they pin (long chains).
    index: Vec<Option<ChainIndex>>,
    /// Parallel to `heads`: what testing each rule reads beyond the flow.
    reads: Vec<Reads>,
}

impl Prepared {
    pub fn new(table: &Table) -> Prepared {
        let mut p = Prepared::default();
        for chain in &table.chains {
            p.start.push(p.heads.len());
            for rule in &chain.rules {
                p.heads.push(Head::of(rule));
                p.reads.push(super::reads::of_rule(rule));
                p.jumps.push(match &rule.target {
                    RuleTarget::Jump(name) | RuleTarget::Goto(name) => table.chain_index(name),
                    _ => None,
                });
            }
        }
        p.start.push(p.heads.len());
        p.index = (0..table.chains.len())
            .map(|c| {
                let (s, e) = p.span(c)?;
                ChainIndex::new(p.heads.get(s..e)?)
            })
            .collect();
        for hook in Hook::ALL {
            p.base[hook as usize] = table.chain_index(hook.chain_name());
        }
        p
    }

    /// The built-in chain of `hook`, if the table has it.
    pub fn base(&self, hook: Hook) -> Option<usize> {
        self.base.get(hook as usize).copied().flatten()
    }

    fn span(&self, chain: usize) -> Option<(usize, usize)> {
        Some((*self.start.get(chain)?, *self.start.get(chain + 1)?))
    }

    /// What a walk through `chain` needs of it for the packet `p`: its rules'
    /// heads, reads and jumps, and the candidates its index gives (looked up
    /// once per visit of the chain, not per rule).
    fn view(&self, chain: usize, p: &PacketHead) -> ChainView<'_> {
        let (s, e) = self.span(chain).unwrap_or((0, 0));
        let cands = match self.index.get(chain) {
            Some(Some(ix)) => ix.candidates(p).unwrap_or(Candidates::Scan),
            _ => Candidates::Scan,
        };
        ChainView {
            chain,
            heads: self.heads.get(s..e).unwrap_or(&[]),
            reads: self.reads.get(s..e).unwrap_or(&[]),
            jumps: self.jumps.get(s..e).unwrap_or(&[]),
            cands,
        }
    }
}

/// One chain of a [`Prepared`] table as a walk sees it for one packet.
#[derive(Debug, Clone, Copy)]
struct ChainView<'a> {
    chain: usize,
    heads: &'a [Head],
    reads: &'a [Reads],
    jumps: &'a [Option<usize>],
    cands: Candidates<'a>,
}

impl ChainView<'_> {
    /// What testing rule `rule` reads beyond the flow.
    fn reads(&self, rule: usize) -> Reads {
        self.reads.get(rule).copied().unwrap_or(Reads::OPAQUE)
    }

    /// Whether rule `rule` tests an interface (see [`Head::tests_ifaces`]).
    fn tests_ifaces(&self, rule: usize) -> bool {
        self.heads.get(rule).is_none_or(Head::tests_ifaces)
    }

    /// The chain rule `rule` jumps or goes to.
    fn jump(&self, rule: usize) -> Option<usize> {
        self.jumps.get(rule).copied().flatten()
    }

    /// The first rule at or after `from` whose header may admit the packet
    /// (the chain's length when none does).
    fn first_candidate(&self, from: usize, p: &PacketHead) -> usize {
        self.cands.first(self.heads, from, p)
    }
}

/// The kernel bounds the jump stack (`private->stacksize`, the deepest call
/// chain); a loop is refused at load time, so this only guards bad input.
const MAX_DEPTH: usize = 1024;

/// Walks `table` from the built-in chain of `hook`.
pub fn walk(
    table: &Table,
    hook: Hook,
    judge: &mut impl RuleJudge,
    counters: &mut TableCounters,
    bytes: u64,
) -> WalkOutcome {
    let mut buf = WalkBuf::default();
    let (verdict, decided_by) = walk_into(table, None, hook, judge, counters, bytes, &mut buf);
    WalkOutcome {
        verdict,
        decided_by,
        trace: buf.trace,
    }
}

/// What the walk keeps between packets so a walk allocates nothing: the
/// trace steps of the last walk (cleared at its start) and the jump stack;
/// and what the last walk read of the packet beyond its flow (known only for
/// walks with a [`Fast`] index, else [`Reads::OPAQUE`]).
#[derive(Debug, Default)]
pub struct WalkBuf {
    pub trace: Vec<TraceStep>,
    stack: Vec<RulePos>,
    pub reads: Reads,
}

/// A table's [`Prepared`] index with the header fields of the packet it
/// filters by.
#[derive(Debug, Clone, Copy)]
pub struct Fast<'a> {
    pub prepared: &'a Prepared,
    pub head: PacketHead,
}

/// [`walk`] with the trace in a caller-owned buffer and, when `fast` is
/// given, rules whose address/protocol/fragment test fails skipped without
/// asking the judge (the judge would say no: it applies the same test).
pub fn walk_into(
    table: &Table,
    fast: Option<Fast>,
    hook: Hook,
    judge: &mut impl RuleJudge,
    counters: &mut TableCounters,
    bytes: u64,
    buf: &mut WalkBuf,
) -> (TableVerdict, Option<RulePos>) {
    buf.trace.clear();
    buf.stack.clear();
    buf.reads = if fast.is_some() {
        Reads::FLOW
    } else {
        Reads::OPAQUE
    };
    let base = match fast {
        Some(f) => f.prepared.base(hook),
        None => table.chain_index(hook.chain_name()),
    };
    let Some(base) = base else {
        // A table not on this hook lets everything through.
        return (TableVerdict::Accept, None);
    };
    let (trace, stack) = (&mut buf.trace, &mut buf.stack);
    let mut pos = RulePos {
        chain: base,
        rule: 0,
    };
    // The chain being walked, with the packet's candidates in it.
    let mut view = fast.map(|f| f.prepared.view(base, &f.head));
    loop {
        if let (Some(f), Some(v)) = (fast, &mut view) {
            if v.chain != pos.chain {
                *v = f.prepared.view(pos.chain, &f.head);
            }
            pos.rule = v.first_candidate(pos.rule, &f.head);
        }
        let chain = &table.chains[pos.chain];
        let Some(rule) = chain.rules.get(pos.rule) else {
            // End of chain: the kernel's underflow (policy) or implicit RETURN.
            let end = return_or_policy(table, stack, base, pos.chain, counters, bytes, trace);
            if let Some(step) = trace.last() {
                judge.stepped(*step);
            }
            match end {
                Some(v) => return (v, None),
                None => {
                    pos = stack.pop().map_or(pos, |p| RulePos {
                        chain: p.chain,
                        rule: p.rule + 1,
                    });
                    continue;
                }
            }
        };
        judge.at(pos);
        if let Some(v) = &view {
            buf.reads |= v.reads(pos.rule);
        }
        // A candidate of the index passed `Head::may_match`, so `Head::admits`.
        let matched = match &view {
            Some(v) => judge.matches_admitted(rule, v.tests_ifaces(pos.rule)),
            None => judge.matches(rule),
        };
        judge.tested(pos, matched);
        if !matched {
            // ipt_do_table's loop ends on hotdrop with NF_DROP, no rule deciding.
            if judge.hotdrop() {
                buf.reads |= Reads::OPAQUE;
                return (TableVerdict::Drop, None);
            }
            pos.rule += 1;
            continue;
        }
        if let Some(c) = counters
            .rules
            .get_mut(pos.chain)
            .and_then(|r| r.get_mut(pos.rule))
        {
            c.0 += 1;
            c.1 += bytes;
        }
        let step = TraceStep::Rule {
            chain: pos.chain,
            num: pos.rule + 1,
        };
        trace.push(step);
        judge.stepped(step);
        let decided = Some(pos);
        match &rule.target {
            RuleTarget::None => pos.rule += 1,
            RuleTarget::Verdict(Verdict::Accept) => return (TableVerdict::Accept, decided),
            RuleTarget::Verdict(Verdict::Drop) => return (TableVerdict::Drop, decided),
            RuleTarget::Verdict(Verdict::Queue) => return (TableVerdict::Queue, decided),
            RuleTarget::Verdict(Verdict::Return) => {
                let end = return_or_policy(table, stack, base, pos.chain, counters, bytes, trace);
                if let Some(step) = trace.last() {
                    judge.stepped(*step);
                }
                match end {
                    Some(v) => return (v, None),
                    None => {
                        pos = stack.pop().map_or(pos, |p| RulePos {
                            chain: p.chain,
                            rule: p.rule + 1,
                        })
                    }
                }
            }
            RuleTarget::Jump(name) | RuleTarget::Goto(name) => {
                let target = match &view {
                    Some(v) => v.jump(pos.rule),
                    None => table.chain_index(name),
                };
                let Some(target) = target else {
                    pos.rule += 1; // cannot happen in a loaded table
                    continue;
                };
                if matches!(rule.target, RuleTarget::Jump(_)) {
                    if stack.len() >= MAX_DEPTH {
                        return (TableVerdict::Drop, decided);
                    }
                    stack.push(pos);
                }
                pos = RulePos {
                    chain: target,
                    rule: 0,
                };
            }
            RuleTarget::Ext(t) => {
                // Targets change the packet, its connection or memory.
                buf.reads |= Reads::OPAQUE;
                match judge.target(rule, t) {
                    TargetVerdict::Continue => pos.rule += 1,
                    TargetVerdict::Accept => return (TableVerdict::Accept, decided),
                    TargetVerdict::Drop => return (TableVerdict::Drop, decided),
                    TargetVerdict::Queue => return (TableVerdict::Queue, decided),
                    TargetVerdict::Stolen => return (TableVerdict::Stolen, decided),
                }
            }
        }
    }
}

/// At the end of `chain` (or on RETURN): back to the caller when there is
/// one (`None`), else the built-in chain's policy decides.
fn return_or_policy(
    table: &Table,
    stack: &mut [RulePos],
    base: usize,
    chain: usize,
    counters: &mut TableCounters,
    bytes: u64,
    trace: &mut Vec<TraceStep>,
) -> Option<TableVerdict> {
    if !stack.is_empty() {
        trace.push(TraceStep::Return { chain });
        return None;
    }
    // Depth 0: RETURN (or the end) of a user chain reached by -g from the
    // built-in chain also lands on the built-in chain's policy (the hook's
    // underflow entry), whichever chain we are in.
    let builtin = base;
    let _ = chain;
    if let Some(c) = counters.policy.get_mut(builtin) {
        c.0 += 1;
        c.1 += bytes;
    }
    trace.push(TraceStep::Policy { chain: builtin });
    Some(
        match table.chains[builtin].policy.unwrap_or(Policy::Accept) {
            Policy::Accept => TableVerdict::Accept,
            Policy::Drop => TableVerdict::Drop,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    /// Judges rules by their comment: a rule matches when its `-m comment`
    /// text is in `hits` (rules without a comment always match).
    struct ByComment(Vec<&'static str>);

    impl RuleJudge for ByComment {
        fn matches(&mut self, rule: &Rule) -> bool {
            rule.matches.iter().all(|m| match &m.m {
                crate::ext::Match::Comment(c) => self.0.contains(&c.text.as_str()),
                _ => true,
            })
        }
        fn target(&mut self, _: &Rule, _: &Target) -> TargetVerdict {
            TargetVerdict::Continue
        }
    }

    fn table(text: &str) -> Table {
        let f = SourceFile::new("t", text);
        let l = crate::ir::load(&f);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        l.ruleset.tables[0].clone()
    }

    const RULES: &str = "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:a - [0:0]\n:b - [0:0]\n\
-A INPUT -m comment --comment j -j a\n\
-A INPUT -m comment --comment g -g b\n\
-A INPUT -m comment --comment acc -j ACCEPT\n\
-A a -j LOG\n\
-A a -m comment --comment ret -j RETURN\n\
-A a -m comment --comment adrop -j DROP\n\
-A b -m comment --comment bacc -j ACCEPT\n\
COMMIT\n";

    fn run(hits: Vec<&'static str>) -> (WalkOutcome, TableCounters) {
        let t = table(RULES);
        let mut c = TableCounters::for_table(&t);
        let o = walk(&t, Hook::Input, &mut ByComment(hits), &mut c, 100);
        (o, c)
    }

    #[test]
    fn jump_return_continues_after_the_jump() {
        let (o, c) = run(vec!["j", "ret", "acc"]);
        assert_eq!(o.verdict, TableVerdict::Accept);
        assert_eq!(o.decided_by, Some(RulePos { chain: 0, rule: 2 }));
        // LOG (no comment) and RETURN were counted in chain a (index 3).
        assert_eq!(c.rules[3], vec![(1, 100), (1, 100), (0, 0)]);
    }

    #[test]
    fn goto_end_falls_to_the_policy() {
        let (o, c) = run(vec!["g"]);
        assert_eq!(o.verdict, TableVerdict::Drop);
        assert_eq!(o.decided_by, None);
        assert_eq!(c.policy[0], (1, 100));
        assert!(matches!(
            o.trace.last(),
            Some(TraceStep::Policy { chain: 0 })
        ));
    }

    #[test]
    fn nothing_matches_policy_counts() {
        let (o, c) = run(vec![]);
        assert_eq!(o.verdict, TableVerdict::Drop);
        assert_eq!(c.rules[0], vec![(0, 0); 3]);
        assert_eq!(c.policy[0], (1, 100));
    }

    #[test]
    fn user_chain_end_returns() {
        let (o, _) = run(vec!["j", "acc"]);
        // a: LOG matches, RETURN and DROP do not; falls off a, back to INPUT.
        assert_eq!(o.verdict, TableVerdict::Accept);
        assert!(o.trace.contains(&TraceStep::Return { chain: 3 }));
    }
}
