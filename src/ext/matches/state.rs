//! `-m state --state LIST`: the packet's conntrack state. In 1.8.9 this is
//! an alias of `-m conntrack` (libxt_conntrack.c: kernel match `conntrack`
//! rev 3 with XT_CONNTRACK_STATE_ALIAS), saved back as `-m state`.
//! The bits here are xt_state.h's; `conntrack::from_state_bits` gives the
//! conntrack ones (equal except UNTRACKED).

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{MatchDef, RuleCtx};

/// State bits as `XT_STATE_BIT(ctinfo)`: INVALID is bit 0, then ctinfo + 1
/// (ESTABLISHED 0, RELATED 1, NEW 2), UNTRACKED `1 << (IP_CT_NUMBER + 1)`
/// = bit 6 (xt_state.h).
pub const INVALID: u8 = 1 << 0;
pub const ESTABLISHED: u8 = 1 << 1;
pub const RELATED: u8 = 1 << 2;
pub const NEW: u8 = 1 << 3;
pub const UNTRACKED: u8 = 1 << 6;

/// Names in the order `state_print_state` prints them.
pub const STATE_NAMES: &[(&str, u8)] = &[
    ("INVALID", INVALID),
    ("NEW", NEW),
    ("RELATED", RELATED),
    ("ESTABLISHED", ESTABLISHED),
    ("UNTRACKED", UNTRACKED),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub mask: u8,
    pub invert: bool,
    given: bool,
}

impl MatchDef for State {
    const NAME: &'static str = "state";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("state").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "state" => {
                self.mask = parse_states(call.arg()).map_err(|e| e.at(call.arg_span()))?;
                self.invert = call.invert;
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
            Err(ExtError::new("state: option \"--state\" must be specified"))
        }
    }

    /// `state_mt`: the packet's one state bit against the mask (the `!` form
    /// is the conntrack match's XT_CONNTRACK_STATE inversion).
    fn eval(&self, f: &Facts) -> MatchResult {
        MatchResult::from_bool((self.mask & f.ct.state != 0) != self.invert)
    }

    /// 1.8.9 loads `-m state` as the conntrack match with the state alias
    /// flag, so `conntrack_dump` prints it: ` ! state` and the names.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(" state ");
        fmt_states(out, self.mask);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(" --state ");
        fmt_states(out, self.mask);
    }
}

/// `state_parse_states` (libxt_conntrack.c, which provides `-m state` in
/// 1.8.9): a comma list; each word is a case-insensitive prefix of a name,
/// tried in the order INVALID, NEW, ESTABLISHED, RELATED, UNTRACKED.
pub fn parse_states(s: &str) -> ExtResult<u8> {
    const ORDER: [&str; 5] = ["INVALID", "NEW", "ESTABLISHED", "RELATED", "UNTRACKED"];
    let mut mask = 0;
    let mut rest = s;
    loop {
        let (word, next) = match rest.split_once(',') {
            Some((w, n)) => (w, Some(n)),
            None => (rest, None),
        };
        if next.is_none() && word.is_empty() {
            return Err(ExtError::new(
                "\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED",
            ));
        }
        let hit = ORDER
            .iter()
            .find(|n| {
                !word.is_empty()
                    && n.get(..word.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(word))
            })
            .and_then(|n| STATE_NAMES.iter().find(|(name, _)| name == n));
        let Some((_, bit)) = hit else {
            return Err(ExtError::new(format!("Bad state \"{rest}\"")));
        };
        mask |= bit;
        match next {
            Some(n) => rest = n,
            None => return Ok(mask),
        }
    }
}

pub fn fmt_states(out: &mut String, mask: u8) {
    let mut first = true;
    for (name, bit) in STATE_NAMES {
        if mask & bit != 0 {
            if !first {
                out.push(',');
            }
            out.push_str(name);
            first = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_errors_as_1_8_9() {
        assert_eq!(parse_states("n,e"), Ok(NEW | ESTABLISHED));
        assert_eq!(parse_states("untracked"), Ok(UNTRACKED));
        assert!(parse_states("NEW,")
            .unwrap_err()
            .message
            .contains("requires a list"));
        assert_eq!(
            parse_states(",NEW").unwrap_err().message,
            "Bad state \",NEW\""
        );
        assert_eq!(
            parse_states("NEWX").unwrap_err().message,
            "Bad state \"NEWX\""
        );
    }
}
