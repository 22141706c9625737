//! The kernel's load-time checks of a table (`translate_table` in ip_tables.c).
//!
//! `mark_source_chains` walks every jump from each built-in chain, which both
//! finds loops (ELOOP, "Too many levels of symbolic links") and gives every
//! rule the set of hooks it is reachable from; `check_entry_size_and_hooks` /
//! `find_check_entry` then run each match's and target's `checkentry` with
//! that hook mask (`xt_check_match`/`xt_check_target` refuse hooks outside an
//! extension's `.hooks` and tables other than its `.table`). Rules in chains no
//! built-in chain reaches are checked with an empty hook mask, as the kernel does.

use super::error::LoadErrorKind;
use super::hook::{HookMask, TableKind};
use super::rule::Rule;
use super::ruleset::Table;
use crate::ext::{CheckCtx, ExtError, ExtResult, RuleCtx};

/// Errors the kernel would raise loading `table`; empty when it loads.
pub fn check_table(table: &Table) -> Vec<ExtError> {
    let mut errors = Vec::new();
    let hooks = match reachable_hooks(table) {
        Ok(h) => h,
        Err(e) => return vec![e],
    };
    for (ci, chain) in table.chains.iter().enumerate() {
        for rule in &chain.rules {
            let ctx = CheckCtx {
                table: table.name(),
                hooks: hooks[ci],
                rule: rule.ctx(),
            };
            for m in &rule.matches {
                if let Err(e) = m.m.check(&ctx) {
                    let e = classify(e, &ctx, |c| m.m.check(c));
                    errors.push(if e.span.is_some() { e } else { e.at(m.span) });
                }
            }
            if let super::rule::RuleTarget::Ext(t) = &rule.target {
                let check =
                    |c: &CheckCtx| t.check(c).and_then(|()| t.check_matches(c, &rule.matches));
                if let Err(e) = check(&ctx) {
                    let e = classify(e, &ctx, check);
                    let span = rule.origin.target.unwrap_or(rule.origin.line);
                    errors.push(if e.span.is_some() { e } else { e.at(span) });
                }
            }
        }
    }
    errors
}

/// Gives a failed `checkentry` its [`LoadErrorKind`] by asking what would
/// have got past this first error: the same rule reached from no hook (the
/// hooks were wrong), in another table (the table was wrong), or with `-p`
/// naming a protocol (the protocol was missing). For hooks, and for a rule
/// without `-p`, "got past" includes failing later with another message (as
/// TCPMSS's SYN-match test after its hook and protocol tests); a table or a
/// different protocol must make the check pass, since either can bring
/// errors of its own. The classification does not depend on the wording.
fn classify(e: ExtError, ctx: &CheckCtx, check: impl Fn(&CheckCtx) -> ExtResult) -> ExtError {
    if e.kind != LoadErrorKind::Rejected {
        return e;
    }
    let passes = |c: &CheckCtx| check(c).is_ok();
    let gets_past = |c: &CheckCtx| check(c).map_or_else(|o| o.message != e.message, |()| true);
    let unhooked = CheckCtx {
        hooks: HookMask::NONE,
        ..*ctx
    };
    let no_proto = ctx.rule.proto().is_none();
    let kind = if gets_past(&unhooked) {
        LoadErrorKind::WrongHook
    } else if TableKind::ALL
        .iter()
        .filter(|t| t.name() != ctx.table)
        .any(|t| {
            passes(&CheckCtx {
                table: t.name(),
                ..unhooked
            })
        })
    {
        LoadErrorKind::WrongTable
    } else if [6, 17, 132, 33, 136, 1]
        .into_iter()
        .filter(|p| ctx.rule.proto() != Some(*p))
        .any(|proto| {
            let rule = RuleCtx {
                proto,
                proto_inv: false,
            };
            let c = CheckCtx { rule, ..unhooked };
            if no_proto {
                gets_past(&c)
            } else {
                passes(&c)
            }
        })
    {
        LoadErrorKind::NeedsProtocol
    } else {
        LoadErrorKind::Rejected
    };
    e.kind(kind)
}

/// Hooks each chain (by index) is reachable from; an error on a jump loop.
///
/// The kernel (legacy) refuses the whole table and iptables-restore can only
/// name the COMMIT; we blame the jump the nft backend names ("line N:
/// RULE_APPEND failed (Too many links)"): the first jump, in input order,
/// with which the jumps before it close a loop reachable from a built-in
/// chain (checked against iptables-nft-restore 1.8.9).
pub fn reachable_hooks(table: &Table) -> Result<Vec<HookMask>, ExtError> {
    let all = walk(table, None);
    let Err(first_found) = all else { return all };
    let mut jumps: Vec<(u32, &Rule)> = table
        .chains
        .iter()
        .flat_map(|c| &c.rules)
        .filter(|r| r.target.chain().is_some())
        .map(|r| (r.origin.line.start, r))
        .collect();
    jumps.sort_by_key(|(pos, _)| *pos);
    // A loop with the first k jumps stays a loop with more: binary search
    // for the smallest k.
    let (mut lo, mut hi) = (1, jumps.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let limit = jumps.get(mid - 1).map_or(u32::MAX, |(p, _)| *p);
        if walk(table, Some(limit)).is_err() {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    match jumps.get(lo - 1) {
        Some((_, rule)) => Err(loop_error(rule, first_found.help)),
        None => Err(first_found),
    }
}

fn loop_error(rule: &Rule, help: Option<String>) -> ExtError {
    let e = ExtError::new("iptables: Too many levels of symbolic links.")
        .at(rule.origin.target.unwrap_or(rule.origin.line))
        .kind(LoadErrorKind::JumpLoop);
    match help {
        Some(h) => e.help(h),
        None => e,
    }
}

/// The walk of `mark_source_chains`, with only the jumps written at or
/// before source offset `limit` when one is given.
fn walk(table: &Table, limit: Option<u32>) -> Result<Vec<HookMask>, ExtError> {
    let n = table.chains.len();
    let mut hooks = vec![HookMask::NONE; n];
    // Successor lists by chain index.
    let succ: Vec<Vec<(usize, &Rule)>> = table
        .chains
        .iter()
        .map(|c| {
            c.rules
                .iter()
                .filter(|r| limit.is_none_or(|l| r.origin.line.start <= l))
                .filter_map(|r| {
                    r.target
                        .chain()
                        .and_then(|t| table.chain_index(t))
                        .map(|i| (i, r))
                })
                .collect()
        })
        .collect();
    // Iterative DFS from each built-in chain: the kernel only walks from
    // hooks, so a loop among unreachable chains loads.
    for (root, chain) in table.chains.iter().enumerate() {
        let Some(h) = chain.hook else { continue };
        let mut on_stack = vec![false; n];
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        on_stack[root] = true;
        hooks[root] = hooks[root].union(h.mask());
        while let Some((c, i)) = stack.pop() {
            if let Some((next, rule)) = succ[c].get(i) {
                stack.push((c, i + 1));
                if on_stack[*next] {
                    let help = format!(
                        "this jump closes a loop back to chain `{}`",
                        table.chains[*next].name
                    );
                    return Err(loop_error(rule, Some(help)));
                }
                if hooks[*next].contains(h) {
                    continue; // already explored from this hook
                }
                hooks[*next] = hooks[*next].union(h.mask());
                on_stack[*next] = true;
                stack.push((*next, 0));
            } else {
                on_stack[c] = false;
            }
        }
    }
    Ok(hooks)
}
