//! What `iptwalk trace` records of a table walk: every rule test in walk
//! order with the first condition that failed, and every TRACE step (rule,
//! return, policy), so a report can retell the walk as `xtables-monitor
//! --trace` does, plus the reasons.
//!
//! Recording is off by default and never changes a verdict: the judge notes
//! why a rule failed while testing it (a match is evaluated once, as in the
//! kernel, so stateful matches like `limit` or `recent` are not disturbed).

use super::walk::{RulePos, TableVerdict, TraceStep};
use crate::ir::{Hook, TableKind};

/// The first part of a rule that did not match the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// A header test of `ip_packet_match()`, by its option (`-s`, `-i`, ...).
    Header(&'static str),
    /// The match at this index of `Rule::matches` said no.
    Match(usize),
    /// The match at this index cannot be judged offline (taken as no match).
    Unknown(usize, &'static str),
    /// The match at this index asked to drop the packet (`par->hotdrop`).
    Hotdrop(usize),
}

/// One event of a walk, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkEvent {
    /// A rule was tested; `miss` says why it did not match.
    Tested {
        pos: RulePos,
        matched: bool,
        miss: Option<Miss>,
    },
    /// A TRACE step: a rule's target ran, a return to the caller, the policy.
    Step(TraceStep),
}

/// One table's walk at one hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableWalk {
    pub table: TableKind,
    pub hook: Hook,
    pub events: Vec<WalkEvent>,
    pub verdict: TableVerdict,
    /// The rule whose target decided; `None` for the policy.
    pub decided_by: Option<RulePos>,
}
