//! `-m connmark --mark VALUE[/MASK]` (libxt_connmark.c rev 1, kernel
//! xt_connmark.c `connmark_mt`): the connection's mark, `(ct->mark & mask) ==
//! mark` XOR invert; no conntrack entry never matches. Same option grammar and
//! save form as `-m mark`.

use super::mark::Mark;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::{MatchDef, RuleCtx};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connmark(pub Mark);

impl MatchDef for Connmark {
    const NAME: &'static str = "connmark";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("mark").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        self.0.parse_mark(call, "connmark")
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        self.0.require("connmark")
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        self.0.save_mark(out);
    }
}
