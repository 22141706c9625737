//! The records of the lane: a packet that took it is handed on as a [`LaneRecord`] borrowed
//! from the outcome it learned, its JSON line written from that outcome's runs
//! ([`LaneJson`]) without building an [`Outcome`]. Moved out of `lane.rs` as it was.

use super::{ct_names_of, state_code, LaneHit, Lanes};
use crate::conntrack::{CtState, CtView, Dir};
use crate::eval::engine::learned::Path;
use crate::eval::host_index::HostIndex;
use crate::eval::outcome::{Brief, Outcome};
use crate::eval::outcome_json::{Fields, FlowJson, LaneFields, LearnedJson, SummaryText};
use crate::packet::Summary;

/// [`LaneRecord::brief_key`]: the learned outcome's index in its engine's `Lanes` (which
/// only grow: an index names one outcome for the whole replay) times 8, plus the conntrack
/// state's code (below 8, which names the state): one word to compare.
pub type LaneKey = u64;

/// A record of the lane, borrowed from the outcome it learned: handed on
/// without building an [`Outcome`] (a verdicts-only replay counts its
/// [`LaneRecord::brief`], `--format jsonl` writes [`LaneRecord::write_json`]).
#[derive(Debug, Clone, Copy)]
pub struct LaneRecord<'e> {
    index: u64,
    /// The lanes, whose outcome number `number` ([`Lanes::learned`]) the record replays:
    /// looked up where the record is read, not for every packet.
    lanes: &'e Lanes,
    number: u32,
    /// The conntrack state and direction, named by [`LaneRecord::names`].
    state: CtState,
    dir: Dir,
    /// The host's routes and the packet's source address, which give the record's `path`
    /// ([`LaneRecord::path`]): found only where a record is read, not for every packet.
    places: &'e HostIndex,
    src: u32,
    /// What a full record shows beyond the learned outcome; `None` for a
    /// verdicts-only replay, whose records have neither.
    packet: Option<PacketPart<'e>>,
}

/// The packet's own part of a lane record: its IPv4 bytes (for `summary`)
/// and the conntrack entry after it (`ct_after`).
#[derive(Debug, Clone, Copy)]
pub(in crate::eval::engine) struct PacketPart<'e> {
    pub(in crate::eval::engine) ip: &'e [u8],
    pub(in crate::eval::engine) ct_after: Option<&'e CtView>,
    /// The learned outcome's JSON runs, for [`LaneRecord::write_json`].
    pub(in crate::eval::engine) json: Option<&'e LearnedJson>,
    /// The texts of `ct_after`'s connection, made of `ct_after`, for [`LaneRecord::write_json`].
    pub(in crate::eval::engine) flow: Option<&'e FlowJson>,
}

impl<'e> LaneRecord<'e> {
    pub(in crate::eval::engine) fn new(
        lanes: &'e Lanes,
        places: &'e HostIndex,
        hit: LaneHit,
        (index, src): (u64, u32),
        packet: Option<PacketPart<'e>>,
    ) -> Self {
        LaneRecord {
            index,
            lanes,
            number: hit.learned,
            state: hit.state,
            dir: hit.dir,
            places,
            src,
            packet,
        }
    }

    /// Equal for two lane records of one engine only when their [`LaneRecord::brief`]s are
    /// made of the same learned outcome and conntrack state, so equal keys mean equal
    /// briefs: what totals compare to count lane records without making their briefs.
    #[inline]
    pub fn brief_key(&self) -> LaneKey {
        u64::from(self.number) << 3 | u64::from(state_code(self.state))
    }

    /// The outcome the record replays.
    fn learned(&self) -> &'e Path {
        self.lanes.learned.path(self.number)
    }

    /// The record's `path`: a lane packet comes from the wire (see [`Lanes::probe`]).
    fn path(&self) -> &'static str {
        self.places.wire_path(self.src)
    }

    /// The record's `ctstate` and `ctdir`.
    fn names(&self) -> (Option<&'static str>, Option<&'static str>) {
        ct_names_of(self.state, self.dir)
    }

    pub fn brief(&self) -> Brief<'e> {
        let learned = self.learned();
        Brief {
            verdict: learned.verdict,
            hook: learned.hook,
            ctstate: self.names().0,
            rule: learned.rule.as_ref(),
            depends_on: &[],
        }
    }

    /// The whole record, as the full path would have made it (for a
    /// verdicts-only replay, without `summary` and `ct_after`, as the full
    /// path makes those).
    pub fn outcome(&self) -> Box<Outcome> {
        let learned = self.learned();
        let (ctstate, ctdir) = self.names();
        Box::new(Outcome {
            index: self.index,
            hook: learned.hook,
            verdict: learned.verdict,
            ctstate,
            ctdir,
            rule: learned.rule.clone(),
            summary: self
                .packet
                .map(|p| Summary::of_ip(p.ip).text())
                .unwrap_or_default(),
            path: self.path(),
            reject_with: None,
            iface: learned.iface.clone(),
            hooks: Vec::new(),
            fate: learned.fate,
            generated: Vec::new(),
            ct_after: self.packet.and_then(|p| p.ct_after.cloned()),
            matched: learned.matched.to_vec(),
            depends_on: Vec::new(),
            trace: Vec::new(),
            log: Vec::new(),
            at_filter: None,
            egress: None,
            nat_random_port: false,
            note: learned.note.clone(),
        })
    }

    /// Appends the JSON line of [`LaneRecord::outcome`] (no newline), written
    /// from the learned outcome and the packet without building it.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let packet = self.packet.as_ref();
        let own = LaneFields {
            index: self.index,
            summary: packet.map(|p| Summary::of_ip(p.ip)),
            path: self.path(),
            ct_after: packet.and_then(|p| p.ct_after),
            flow: packet.and_then(|p| p.flow),
        };
        match packet.and_then(|p| p.json) {
            Some(json) => json.write_json(&own, (self.state, self.dir), out),
            None => {
                let (ctstate, ctdir) = self.names();
                Fields {
                    index: own.index,
                    ctstate,
                    ctdir,
                    summary: match own.summary {
                        Some(s) => SummaryText::Of(s),
                        None => SummaryText::Text(""),
                    },
                    path: own.path,
                    ct_after: own.ct_after,
                    flow: own.flow,
                    ..learned_fields(self.learned())
                }
                .write_json(out)
            }
        }
    }
}

/// A lane record's fields with the learned ones from `learned`, and those of a packet
/// (index, conntrack state, summary, path, `ct_after`) empty.
fn learned_fields(learned: &Path) -> Fields<'_> {
    Fields {
        index: 0,
        hook: learned.hook,
        verdict: learned.verdict,
        ctstate: None,
        ctdir: None,
        rule: learned.rule.as_deref(),
        summary: SummaryText::Text(""),
        path: "",
        reject_with: None,
        iface: &learned.iface,
        hooks: &[],
        fate: learned.fate,
        generated: &[],
        ct_after: None,
        flow: None,
        matched: &learned.matched,
        depends_on: &[],
        trace: &[],
        log: &[],
        at_filter: None,
        egress: None,
        nat_random_port: false,
        note: learned.note.as_deref(),
    }
}

/// The JSON runs of learned outcomes ([`LearnedJson`]), made the first time a full record
/// (`--format jsonl`) of the lane needs them; indexed like [`Lanes::learned`], which only grows.
#[derive(Debug, Default)]
pub(in crate::eval::engine) struct LaneJson(Vec<Option<LearnedJson>>);

impl LaneJson {
    pub(in crate::eval::engine) fn of<'e>(
        &'e mut self,
        lanes: &Lanes,
        learned: u32,
    ) -> Option<&'e LearnedJson> {
        let i = learned as usize;
        let path = lanes.learned.get(learned)?;
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        let slot = self.0.get_mut(i)?;
        Some(slot.get_or_insert_with(|| LearnedJson::new(&learned_fields(path), ct_names_of)))
    }
}
