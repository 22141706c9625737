//! `-m connmark --mark VALUE[/MASK]` (libxt_connmark.c rev 1, kernel
//! xt_connmark.c `connmark_mt`): the connection's mark, `(ct->mark & mask) ==
//! mark` XOR invert; no conntrack entry never matches. Same option grammar and
//! save form as `-m mark`.

use super::mark::Mark;
use super::state;
use crate::ext::facts::{Facts, MatchResult};
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

    /// `connmark_mt`: no conntrack entry (INVALID, UNTRACKED) never matches,
    /// whatever the `!`.
    fn eval(&self, f: &Facts) -> MatchResult {
        if f.ct.state & (state::INVALID | state::UNTRACKED) != 0 || f.ct.state == 0 {
            return MatchResult::No;
        }
        MatchResult::from_bool(((f.ct.mark & self.0.mask) == self.0.mark) != self.0.invert)
    }

    /// `connmark_mt_print`: a space is printed before the optional `!` and
    /// again before the value, so a plain match reads `connmark match  0x1`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" connmark match ");
        if self.0.invert {
            out.push('!');
        }
        crate::ext::value::fmt_val_mask(out, self.0.mark, self.0.mask);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        self.0.save_mark(out);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn full_mask_is_dropped() {
        let rt = |r| roundtrip("mangle", "PREROUTING", r);
        assert_eq!(
            rt("-m connmark --mark 0/0xffffffff").unwrap(),
            "-m connmark --mark 0x0"
        );
        assert_eq!(
            rt("-m connmark --mark 0xffffffff/0x0").unwrap(),
            "-m connmark --mark 0xffffffff/0x0"
        );
        assert!(rt("-m connmark --mark 0xfffffffff").is_err());
    }
}
