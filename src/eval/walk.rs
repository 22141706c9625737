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
    let mut trace = Vec::new();
    let Some(base) = table.chain_index(hook.chain_name()) else {
        // A table not on this hook lets everything through.
        return WalkOutcome {
            verdict: TableVerdict::Accept,
            decided_by: None,
            trace,
        };
    };
    let mut stack: Vec<RulePos> = Vec::new();
    let mut pos = RulePos {
        chain: base,
        rule: 0,
    };
    loop {
        let chain = &table.chains[pos.chain];
        let Some(rule) = chain.rules.get(pos.rule) else {
            // End of chain: the kernel's underflow (policy) or implicit RETURN.
            let end = return_or_policy(
                table, &mut stack, base, pos.chain, counters, bytes, &mut trace,
            );
            if let Some(s) = trace.last() {
                judge.stepped(*s);
            }
            match end {
                Some(v) => {
                    return WalkOutcome {
                        verdict: v,
                        decided_by: None,
                        trace,
                    }
                }
                None => {
                    pos = stack.pop().map_or(pos, |p| RulePos {
                        chain: p.chain,
                        rule: p.rule + 1,
                    });
                    continue;
                }
            }
        };
        let matched = judge.matches(rule);
        judge.tested(pos, matched);
        if !matched {
            // ipt_do_table's loop ends on hotdrop with NF_DROP, no rule deciding.
            if judge.hotdrop() {
                return done(TableVerdict::Drop, None, trace);
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
            RuleTarget::Verdict(Verdict::Accept) => {
                return done(TableVerdict::Accept, decided, trace)
            }
            RuleTarget::Verdict(Verdict::Drop) => return done(TableVerdict::Drop, decided, trace),
            RuleTarget::Verdict(Verdict::Queue) => {
                return done(TableVerdict::Queue, decided, trace)
            }
            RuleTarget::Verdict(Verdict::Return) => {
                let end = return_or_policy(
                    table, &mut stack, base, pos.chain, counters, bytes, &mut trace,
                );
                if let Some(s) = trace.last() {
                    judge.stepped(*s);
                }
                match end {
                    Some(v) => {
                        return WalkOutcome {
                            verdict: v,
                            decided_by: None,
                            trace,
                        }
                    }
                    None => {
                        pos = stack.pop().map_or(pos, |p| RulePos {
                            chain: p.chain,
                            rule: p.rule + 1,
                        })
                    }
                }
            }
            RuleTarget::Jump(name) | RuleTarget::Goto(name) => {
                let Some(target) = table.chain_index(name) else {
                    pos.rule += 1; // cannot happen in a loaded table
                    continue;
                };
                if matches!(rule.target, RuleTarget::Jump(_)) {
                    if stack.len() >= MAX_DEPTH {
                        return done(TableVerdict::Drop, decided, trace);
                    }
                    stack.push(pos);
                }
                pos = RulePos {
                    chain: target,
                    rule: 0,
                };
            }
            RuleTarget::Ext(t) => match judge.target(rule, t) {
                TargetVerdict::Continue => pos.rule += 1,
                TargetVerdict::Accept => return done(TableVerdict::Accept, decided, trace),
                TargetVerdict::Drop => return done(TableVerdict::Drop, decided, trace),
                TargetVerdict::Queue => return done(TableVerdict::Queue, decided, trace),
                TargetVerdict::Stolen => return done(TableVerdict::Stolen, decided, trace),
            },
        }
    }
}

fn done(verdict: TableVerdict, decided_by: Option<RulePos>, trace: Vec<TraceStep>) -> WalkOutcome {
    WalkOutcome {
        verdict,
        decided_by,
        trace,
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
