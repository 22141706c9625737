//! Judging rules against one packet at one hook: the header test, every match,
//! and the targets with their effects on the packet (mark, TTL, ...).

use super::explain::{Miss, WalkEvent};
use super::header::{header_miss, iface_miss};
use super::walk::{RuleJudge, RulePos, TargetVerdict, TraceStep};
use crate::ext::state::{ConnView, MatchKey, NoConns, State, Store};
use crate::ext::{Effects, Facts, MatchResult, Target, TargetResult};
use crate::ir::Rule;

pub struct Judge<'f, 'p> {
    pub facts: &'f mut Facts<'p>,
    /// What targets did so far (accumulated over the walk).
    pub effects: Effects,
    /// Extensions whose outcome could not be judged.
    pub depends_on: Vec<&'static str>,
    /// When `Some`, every rule test and TRACE step is recorded (`iptwalk trace`).
    pub record: Option<Vec<WalkEvent>>,
    /// Why the last rule tested did not match.
    miss: Option<Miss>,
    hotdrop: bool,
    /// Stateful-match memory, the table's index in the ruleset and the
    /// conntrack view; `None`: stateful matches are judged with no memory.
    memory: Option<(&'f mut Store, usize, &'f dyn ConnView)>,
    pos: RulePos,
}

impl<'f, 'p> Judge<'f, 'p> {
    pub fn new(facts: &'f mut Facts<'p>) -> Judge<'f, 'p> {
        Judge {
            facts,
            effects: Effects::default(),
            depends_on: Vec::new(),
            record: None,
            miss: None,
            hotdrop: false,
            memory: None,
            pos: RulePos { chain: 0, rule: 0 },
        }
    }

    /// Gives stateful matches their memory for table number `table`.
    pub fn with_memory(
        mut self,
        store: &'f mut Store,
        table: usize,
        conns: &'f dyn ConnView,
    ) -> Judge<'f, 'p> {
        self.memory = Some((store, table, conns));
        self
    }

    /// One match of the current rule (number `idx` in the rule).
    fn eval(&mut self, m: &crate::ext::Match, idx: usize) -> MatchResult {
        let (chain, rule) = (self.pos.chain, self.pos.rule);
        // The scratch store (two hash maps seeded per creation) is made only
        // when there is no memory: replay gives one, and this runs per match.
        match &mut self.memory {
            Some((store, table, conns)) => {
                let key = MatchKey {
                    table: *table,
                    chain,
                    rule,
                    idx,
                };
                m.eval_state(self.facts, &mut State::new(store, key, *conns))
            }
            None => {
                let mut scratch = Store::default();
                let key = MatchKey {
                    table: 0,
                    chain,
                    rule,
                    idx,
                };
                m.eval_state(self.facts, &mut State::new(&mut scratch, key, &NoConns))
            }
        }
    }

    fn depends(&mut self, name: &'static str) {
        if !self.depends_on.contains(&name) {
            self.depends_on.push(name);
        }
    }
}

impl Judge<'_, '_> {
    /// Every match of `rule`, in order, after its header test passed.
    fn matches_all(&mut self, rule: &Rule) -> bool {
        for (i, m) in rule.matches.iter().enumerate() {
            match self.eval(&m.m, i) {
                MatchResult::Yes => {}
                MatchResult::No => {
                    self.miss = Some(Miss::Match(i));
                    return false;
                }
                MatchResult::Hotdrop => {
                    self.hotdrop = true;
                    self.miss = Some(Miss::Hotdrop(i));
                    return false;
                }
                MatchResult::Unknown(name) => {
                    // Never guess: the rule is taken as not matching and the
                    // outcome is flagged as depending on this extension.
                    self.depends(name);
                    self.miss = Some(Miss::Unknown(i, name));
                    return false;
                }
            }
        }
        true
    }
}

impl RuleJudge for Judge<'_, '_> {
    fn matches(&mut self, rule: &Rule) -> bool {
        self.miss = header_miss(rule, self.facts).map(Miss::Header);
        if self.miss.is_some() {
            return false;
        }
        self.matches_all(rule)
    }

    fn matches_admitted(&mut self, rule: &Rule, ifaces: bool) -> bool {
        // The head admitted the packet: of `header_miss`, only `-i`/`-o` may fail.
        self.miss = None;
        if ifaces {
            self.miss = iface_miss(rule, self.facts).map(Miss::Header);
            if self.miss.is_some() {
                return false;
            }
        }
        self.matches_all(rule)
    }

    fn target(&mut self, rule: &Rule, target: &Target) -> TargetVerdict {
        let mut scratch = Store::default();
        let (store, table, conns): (&mut Store, usize, &dyn ConnView) = match &mut self.memory {
            Some((s, t, c)) => (&mut **s, *t, *c),
            None => (&mut scratch, 0, &NoConns),
        };
        // The target's slot follows the rule's matches.
        let key = MatchKey {
            table,
            chain: self.pos.chain,
            rule: self.pos.rule,
            idx: rule.matches.len(),
        };
        let mut st = State::new(store, key, conns);
        let result = target.run_state(self.facts, &mut self.effects, &mut st);
        // Later rules see what earlier targets changed.
        if let Some(m) = self.effects.mark {
            self.facts.mark = m;
        }
        if let Some(t) = self.effects.ttl {
            self.facts.ttl = t;
        }
        if let Some(t) = self.effects.tos {
            self.facts.tos = t;
        }
        match result {
            TargetResult::Continue => TargetVerdict::Continue,
            TargetResult::Accept => TargetVerdict::Accept,
            TargetResult::Drop => TargetVerdict::Drop,
            TargetResult::Queue => TargetVerdict::Queue,
            TargetResult::Stolen => TargetVerdict::Stolen,
            TargetResult::Unknown(name) => {
                self.depends(name);
                TargetVerdict::Continue
            }
        }
    }

    fn hotdrop(&self) -> bool {
        self.hotdrop
    }

    fn tested(&mut self, pos: RulePos, matched: bool) {
        let miss = self.miss.take().filter(|_| !matched);
        if let Some(r) = &mut self.record {
            r.push(WalkEvent::Tested { pos, matched, miss });
        }
    }

    fn stepped(&mut self, step: TraceStep) {
        if let Some(r) = &mut self.record {
            r.push(WalkEvent::Step(step));
        }
    }

    fn at(&mut self, pos: RulePos) {
        self.pos = pos;
    }
}
