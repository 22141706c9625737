//! `-m helper --helper NAME` (libxt_helper.c, xt_helper.c): the conntrack
//! helper of the packet's connection (or of its master, for RELATED ones).
//! The kernel keeps 29 bytes of the name (`char name[30]`). `helper_mt` looks
//! only at the master connection's helper: a connection without a master (or
//! whose master has no helper) never matches, whatever the name.

use super::comment::save_string;
use super::tcp::{bang, unreachable_option};
use crate::ext::facts::Facts;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::xt_mandatory;
use crate::ext::{MatchDef, MatchResult, RuleCtx};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Helper {
    pub name: String,
    pub invert: bool,
    given: bool,
}

impl MatchDef for Helper {
    const NAME: &'static str = "helper";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("helper").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        if call.key != "helper" {
            return unreachable_option(call);
        }
        // XTTYPE_STRING with XTOPT_PUT into char[30]: longer text is cut.
        self.name = truncate(call.arg(), 29).to_string();
        self.invert = call.invert;
        self.given = true;
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(xt_mandatory("helper", "helper"))
        }
    }

    /// `helper_mt`: `ret = invert`; no conntrack, no master or no master helper → `ret`;
    /// an empty name matches any helper; otherwise `strncmp(helper->name, info->name,
    /// strlen(helper->name))`, so the rule's name may be longer than the helper's.
    fn eval(&self, f: &Facts) -> MatchResult {
        let helper = f.ct.master_helper;
        if !f.ct.has_master || helper.is_empty() {
            return MatchResult::from_bool(self.invert);
        }
        let hit = self.name.is_empty() || self.name.as_bytes().starts_with(helper.as_bytes());
        MatchResult::from_bool(hit != self.invert)
    }

    /// `helper_print`: the name always quoted, unescaped.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let inv = if self.invert { "! " } else { "" };
        out.push_str(" helper match ");
        out.push_str(inv);
        out.push('"');
        out.push_str(&self.name);
        out.push('"');
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(" --helper ");
        save_string(out, &self.name);
    }
}

/// The longest prefix of `s` of at most `max` bytes on a char boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{facts, roundtrip};
    use super::*;
    use crate::ext::facts::L4Facts;

    fn m(name: &str, invert: bool) -> Helper {
        Helper {
            name: name.into(),
            invert,
            given: true,
        }
    }

    #[test]
    fn looks_at_the_master_helper_only() {
        let mut f = facts(&[], 0, 64, L4Facts::None, 0);
        // The control connection itself has the helper but no master: no match.
        f.ct.helper = "ftp";
        assert_eq!(m("ftp", false).eval(&f), MatchResult::No);
        assert_eq!(m("ftp", true).eval(&f), MatchResult::Yes);
        f.ct.has_master = true;
        f.ct.master_helper = "ftp";
        assert_eq!(m("ftp", false).eval(&f), MatchResult::Yes);
        assert_eq!(
            m("", false).eval(&f),
            MatchResult::Yes,
            "empty name: any helper"
        );
        // strncmp over strlen(helper->name): a longer rule name still matches.
        assert_eq!(m("ftp-21", false).eval(&f), MatchResult::Yes);
        assert_eq!(m("ft", false).eval(&f), MatchResult::No);
        assert_eq!(m("tftp", false).eval(&f), MatchResult::No);
        assert_eq!(m("tftp", true).eval(&f), MatchResult::Yes);
    }

    #[test]
    fn names() {
        assert_eq!(
            roundtrip("-m helper ! --helper ftp").unwrap(),
            "-m helper ! --helper ftp"
        );
        assert_eq!(
            roundtrip("-m helper --helper \"a b\"").unwrap(),
            "-m helper --helper \"a b\""
        );
        assert!(roundtrip("-m helper").is_err());
    }
}
