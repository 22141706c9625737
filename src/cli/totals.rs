//! Totals of a replay for the text and summary formats, counted per record.
//!
//! Counting runs once per packet, so it must cost next to nothing next to the replay itself:
//! the keys are `&'static str` constants (verdict, hook, ctstate names) found in a short list
//! by pointer, and deciding rules are counted by the address of the name the engine shares
//! ([`RuleName`]), then folded by name for printing (each `--jobs` worker names its rules
//! itself, so one rule may arrive under several addresses). Consecutive packets counted alike
//! (most of a capture: the packets of established flows) are counted once per run. Each
//! `--jobs` worker counts its own records ([`Tally`]); the counts are merged at the end, where
//! their order no longer matters.

use iptwalk::conntrack::hash::FxHasher;
use iptwalk::eval::engine::Step;
use iptwalk::eval::outcome::{Brief, RuleName, Verdict};
use iptwalk::packet::Frame;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;

/// Counts per constant name, in first-seen order; a handful of entries.
#[derive(Default)]
pub(super) struct Counts(Vec<(&'static str, u64)>);

impl Counts {
    fn bump(&mut self, key: &'static str) {
        self.bump_by(key, 1);
    }

    fn bump_by(&mut self, key: &'static str, by: u64) {
        let found = self
            .0
            .iter_mut()
            .find(|(k, _)| std::ptr::eq(*k, key) || *k == key);
        match found {
            Some((_, n)) => *n += by,
            None => self.0.push((key, by)),
        }
    }

    /// The counts by name, sorted.
    pub(super) fn sorted(&self) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for (k, n) in &self.0 {
            *m.entry(*k).or_default() += n;
        }
        m
    }
}

#[derive(Default)]
pub(super) struct Totals {
    pub(super) packets: u64,
    pub(super) skipped: u64,
    pub(super) errors: u64,
    verdict: Counts,
    hook: Counts,
    ctstate: Counts,
    /// Deciding rule name's address → (name, packets).
    rules: HashMap<usize, (RuleName, u64), BuildHasherDefault<FxHasher>>,
    depends: Counts,
    /// The packets just counted alike, not yet in the counts above: a capture
    /// is mostly runs of packets with the same verdict, hook, state and rule
    /// (the packets of established flows), and a run is counted when it ends.
    run: Option<(Alike, u64)>,
}

/// What [`Totals`] counts a packet under, but its `depends_on`.
struct Alike {
    verdict: Verdict,
    hook: &'static str,
    ctstate: &'static str,
    rule: Option<RuleName>,
}

impl Alike {
    fn of(o: &Brief) -> Alike {
        Alike {
            verdict: o.verdict,
            hook: o.hook.unwrap_or("none"),
            ctstate: o.ctstate.unwrap_or("none"),
            rule: o.rule.cloned(),
        }
    }

    /// Whether `o` is counted the same; by address (the engine shares its
    /// names), so equal names at other addresses only end the run early.
    fn is(&self, o: &Brief) -> bool {
        self.verdict == o.verdict
            && std::ptr::eq(self.hook, o.hook.unwrap_or("none"))
            && std::ptr::eq(self.ctstate, o.ctstate.unwrap_or("none"))
            && match (&self.rule, o.rule) {
                (None, None) => true,
                (Some(a), Some(b)) => std::ptr::eq(a.as_ptr(), b.as_ptr()),
                _ => false,
            }
    }
}

impl Totals {
    pub(super) fn add(&mut self, o: &Brief) {
        self.packets += 1;
        for d in o.depends_on {
            self.depends.bump(d);
        }
        if let Some((alike, n)) = &mut self.run {
            if alike.is(o) {
                *n += 1;
                return;
            }
        }
        self.end_run();
        self.run = Some((Alike::of(o), 1));
    }

    /// Counts the current run.
    fn end_run(&mut self) {
        let Some((alike, n)) = self.run.take() else {
            return;
        };
        self.verdict.bump_by(alike.verdict.name(), n);
        self.hook.bump_by(alike.hook, n);
        self.ctstate.bump_by(alike.ctstate, n);
        if let Some(r) = alike.rule {
            let key = r.as_ptr() as usize;
            self.rules.entry(key).or_insert_with(|| (r, 0)).1 += n;
        }
    }

    /// Reading counts with a run not yet counted would miss it: totals are
    /// read from [`Tally::merge`], which ends every run.
    fn assert_settled(&self) {
        debug_assert!(
            self.run.is_none(),
            "totals read before their last run was counted"
        );
    }

    /// Adds another worker's totals (counts: the order does not matter).
    pub(super) fn merge(&mut self, mut other: Totals) {
        self.end_run();
        other.end_run();
        self.packets += other.packets;
        self.skipped += other.skipped;
        self.errors += other.errors;
        for (mine, theirs) in [
            (&mut self.verdict, other.verdict),
            (&mut self.hook, other.hook),
            (&mut self.ctstate, other.ctstate),
            (&mut self.depends, other.depends),
        ] {
            for (k, n) in theirs.0 {
                mine.bump_by(k, n);
            }
        }
        for (key, (name, n)) in other.rules {
            self.rules.entry(key).or_insert_with(|| (name, 0)).1 += n;
        }
    }

    pub(super) fn verdicts(&self) -> BTreeMap<&'static str, u64> {
        self.assert_settled();
        self.verdict.sorted()
    }

    pub(super) fn hooks(&self) -> BTreeMap<&'static str, u64> {
        self.assert_settled();
        self.hook.sorted()
    }

    pub(super) fn ctstates(&self) -> BTreeMap<&'static str, u64> {
        self.assert_settled();
        self.ctstate.sorted()
    }

    pub(super) fn depends(&self) -> BTreeMap<&'static str, u64> {
        self.depends.sorted()
    }

    /// Packets per deciding rule, most first, then by name.
    pub(super) fn top_rules(&self) -> Vec<(&str, u64)> {
        self.assert_settled();
        let mut by_name: BTreeMap<&str, u64> = BTreeMap::new();
        for (name, n) in self.rules.values() {
            *by_name.entry(name).or_default() += n;
        }
        let mut top: Vec<_> = by_name.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        top
    }

    pub(super) fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "packets": self.packets, "skipped": self.skipped, "errors": self.errors,
            "verdict": self.verdicts(), "hook": self.hooks(), "ctstate": self.ctstates(),
            "depends_on": self.depends(),
        })
    }
}

/// What one worker counts of its records, in any order.
#[derive(Default)]
pub(super) struct Tally {
    totals: Totals,
    /// The number and timestamp of its last record.
    last: Option<(u64, i128)>,
}

impl Tally {
    pub(super) fn add(&mut self, frame: &Frame, step: &Step) {
        match step.brief() {
            Some(b) => self.totals.add(&b),
            None => self.totals.skipped += 1,
        }
        self.last = Some((frame.index, frame.ts_ns));
    }

    /// The totals over all workers, and the timestamp of the capture's last record.
    /// The merged totals have counted every run.
    pub(super) fn merge(tallies: Vec<Tally>) -> (Totals, i128) {
        let mut totals = Totals::default();
        let mut last: Option<(u64, i128)> = None;
        for t in tallies {
            totals.merge(t.totals);
            last = last.max(t.last);
        }
        (totals, last.map_or(0, |(_, ts)| ts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_names_at_different_addresses_count_together() {
        let mut c = Counts::default();
        let a = String::from("ACCEPT");
        let leaked: &'static str = Box::leak(a.into_boxed_str());
        c.bump("ACCEPT");
        c.bump(leaked);
        c.bump("DROP");
        assert_eq!(c.sorted(), BTreeMap::from([("ACCEPT", 2), ("DROP", 1)]));
    }

    #[test]
    fn runs_of_alike_packets_count_as_single_packets_do() {
        let (a, b): (RuleName, RuleName) = ("filter/FORWARD/1".into(), "filter/FORWARD/2".into());
        let brief = |verdict, ctstate, rule| Brief {
            verdict,
            hook: Some("FORWARD"),
            ctstate: Some(ctstate),
            rule,
            depends_on: &[],
        };
        let seq = [
            brief(Verdict::Accept, "NEW", Some(&a)),
            brief(Verdict::Accept, "ESTABLISHED", Some(&a)),
            brief(Verdict::Accept, "ESTABLISHED", Some(&a)),
            brief(Verdict::Accept, "ESTABLISHED", Some(&b)),
            brief(Verdict::Drop, "ESTABLISHED", None),
            brief(Verdict::Drop, "ESTABLISHED", None),
            brief(Verdict::Accept, "ESTABLISHED", Some(&a)),
        ];
        let mut t = Totals::default();
        seq.iter().for_each(|o| t.add(o));
        let mut settled = Totals::default();
        settled.merge(t);
        assert_eq!(settled.packets, 7);
        assert_eq!(
            settled.verdicts(),
            BTreeMap::from([("ACCEPT", 5), ("DROP", 2)])
        );
        assert_eq!(
            settled.ctstates(),
            BTreeMap::from([("ESTABLISHED", 6), ("NEW", 1)])
        );
        assert_eq!(settled.hooks(), BTreeMap::from([("FORWARD", 7)]));
        assert_eq!(
            settled.top_rules(),
            [("filter/FORWARD/1", 4), ("filter/FORWARD/2", 1)]
        );
    }

    #[test]
    fn merged_totals_count_as_one_did() {
        let rule = |name: &str, n| (RuleName::from(name), n);
        let mut a = Totals {
            packets: 3,
            skipped: 1,
            verdict: Counts(vec![("ACCEPT", 3)]),
            ..Totals::default()
        };
        a.rules.insert(1, rule("filter/FORWARD/1", 3));
        let mut b = Totals {
            packets: 2,
            errors: 1,
            verdict: Counts(vec![("DROP", 1), ("ACCEPT", 1)]),
            depends: Counts(vec![("socket", 2)]),
            ..Totals::default()
        };
        // The same rule, named by the other worker's engine (another address).
        b.rules.insert(2, rule("filter/FORWARD/1", 1));
        b.rules.insert(3, rule("filter/FORWARD/2", 1));
        a.merge(b);
        assert_eq!((a.packets, a.skipped, a.errors), (5, 1, 1));
        assert_eq!(a.verdicts(), BTreeMap::from([("ACCEPT", 4), ("DROP", 1)]));
        assert_eq!(a.depends(), BTreeMap::from([("socket", 2)]));
        assert_eq!(
            a.top_rules(),
            [("filter/FORWARD/1", 4), ("filter/FORWARD/2", 1)]
        );
    }
}
