//! `-m comment --comment TEXT` (libxt_comment.c): matches every packet.
//!
//! The kernel keeps at most 255 bytes (XT_MAX_COMMENT_LEN 256 with the NUL);
//! iptables refuses longer text. Save quotes the text with `xtables_save_string`.

use super::tcp::unreachable_option;
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{MatchDef, RuleCtx};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    /// `--comment` is XTOPT_MAND.
    given: bool,
}

impl MatchDef for Comment {
    const NAME: &'static str = "comment";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("comment")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "comment" => {
                if call.arg().len() > 255 {
                    return Err(call.err(
                        "comment: option \"--comment\" must be less than 256 characters long",
                    ));
                }
                self.text = call.arg().to_string();
                self.given = true;
                Ok(())
            }
            _ => unreachable_option(call),
        }
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(ExtError::new(
                "comment: option \"--comment\" must be specified",
            ))
        }
    }

    fn eval(&self, _f: &Facts) -> MatchResult {
        MatchResult::Yes
    }

    /// `comment_print`: the text as is, between C comment marks.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" /* ");
        out.push_str(&self.text);
        out.push_str(" */");
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" --comment ");
        save_string(out, &self.text);
    }
}

/// `xtables_save_string` (1.8.9): bare when the text is non-empty and only
/// `[A-Za-z0-9_-]`, otherwise double-quoted with `"`, `\` and `'` escaped by a
/// backslash. Appends nothing before the text: callers write the space.
pub fn save_string(out: &mut String, s: &str) {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        let mut s = String::new();
        save_string(&mut s, "plain-1_x");
        s.push('|');
        save_string(&mut s, r#"a"b\c d"#);
        s.push('|');
        save_string(&mut s, "");
        assert_eq!(s, r#"plain-1_x|"a\"b\\c d"|"""#);
    }
}
