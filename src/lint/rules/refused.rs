//! What the IPT1xx lints share: they report the load errors `ir::load`
//! classified (`ir::LoadErrorKind`), one code per kind. The wording is
//! iptables' own (or the kernel log line where iptables-restore only says
//! "line N failed"); IPT102 adds where the forbidden hook comes from.

use crate::diagnostic::Diagnostic;
use crate::ext::CheckCtx;
use crate::ir::{HookMask, LoadErrorKind, Rule, RuleTarget, Table};
use crate::lint::LintInput;
use crate::source::Span;

/// The refused commands of `kind`, as the loader reported them.
pub fn report(input: &LintInput, kind: LoadErrorKind, out: &mut Vec<Diagnostic>) {
    for r in input.refused.iter().filter(|r| r.error.kind == kind) {
        out.push(r.diagnostic.clone());
    }
}

/// IPT102's labels: for a rule the kernel refuses from some hook, the jumps
/// that lead there from the first such hook's built-in chain.
pub fn hook_path(input: &LintInput, d: &Diagnostic) -> Vec<(Span, String)> {
    let Some((table, chain, rule)) = find_rule(input, d.span) else {
        return Vec::new();
    };
    let Ok(hooks) = crate::ir::check::reachable_hooks(table) else {
        return Vec::new();
    };
    let Some(bad) = hooks[chain].iter().find(|h| !passes(table, rule, h.mask())) else {
        return Vec::new();
    };
    let Some(root) = table.chain_index(bad.chain_name()) else {
        return Vec::new();
    };
    path(table, root, chain)
        .into_iter()
        .map(|r| {
            let span = r.origin.target.unwrap_or(r.origin.line);
            (span, format!("reached from {bad} through this jump"))
        })
        .collect()
}

/// The rule whose command holds `span`, with its table and chain index.
fn find_rule<'r>(input: &'r LintInput, span: Span) -> Option<(&'r Table, usize, &'r Rule)> {
    input.ruleset.tables.iter().find_map(|t| {
        t.chains.iter().enumerate().find_map(|(ci, c)| {
            c.rules
                .iter()
                .find(|r| r.origin.line.start <= span.start && span.start < r.origin.line.end)
                .map(|r| (t, ci, r))
        })
    })
}

/// Whether every match and the target of `rule` accept being reached from
/// `hooks` (the kernel's checkentry calls, as `ir::check` makes them).
fn passes(table: &Table, rule: &Rule, hooks: HookMask) -> bool {
    let ctx = CheckCtx {
        table: table.name(),
        hooks,
        rule: rule.ctx(),
    };
    rule.matches.iter().all(|m| m.m.check(&ctx).is_ok())
        && match &rule.target {
            RuleTarget::Ext(t) => {
                t.check(&ctx).is_ok() && t.check_matches(&ctx, &rule.matches).is_ok()
            }
            _ => true,
        }
}

/// The jumps of a shortest path from chain `from` to chain `to` (breadth
/// first, first jump in chain order wins).
fn path(table: &Table, from: usize, to: usize) -> Vec<&Rule> {
    let n = table.chains.len();
    let mut via: Vec<Option<(usize, &Rule)>> = vec![None; n];
    let mut seen = vec![false; n];
    seen[from] = true;
    let mut queue = std::collections::VecDeque::from([from]);
    while let Some(c) = queue.pop_front() {
        if c == to {
            break;
        }
        for r in &table.chains[c].rules {
            let Some(next) = r.target.chain().and_then(|t| table.chain_index(t)) else {
                continue;
            };
            if !std::mem::replace(&mut seen[next], true) {
                via[next] = Some((c, r));
                queue.push_back(next);
            }
        }
    }
    let mut out = Vec::new();
    let mut at = to;
    while let Some((prev, r)) = via[at] {
        out.push(r);
        at = prev;
    }
    out.reverse();
    out
}
