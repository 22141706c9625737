//! A lane record's JSON line from runs written once per learned outcome.

use super::{ct_state_words, Fields, Obj};
use crate::conntrack::{CtState, Dir};
use crate::packet::text::TextOut;

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

    /// Appends the JSON line of `record`, whose learned fields are the ones this was made
    /// from and whose `ctstate` and `ctdir` are the names of `state` and `dir`.
    pub(crate) fn write_json(
        &self,
        record: &Fields<'_>,
        (state, dir): (CtState, Dir),
        out: &mut Vec<u8>,
    ) {
        let mut o = Obj::open(out, "{\"index\":");
        o.out.push_num(record.index);
        if let Some(head) = self.heads.get(head_at(state, dir)) {
            o.out.extend_from_slice(head);
        }
        let made = record.packet(&mut o);
        o.out.extend_from_slice(&self.middle);
        record.ct_after(&mut o, &made);
        o.out.extend_from_slice(&self.tail);
    }
}
