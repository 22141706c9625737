//! A lane record's JSON line from runs written once per learned outcome.

use super::{ct_after_value, ct_state_words, summary_string, Fields, FlowJson, Obj};
use crate::conntrack::CtView;
use crate::conntrack::{CtState, Dir};
use crate::packet::text::TextOut;
use crate::packet::Summary;

/// The JSON of the fields an established-flow lane learns (hook, verdict, rule, interfaces,
/// fate, matched rules, ...), written once per learned outcome by [`Fields`]' own writers;
/// a lane record's line copies these runs between its own fields (index, summary, path,
/// `ct_after`), the same bytes as [`Fields::write_json`].
#[derive(Debug, Clone)]
pub(crate) struct LearnedJson {
    /// Head (hook, verdict), the record's `ctstate` and `ctdir`, and the rule: one run for
    /// each conntrack state and direction a record may show (indexed by [`head_at`]), so a
    /// record copies one run where it wrote two names between two runs.
    heads: [Box<[u8]>; HEADS],
    /// Middle (interfaces, fate), tail (matched rules to the end).
    middle: Box<[u8]>,
    tail: Box<[u8]>,
}

/// Every conntrack state, in [`head_at`]'s order.
const STATES: [CtState; 5] = [
    CtState::New,
    CtState::Established,
    CtState::Related,
    CtState::Invalid,
    CtState::Untracked,
];
const HEADS: usize = STATES.len() * 2;

/// The index of a state and direction's run in [`LearnedJson::heads`].
#[inline(always)]
fn head_at(state: CtState, dir: Dir) -> usize {
    let s = match state {
        CtState::New => 0,
        CtState::Established => 1,
        CtState::Related => 2,
        CtState::Invalid => 3,
        CtState::Untracked => 4,
    };
    s * 2 + usize::from(dir == Dir::Reply)
}

/// Names a lane record shows for a conntrack state and direction (`ctstate`, `ctdir`).
pub(crate) type CtNames = fn(CtState, Dir) -> (Option<&'static str>, Option<&'static str>);

impl LearnedJson {
    /// The runs of `learned`'s learned fields (its per-packet fields are not read), with
    /// each state and direction's names as `names` gives them.
    pub(crate) fn new(learned: &Fields<'_>, names: CtNames) -> LearnedJson {
        let run = |write: &dyn Fn(&mut Obj<'_>)| {
            let mut bytes = Vec::new();
            write(&mut Obj { out: &mut bytes });
            bytes.into_boxed_slice()
        };
        let heads = std::array::from_fn(|i| {
            let dir = if i % 2 == 0 {
                Dir::Original
            } else {
                Dir::Reply
            };
            let state = STATES[(i / 2).min(STATES.len() - 1)];
            debug_assert_eq!(head_at(state, dir), i);
            let (ctstate, ctdir) = names(state, dir);
            run(&|o| {
                learned.head(o);
                ct_state_words(o, ctstate, ctdir);
                learned.rule(o);
            })
        });
        LearnedJson {
            heads,
            middle: run(&|o| learned.middle(o)),
            tail: run(&|o| learned.tail(Obj { out: o.out })),
        }
    }

    /// Appends the JSON line of a lane record whose learned fields are the ones this was
    /// made from, whose own are `record`'s, and whose `ctstate` and `ctdir` are the names of
    /// `state` and `dir`.
    pub(crate) fn write_json(
        &self,
        record: &LaneFields<'_>,
        (state, dir): (CtState, Dir),
        out: &mut Vec<u8>,
    ) {
        let mut o = Obj::open(out, "{\"index\":");
        o.out.push_num(record.index);
        if let Some(head) = self.heads.get(head_at(state, dir)) {
            o.out.extend_from_slice(head);
        }
        let made = match &record.summary {
            Some(s) => summary_string(o.key(k!("summary")), s, record.flow),
            None => {
                o.str(k!("summary"), "");
                None
            }
        };
        o.word(k!("path"), record.path);
        o.out.extend_from_slice(&self.middle);
        let ct = o.key(k!("ct_after"));
        ct_after_value(ct, record.ct_after, record.flow, made.as_ref());
        o.out.extend_from_slice(&self.tail);
    }
}

/// A lane record's own fields, those of its packet (the others are its learned outcome's,
/// whose JSON a [`LearnedJson`] holds): passed as they are, not in a whole [`Fields`].
pub(crate) struct LaneFields<'a> {
    pub index: u64,
    /// `None`: an empty summary.
    pub summary: Option<Summary<'a>>,
    pub path: &'static str,
    pub ct_after: Option<&'a CtView>,
    /// The texts of `ct_after`'s connection, made of that view.
    pub flow: Option<&'a FlowJson>,
}
