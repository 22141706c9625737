//! Facts about rules that several lints need.

use crate::ext::Match;
use crate::ir::{Rule, RuleTarget, Table, Verdict};
use crate::source::{SourceFile, Span};

/// Matches every packet: no header condition and only matches that always
/// match (`-m comment`).
pub fn is_unconditional(r: &Rule) -> bool {
    r.src.is_any()
        && !r.src_inv
        && r.dst.is_any()
        && !r.dst_inv
        && r.in_iface.is_any()
        && r.out_iface.is_any()
        && r.proto == 0
        && !r.proto_inv
        && !r.frag
        && r.matches.iter().all(|m| matches!(m.m, Match::Comment(_)))
}

/// The walk never continues past this rule when it matches.
pub fn is_terminal(r: &Rule) -> bool {
    match &r.target {
        RuleTarget::Verdict(_) | RuleTarget::Goto(_) => true,
        RuleTarget::Ext(t) => t.terminal(),
        RuleTarget::None | RuleTarget::Jump(_) => false,
    }
}

/// A short name for the rule's target (`DROP`, `-g CHAIN`, `REJECT`).
pub fn target_name(r: &Rule) -> String {
    match &r.target {
        RuleTarget::None => "no target".into(),
        RuleTarget::Verdict(v) => v.name().into(),
        RuleTarget::Jump(c) => format!("-j {c}"),
        RuleTarget::Goto(c) => format!("-g {c}"),
        RuleTarget::Ext(t) => t.name().into(),
    }
}

pub fn accepts(r: &Rule) -> bool {
    matches!(r.target, RuleTarget::Verdict(Verdict::Accept))
}

/// The `-A` line of a rule (its whole command).
pub fn rule_span(r: &Rule) -> Span {
    r.origin.line
}

/// 1-based line of a span.
pub fn line_of(file: &SourceFile, span: Span) -> usize {
    file.line_col(span.start as usize).line
}

/// Where a user chain was declared (`:NAME ...` or `-N NAME`), for pointing
/// at it; falls back to the start of the file.
pub fn chain_decl(file: &SourceFile, table: &Table, name: &str) -> Span {
    let _ = table;
    for n in 1..=file.line_count() {
        let span = file.line_span(n);
        let line = file.slice(span);
        let words: Vec<&str> = line.split_whitespace().collect();
        let declared = line.starts_with(':') && words.first() == Some(&format!(":{name}").as_str())
            || words
                .windows(2)
                .any(|w| (w[0] == "-N" || w[0] == "--new-chain") && w[1] == name);
        if declared {
            return span;
        }
    }
    Span::new(0, 0)
}

/// Chains reachable from `start` (itself included) through -j and -g.
pub fn reachable_chains(table: &Table, start: usize) -> Vec<usize> {
    let mut seen = vec![false; table.chains.len()];
    let mut stack = vec![start];
    let mut out = Vec::new();
    while let Some(c) = stack.pop() {
        if std::mem::replace(&mut seen[c], true) {
            continue;
        }
        out.push(c);
        for r in &table.chains[c].rules {
            if let Some(i) = r.target.chain().and_then(|n| table.chain_index(n)) {
                stack.push(i);
            }
        }
    }
    out
}

/// The `--ctstate` mask and its negation of a rule's conntrack match, in
/// `state`'s bit layout. Filled in when the conntrack extension exists.
pub fn conntrack_state_mask(r: &Rule) -> Option<(u8, bool)> {
    let _ = r;
    None
}
