//! `-m state --state LIST` (libxt_state.c, xt_state.c): the packet's conntrack
//! state. Kept as `-m state` on save (iptables does not rewrite it to
//! `conntrack --ctstate`).

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{MatchDef, RuleCtx};

/// State bits as `XT_STATE_BIT(ctinfo)`: INVALID is bit 0, then ctinfo + 1
/// (ESTABLISHED 0, RELATED 1, NEW 2), UNTRACKED bit 4.
pub const INVALID: u8 = 1 << 0;
pub const ESTABLISHED: u8 = 1 << 1;
pub const RELATED: u8 = 1 << 2;
pub const NEW: u8 = 1 << 3;
pub const UNTRACKED: u8 = 1 << 4;

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

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(" --state ");
        fmt_states(out, self.mask);
    }
}

/// Comma list of state names, case-insensitive (`state_parse_states`).
pub fn parse_states(s: &str) -> ExtResult<u8> {
    let mut mask = 0;
    for name in s.split(',') {
        let (_, bit) = STATE_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| ExtError::new(format!("Bad state \"{name}\"")))?;
        mask |= bit;
    }
    Ok(mask)
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
