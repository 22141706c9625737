//! Totals of a replay for the text and summary formats, counted per record.
//!
//! Counting runs once per packet, so it must cost next to nothing next to the replay itself.
//! Consecutive packets counted alike (most of a capture: the packets of established flows)
//! form a run, and a packet only compares its [`Key`] with the run's: a handful of word
//! compares, no lookup. Where a run starts, its counters are found once ([`Slots`]): the
//! verdict by its discriminant in a fixed array, hook and ctstate (`&'static str` constants)
//! in a short list by address, the deciding rule by the address of the name the engine shares
//! ([`RuleName`]); where it ends, its length is added to them. A lane record (nearly every
//! packet) is counted by its key instead, in a count per key found by the learned outcome's
//! number: flows with different outcomes interleave, and would end a run at every turn.
//! Rules are folded by name for
//! printing (each `--jobs` worker names its rules itself, so one rule may arrive under several
//! addresses). Each `--jobs` worker counts its own records ([`Tally`]); the counts are merged
//! at the end, where their order no longer matters.

use iptwalk::conntrack::hash::FxHasher;
use iptwalk::eval::engine::{LaneKey, Step};
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
        let slot = self.slot(key);
        self.0[slot].1 += by;
    }

    /// Where `key` is counted, added if new; by address first (the engine's constants), so
    /// equal text at another address is compared only when the address is not there.
    fn slot(&mut self, key: &'static str) -> usize {
        let found = (self.0.iter())
            .position(|(k, _)| std::ptr::eq(*k, key))
            .or_else(|| self.0.iter().position(|(k, _)| *k == key));
        found.unwrap_or_else(|| {
            self.0.push((key, 0));
            self.0.len() - 1
        })
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

/// Every [`Verdict`], in discriminant order: `Totals::verdict` is indexed by `v as usize`.
const VERDICTS: [Verdict; 4] = [
    Verdict::Accept,
    Verdict::Drop,
    Verdict::Reject,
    Verdict::NotReached,
];

#[derive(Default)]
pub(super) struct Totals {
    pub(super) packets: u64,
    pub(super) skipped: u64,
    pub(super) errors: u64,
    /// Packets per verdict, indexed by discriminant (see [`VERDICTS`]).
    verdict: [u64; VERDICTS.len()],
    hook: Counts,
    ctstate: Counts,
    /// Packets per deciding rule, in first-seen order; `rule_at` finds a rule's entry by the
    /// address of its name.
    rules: Vec<(RuleName, u64)>,
    rule_at: HashMap<usize, usize, BuildHasherDefault<FxHasher>>,
    depends: Counts,
    /// The packets just counted alike, not yet in the counts above: a capture
    /// is mostly runs of packets with the same verdict, hook, state and rule
    /// (the packets of established flows), and a run is counted when it ends.
    run: Option<Run>,
    /// Records counted by key ([`Totals::add_keyed`]: nearly every packet), per key, not yet
    /// in the counts above: interleaved flows with different outcomes would end a run at
    /// nearly every packet, while a key's count is found by one index.
    keyed: Vec<Keyed>,
    /// By key (below [`KEYED_AT_MAX`]): one more than its records not yet settled, 0 while
    /// the key has no place in `keyed` (a key beyond counts in its [`Keyed::n`]).
    keyed_n: Vec<u64>,
    /// Every key's place in `keyed`.
    keyed_index: HashMap<LaneKey, u32, BuildHasherDefault<FxHasher>>,
}

/// Records counted under one key, and where they go when settled.
struct Keyed {
    key: LaneKey,
    n: u64,
    slots: Slots,
}

/// [`Totals::keyed_n`] is kept for keys below this (the learned outcome's number times 8
/// plus a state code: learned outcomes are numbered from 0, and at most 2^16 are kept); a
/// key beyond is found in `keyed_index`.
const KEYED_AT_MAX: u64 = 1 << 20;

/// What [`Totals`] counts a packet under, but its `depends_on`, by address: the engine
/// shares its names, so equal names at other addresses only end a run early. The names'
/// lengths are compared with their addresses, as `std::ptr::eq` compares `&str`s: another
/// constant could start where a shorter one does.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    verdict: Verdict,
    hook: (usize, usize),
    ctstate: (usize, usize),
    rule: usize,
}

/// The address and length of a name (0, 0 for none).
fn addr(s: Option<&'static str>) -> (usize, usize) {
    s.map_or((0, 0), |s| (s.as_ptr() as usize, s.len()))
}

impl Key {
    fn of(o: &Brief) -> Key {
        Key {
            verdict: o.verdict,
            hook: addr(o.hook),
            ctstate: addr(o.ctstate),
            rule: o.rule.map_or(0, |r| r.as_ptr() as usize),
        }
    }
}

/// Where a run's packets are counted: found once, when the run starts.
#[derive(Clone, Copy)]
struct Slots {
    verdict: usize,
    hook: usize,
    ctstate: usize,
    rule: Option<usize>,
}

/// Packets counted alike, and where they go when the run ends.
struct Run {
    key: Key,
    n: u64,
    slots: Slots,
}

impl Totals {
    #[inline]
    pub(super) fn add(&mut self, o: &Brief) {
        self.packets += 1;
        if !o.depends_on.is_empty() {
            self.count_depends(o.depends_on);
        }
        match &mut self.run {
            Some(run) if run.key == Key::of(o) => run.n += 1,
            // The fields, not the `Brief`: passed in registers, so the caller need not
            // store every packet's brief for the rare packet that starts a run.
            _ => self.start_run(o.verdict, o.hook, o.ctstate, o.rule),
        }
    }

    /// [`Totals::add`] of a record whose brief is `brief()`, and for which equal `id`s mean
    /// equal briefs (`LaneRecord::brief_key` of one engine's records: a [`Tally`] counts one
    /// worker's): counted under `id` (see [`Totals::keyed`]); the brief is made only for the
    /// first record of a key.
    #[inline]
    fn add_keyed<'b>(&mut self, id: LaneKey, brief: impl FnOnce() -> Brief<'b>) {
        // `packets` gets a key's count where it is settled: one add fewer per record.
        match self.keyed_n.get_mut(id as usize) {
            Some(n) if *n != 0 => *n += 1,
            _ => self.add_other_key(id, brief),
        }
    }

    /// [`Totals::add_new_key`] with the brief made here: out of line, so that the caller
    /// (every packet) neither makes the brief nor keeps registers for it.
    #[cold]
    #[inline(never)]
    fn add_other_key<'b>(&mut self, id: LaneKey, brief: impl FnOnce() -> Brief<'b>) {
        self.add_new_key(id, &brief());
    }

    /// [`Totals::add_keyed`] of a record whose key has no count in `keyed_n`: finds or
    /// makes the key's count. A brief with dependencies is counted by
    /// [`Totals::add`] (no lane record has any).
    #[cold]
    #[inline(never)]
    fn add_new_key(&mut self, id: LaneKey, brief: &Brief) {
        if !brief.depends_on.is_empty() {
            self.add(brief);
            return;
        }
        let at = match self.keyed_index.get(&id) {
            Some(&at) => at,
            None => {
                let Ok(at) = u32::try_from(self.keyed.len()) else {
                    self.add(brief);
                    return;
                };
                let slots = self.slots(brief.verdict, brief.hook, brief.ctstate, brief.rule);
                self.keyed.push(Keyed {
                    key: id,
                    n: 0,
                    slots,
                });
                self.keyed_index.insert(id, at);
                at
            }
        };
        if id < KEYED_AT_MAX {
            let i = id as usize;
            if self.keyed_n.len() <= i {
                self.keyed_n.resize(i + 1, 0);
            }
            let n = &mut self.keyed_n[i];
            *n = (*n).max(1) + 1;
        } else if let Some(k) = self.keyed.get_mut(at as usize) {
            k.n += 1;
        }
    }

    /// Adds the counts by key to the counts they go to.
    fn settle_keyed(&mut self) {
        for k in &mut self.keyed {
            let slots = k.slots;
            let n = match self.keyed_n.get_mut(k.key as usize) {
                Some(n) => std::mem::replace(n, 1).saturating_sub(1),
                None => std::mem::take(&mut k.n),
            };
            self.packets += n;
            self.verdict[slots.verdict] += n;
            self.hook.0[slots.hook].1 += n;
            self.ctstate.0[slots.ctstate].1 += n;
            if let Some(r) = slots.rule {
                self.rules[r].1 += n;
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn count_depends(&mut self, depends_on: &[&'static str]) {
        for d in depends_on {
            self.depends.bump(d);
        }
    }

    /// Ends the current run and starts one with a packet counted under these.
    /// Cold: about one packet in ten starts a run.
    #[cold]
    #[inline(never)]
    fn start_run(
        &mut self,
        verdict: Verdict,
        hook: Option<&'static str>,
        ctstate: Option<&'static str>,
        rule: Option<&RuleName>,
    ) {
        self.end_run();
        let key = Key::of(&Brief {
            verdict,
            hook,
            ctstate,
            rule,
            depends_on: &[],
        });
        let slots = self.slots(verdict, hook, ctstate, rule);
        self.run = Some(Run { key, n: 1, slots });
    }

    /// Where packets counted under these go.
    fn slots(
        &mut self,
        verdict: Verdict,
        hook: Option<&'static str>,
        ctstate: Option<&'static str>,
        rule: Option<&RuleName>,
    ) -> Slots {
        Slots {
            verdict: verdict as usize,
            hook: self.hook.slot(hook.unwrap_or("none")),
            ctstate: self.ctstate.slot(ctstate.unwrap_or("none")),
            rule: rule.map(|r| self.rule_slot(r.as_ptr() as usize, r)),
        }
    }

    /// Where the rule whose name is at `addr` is counted, added if new.
    fn rule_slot(&mut self, addr: usize, name: &RuleName) -> usize {
        let rules = &mut self.rules;
        *self.rule_at.entry(addr).or_insert_with(|| {
            rules.push((name.clone(), 0));
            rules.len() - 1
        })
    }

    /// Counts the current run.
    fn end_run(&mut self) {
        let Some(Run { n, slots, .. }) = self.run.take() else {
            return;
        };
        self.verdict[slots.verdict] += n;
        self.hook.0[slots.hook].1 += n;
        self.ctstate.0[slots.ctstate].1 += n;
        if let Some(r) = slots.rule {
            self.rules[r].1 += n;
        }
    }

    /// Reading counts with a run or keyed counts not yet counted would miss them: totals
    /// are read from [`Tally::merge`], which ends every run and settles every key.
    fn assert_settled(&self) {
        debug_assert!(
            self.run.is_none()
                && self.keyed.iter().all(|k| k.n == 0)
                && self.keyed_n.iter().all(|&n| n <= 1),
            "totals read before their last run or keys were counted"
        );
    }

    /// Adds another worker's totals (counts: the order does not matter).
    pub(super) fn merge(&mut self, mut other: Totals) {
        self.end_run();
        self.settle_keyed();
        other.end_run();
        other.settle_keyed();
        self.packets += other.packets;
        self.skipped += other.skipped;
        self.errors += other.errors;
        for (mine, theirs) in self.verdict.iter_mut().zip(other.verdict) {
            *mine += theirs;
        }
        for (mine, theirs) in [
            (&mut self.hook, other.hook),
            (&mut self.ctstate, other.ctstate),
            (&mut self.depends, other.depends),
        ] {
            for (k, n) in theirs.0 {
                mine.bump_by(k, n);
            }
        }
        for (name, n) in other.rules {
            let slot = self.rule_slot(name.as_ptr() as usize, &name);
            self.rules[slot].1 += n;
        }
    }

    pub(super) fn verdicts(&self) -> BTreeMap<&'static str, u64> {
        self.assert_settled();
        (VERDICTS.iter().zip(self.verdict))
            .filter(|(_, n)| *n > 0)
            .map(|(v, n)| (v.name(), n))
            .collect()
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
        for (name, n) in &self.rules {
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
    /// The number of its last record plus one (0: none yet), and that record's timestamp;
    /// plain fields rather than an `Option`, as they are stored for every record.
    last_seq: u64,
    last_ts: i128,
}

impl Tally {
    #[inline]
    pub(super) fn add(&mut self, frame: &Frame, step: &Step) {
        match step {
            // Nearly every packet: counted by the lane record's key.
            Step::Lane(lane) => self.totals.add_keyed(lane.brief_key(), || lane.brief()),
            _ => self.add_record(step),
        }
        self.last_seq = frame.index + 1;
        self.last_ts = frame.ts_ns;
    }

    /// [`Tally::add`] of a record not of the lane (a few packets in a thousand), out of line.
    #[cold]
    #[inline(never)]
    fn add_record(&mut self, step: &Step) {
        match step.brief() {
            Some(b) => self.totals.add(&b),
            None => self.totals.skipped += 1,
        }
    }

    /// The totals over all workers, and the timestamp of the capture's last record.
    /// The merged totals have counted every run.
    pub(super) fn merge(tallies: Vec<Tally>) -> (Totals, i128) {
        let mut totals = Totals::default();
        let mut last = (0, 0);
        for t in tallies {
            totals.merge(t.totals);
            last = last.max((t.last_seq, t.last_ts));
        }
        (totals, last.1)
    }
}

#[cfg(test)]
mod tests;
