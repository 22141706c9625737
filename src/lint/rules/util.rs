//! Facts about rules that several lints need.

use crate::ext::matches::conntrack::Inv;
use crate::ext::Match;
use crate::ir::{Rule, RuleTarget, Table, Verdict};
use crate::lint::space::IntervalSet;
use crate::lint::space_ext;
use crate::source::{SourceFile, Span};

/// Matches every packet: no header condition and only matches that always
/// match (`-m comment`).
pub fn is_unconditional(r: &Rule) -> bool {
    r.header_is_any() && r.matches.iter().all(|m| matches!(m.m, Match::Comment(_)))
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

/// The `--ctstate` of a rule's conntrack match (xt_conntrack.h bits, with
/// SNAT/DNAT and UNTRACKED at bits 6..8) and its `!`.
pub fn conntrack_state(r: &Rule) -> Option<Inv<u16>> {
    r.matches.iter().find_map(|m| match &m.m {
        Match::Conntrack(c) => c.state,
        _ => None,
    })
}

/// The conntrack-state atoms (`lint::space_ext::ct_atoms`) that the rule's
/// `-m state` and `-m conntrack --ctstate/--ctdir` matches let through;
/// `None` when it has neither.
pub fn state_atoms(r: &Rule) -> Option<IntervalSet> {
    let mut out: Option<IntervalSet> = None;
    for m in &r.matches {
        let set = match &m.m {
            Match::State(s) => space_ext::state_atoms(s.mask, s.invert),
            Match::Conntrack(c) if c.state.is_some() || c.dir.is_some() => {
                space_ext::conntrack_atoms(c).0
            }
            _ => continue,
        };
        out = Some(match out {
            Some(o) => o.intersect(&set),
            None => set,
        });
    }
    out
}

/// Whether the rule's state matches admit some packet of ctinfo `base`
/// (0 INVALID, 1 ESTABLISHED, 2 RELATED, 3 NEW, 4 UNTRACKED).
pub fn admits_state(r: &Rule, base: u32) -> bool {
    state_atoms(r).is_some_and(|s| s.intersects(&IntervalSet::range(base * 8, base * 8 + 7)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(spec: &str) -> Rule {
        let text = format!("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {spec}\nCOMMIT\n");
        let file = SourceFile::new("t", text);
        let loaded = crate::ir::load(&file);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.ruleset.tables[0].chains[0].rules[0].clone()
    }

    #[test]
    fn ctstate_and_state_read_alike() {
        let ct = rule("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
        let st = rule("-m state --state RELATED,ESTABLISHED -j ACCEPT");
        assert_eq!(state_atoms(&ct), state_atoms(&st));
        assert!(admits_state(&ct, 1) && !admits_state(&ct, 3));
        let dnat = rule("-m conntrack --ctstate DNAT -j ACCEPT");
        assert!(admits_state(&dnat, 1) && admits_state(&dnat, 3) && !admits_state(&dnat, 0));
        assert_eq!(
            conntrack_state(&dnat).map(|s| s.value),
            Some(crate::ext::matches::conntrack::ST_DNAT)
        );
        assert!(state_atoms(&rule("-p tcp -j ACCEPT")).is_none());
    }
}
