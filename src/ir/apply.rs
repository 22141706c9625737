//! The table edits of iptables commands (libiptc's `iptc_*` operations), with
//! libiptc's error strings as `iptables` prints them.

use super::cmdline::{Op, ParsedCommand};
use super::rule::{Rule, RuleTarget};
use super::ruleset::{Policy, Table};
use crate::ext::ExtError;
use crate::syntax::ast::{Counters, Token};

type AResult = Result<(), ExtError>;

fn no_chain(t: &Token) -> ExtError {
    ExtError::new("iptables: No chain/target/match by that name.")
        .at(t.span)
        .help(format!("chain `{}` does not exist in this table", t.text))
}

/// Applies one command. `hint` is the index of the chain the previous
/// command appended to (see [`Table::chain_index_hinted`]).
pub fn apply(table: &mut Table, cmd: ParsedCommand, hint: &mut usize) -> AResult {
    let ParsedCommand { op, mut rules, .. } = cmd;
    prefer_user_chains(table, &mut rules);
    match op {
        Op::Append(chain) => {
            check_targets(table, &rules)?;
            let i = table
                .chain_index_hinted(&chain.text, hint)
                .ok_or_else(|| no_chain(&chain))?;
            rules.append_to(&mut table.chains[i].rules);
            Ok(())
        }
        Op::Insert(chain, pos) => {
            check_targets(table, &rules)?;
            let c = table
                .chain_mut(&chain.text)
                .ok_or_else(|| no_chain(&chain))?;
            let (n, span) = pos.map_or((1, chain.span), |(n, s)| (n as usize, s));
            if n > c.rules.len() + 1 {
                return Err(ExtError::new("iptables: Index of insertion too big.").at(span));
            }
            // iptables inserts each address combination at the same position,
            // so they end up in reverse order.
            for r in rules.into_vec() {
                c.rules.insert(n - 1, r);
            }
            Ok(())
        }
        Op::Replace(chain, (n, span)) => {
            check_targets(table, &rules)?;
            let c = table
                .chain_mut(&chain.text)
                .ok_or_else(|| no_chain(&chain))?;
            if rules.len() != 1 {
                return Err(ExtError::new("-R requires a unique source and destination").at(span));
            }
            let slot = (n as usize)
                .checked_sub(1)
                .and_then(|i| c.rules.get_mut(i))
                .ok_or_else(|| ExtError::new("iptables: Index of replacement too big.").at(span))?;
            if let Some(r) = rules.into_vec().into_iter().next() {
                *slot = r;
            }
            Ok(())
        }
        Op::Delete(chain, Some((n, span))) => {
            let c = table
                .chain_mut(&chain.text)
                .ok_or_else(|| no_chain(&chain))?;
            let i = (n as usize)
                .checked_sub(1)
                .filter(|i| *i < c.rules.len())
                .ok_or_else(|| ExtError::new("iptables: Index of deletion too big.").at(span))?;
            c.rules.remove(i);
            Ok(())
        }
        Op::Delete(chain, None) => {
            let c = table
                .chain_mut(&chain.text)
                .ok_or_else(|| no_chain(&chain))?;
            for r in rules.iter() {
                let i = c.rules.iter().position(|x| x.same_spec(r)).ok_or_else(|| {
                    ExtError::new("iptables: Bad rule (does a matching rule exist in that chain?).")
                        .at(r.origin.line)
                })?;
                c.rules.remove(i);
            }
            Ok(())
        }
        Op::Check(chain) => table
            .chain(&chain.text)
            .map(|_| ())
            .ok_or_else(|| no_chain(&chain)),
        Op::List => Ok(()),
        Op::Flush(chain) => {
            match chain {
                Some(t) => table
                    .chain_mut(&t.text)
                    .ok_or_else(|| no_chain(&t))?
                    .rules
                    .clear(),
                None => table.chains.iter_mut().for_each(|c| c.rules.clear()),
            }
            Ok(())
        }
        Op::Zero(chain, num) => zero(table, chain, num),
        Op::NewChain(name) => {
            if table.add_user_chain(&name.text) {
                Ok(())
            } else {
                Err(ExtError::new("iptables: Chain already exists.").at(name.span))
            }
        }
        Op::DeleteChain(Some(name)) => delete_chain(table, &name),
        Op::DeleteChain(None) => {
            let names: Vec<String> = table.user_chains().iter().map(|c| c.name.clone()).collect();
            for n in names {
                delete_chain(table, &Token::new(n, Default::default()))?;
            }
            Ok(())
        }
        Op::Policy(chain, policy) => {
            let c = table
                .chain_mut(&chain.text)
                .ok_or_else(|| no_chain(&chain))?;
            if !c.is_builtin() {
                return Err(ExtError::new("iptables: Bad built-in chain name.")
                    .at(chain.span)
                    .help("only built-in chains have a policy"));
            }
            c.policy = Some(match policy.as_str() {
                "ACCEPT" => Policy::Accept,
                "DROP" => Policy::Drop,
                _ => {
                    return Err(ExtError::new("iptables: Bad policy name.")
                        .at(policy.span)
                        .help("a policy is ACCEPT or DROP"))
                }
            });
            Ok(())
        }
        Op::Rename(old, new) => rename(table, &old, &new),
    }
}

/// `-j NAME` where NAME is both a target extension and a user chain of the
/// table jumps to the chain: iptables 1.8.9's do_command4 prints "Warning:
/// using chain NAME, not extension" and drops the extension. (Restore files
/// can create such chains with `:LOG - [0:0]`; `-N LOG` is refused.)
fn prefer_user_chains(table: &Table, rules: &mut [Rule]) {
    for r in rules {
        if let RuleTarget::Ext(t) = &r.target {
            if table.chain(t.name()).is_some_and(|c| !c.is_builtin()) {
                r.target = RuleTarget::Jump(t.name().to_string());
            }
        }
    }
}

/// Jumps need an existing user chain (`-j INPUT` into a built-in is refused by
/// libiptc with "Invalid argument" too).
fn check_targets(table: &Table, rules: &[Rule]) -> AResult {
    for r in rules {
        if let Some(name) = r.target.chain() {
            let span = r.origin.target.unwrap_or(r.origin.line);
            match table.chain(name) {
                None => {
                    let msg = match &r.target {
                        RuleTarget::Goto(_) => format!("goto '{name}' is not a chain"),
                        _ => format!("Couldn't load target `{name}':No such file or directory"),
                    };
                    return Err(ExtError::new(msg)
                        .at(span)
                        .kind(super::LoadErrorKind::MissingChain)
                        .help(format!(
                            "create the chain first (`:{name} - [0:0]` or `-N {name}`), or check the target's spelling"
                        )));
                }
                Some(c) if c.is_builtin() => {
                    return Err(ExtError::new("iptables: Invalid argument.")
                        .at(span)
                        .help("a rule cannot jump to a built-in chain"));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

fn zero(
    table: &mut Table,
    chain: Option<Token>,
    num: Option<(u32, crate::source::Span)>,
) -> AResult {
    let chains: Vec<usize> = match &chain {
        Some(t) => vec![table.chain_index(&t.text).ok_or_else(|| no_chain(t))?],
        None => (0..table.chains.len()).collect(),
    };
    for i in chains {
        let c = &mut table.chains[i];
        match num {
            Some((n, span)) => {
                let r = c
                    .rules
                    .get_mut((n as usize).saturating_sub(1))
                    .ok_or_else(|| ExtError::new("iptables: Index of counter too big.").at(span))?;
                r.counters = Counters::default();
            }
            None => {
                c.counters = Counters::default();
                c.rules
                    .iter_mut()
                    .for_each(|r| r.counters = Counters::default());
            }
        }
    }
    Ok(())
}

fn delete_chain(table: &mut Table, name: &Token) -> AResult {
    let i = table
        .chain_index(&name.text)
        .ok_or_else(|| no_chain(name))?;
    if table.chains[i].is_builtin() {
        return Err(ExtError::new("iptables: Invalid argument.")
            .at(name.span)
            .help("built-in chains cannot be deleted"));
    }
    if table.references(&name.text) > 0 {
        return Err(ExtError::new("iptables: Too many links.")
            .at(name.span)
            .help("rules still jump to this chain; delete or change them first"));
    }
    if !table.chains[i].rules.is_empty() {
        return Err(ExtError::new("iptables: Directory not empty.")
            .at(name.span)
            .help("flush the chain (-F) before deleting it"));
    }
    table.chains.remove(i);
    Ok(())
}

fn rename(table: &mut Table, old: &Token, new: &Token) -> AResult {
    let i = table.chain_index(&old.text).ok_or_else(|| no_chain(old))?;
    if table.chains[i].is_builtin() {
        return Err(ExtError::new("iptables: Invalid argument.")
            .at(old.span)
            .help("built-in chains cannot be renamed"));
    }
    if table.chain_index(&new.text).is_some() {
        return Err(ExtError::new("iptables: File exists.").at(new.span));
    }
    let mut chain = table.chains.remove(i);
    chain.name = new.text.to_string();
    for c in &mut table.chains {
        for r in &mut c.rules {
            match &mut r.target {
                RuleTarget::Jump(n) | RuleTarget::Goto(n) if *n == old.text => {
                    *n = new.text.to_string()
                }
                _ => {}
            }
        }
    }
    let rules = std::mem::take(&mut chain.rules);
    table.add_user_chain(&new.text);
    if let Some(c) = table.chain_mut(&new.text) {
        c.rules = rules;
    }
    Ok(())
}
