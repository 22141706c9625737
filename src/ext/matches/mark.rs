//! `-m mark --mark VALUE[/MASK]` (libxt_mark.c rev 1, kernel xt_mark.c
//! `mark_mt`: `(skb->mark & mask) == mark` XOR invert).

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{fmt_val_mask, val_mask};
use crate::ext::{MatchDef, RuleCtx};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mark {
    pub mark: u32,
    pub mask: u32,
    pub invert: bool,
    given: bool,
}

impl Mark {
    /// Shared by `mark` and `connmark`: the `--mark` option.
    pub(crate) fn parse_mark(&mut self, call: &OptCall, ext: &str) -> ExtResult {
        match call.key {
            "mark" => {
                (self.mark, self.mask) =
                    val_mask(call.arg(), ext, "mark").map_err(|e| e.at(call.arg_span()))?;
                self.invert = call.invert;
                self.given = true;
                Ok(())
            }
            _ => unreachable_option(call),
        }
    }

    pub(crate) fn require(&self, ext: &str) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(ExtError::new(format!(
                "{ext}: option \"--mark\" must be specified"
            )))
        }
    }

    pub(crate) fn save_mark(&self, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(" --mark");
        fmt_val_mask(out, self.mark, self.mask);
    }
}

impl MatchDef for Mark {
    const NAME: &'static str = "mark";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("mark").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        self.parse_mark(call, "mark")
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        self.require("mark")
    }

    /// `mark_mt`: `(skb->mark & mask) == mark`, XOR `!`.
    fn eval(&self, f: &Facts) -> MatchResult {
        MatchResult::from_bool(((f.mark & self.mask) == self.mark) != self.invert)
    }

    /// `mark_mt_print`: ` mark match`, ` !`, `xtables_print_mark_mask`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" mark match");
        out.push_str(bang(self.invert));
        fmt_val_mask(out, self.mark, self.mask);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        self.save_mark(out);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn hex_canonical_form() {
        let rt = |r| roundtrip("filter", "INPUT", r);
        assert_eq!(
            rt("-m mark --mark 4294967295").unwrap(),
            "-m mark --mark 0xffffffff"
        );
        assert_eq!(
            rt("-m mark ! --mark 16/0x10").unwrap(),
            "-m mark ! --mark 0x10/0x10"
        );
        assert!(rt("-m mark --mark 4294967296").is_err());
        assert!(rt("-m mark --mark -1").is_err());
        assert!(rt("-m mark").unwrap_err().contains("must be specified"));
    }
}
