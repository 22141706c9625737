//! A lane record's JSON line from runs written once per learned outcome.

use super::{Fields, Obj};
use crate::packet::text::TextOut;

/// The JSON of the fields an established-flow lane learns (hook, verdict, rule, interfaces,
/// fate, matched rules, ...), written once per learned outcome by [`Fields`]' own writers;
/// a lane record's line copies these runs between its own fields (index, conntrack state,
/// summary, path, `ct_after`), the same bytes as [`Fields::write_json`].
#[derive(Debug, Clone)]
pub(crate) struct LearnedJson {
    /// Head (hook, verdict), rule, middle (interfaces, fate), tail (matched rules to the end).
    runs: [Box<[u8]>; 4],
}

impl LearnedJson {
    /// The runs of `learned`'s learned fields (its per-packet fields are not read).
    pub(crate) fn new(learned: &Fields<'_>) -> LearnedJson {
        let run = |write: &dyn Fn(&mut Obj<'_>)| {
            let mut bytes = Vec::new();
            write(&mut Obj { out: &mut bytes });
            bytes.into_boxed_slice()
        };
        LearnedJson {
            runs: [
                run(&|o| learned.head(o)),
                run(&|o| learned.rule(o)),
                run(&|o| learned.middle(o)),
                run(&|o| learned.tail(Obj { out: o.out })),
            ],
        }
    }

    /// Appends the JSON line of `record`, whose learned fields are the ones this was made
    /// from.
    pub(crate) fn write_json(&self, record: &Fields<'_>, out: &mut Vec<u8>) {
        let [head, rule, middle, tail] = &self.runs;
        let mut o = Obj::open(out, "{\"index\":");
        o.out.push_num(record.index);
        o.out.extend_from_slice(head);
        record.ct_state(&mut o);
        o.out.extend_from_slice(rule);
        let made = record.packet(&mut o);
        o.out.extend_from_slice(middle);
        record.ct_after(&mut o, &made);
        o.out.extend_from_slice(tail);
    }
}
