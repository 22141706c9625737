//! The kernel-shaped ruleset: tables of chains of rules.
//!
//! Invariants: a table holds its built-in chains first, in hook order, then
//! user chains sorted by name (byte order), which is how legacy libiptc keeps
//! and `iptables-save` prints them. Chain names are unique within a table.

use super::hook::{Hook, TableKind};
use super::rule::Rule;
use crate::syntax::ast::Counters;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Accept,
    Drop,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::Accept => "ACCEPT",
            Policy::Drop => "DROP",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Chain {
    pub name: String,
    /// The hook of a built-in chain; `None` for user chains.
    pub hook: Option<Hook>,
    /// Built-in chains only.
    pub policy: Option<Policy>,
    /// Policy counters (built-in chains).
    pub counters: Counters,
    pub rules: Vec<Rule>,
}

impl Chain {
    pub fn is_builtin(&self) -> bool {
        self.hook.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub kind: TableKind,
    pub chains: Vec<Chain>,
}

impl Table {
    /// A table as the kernel registers it: empty built-in chains, ACCEPT.
    pub fn new(kind: TableKind) -> Table {
        let chains = kind
            .hooks()
            .iter()
            .map(|h| Chain {
                name: h.chain_name().to_string(),
                hook: Some(*h),
                policy: Some(Policy::Accept),
                counters: Counters::default(),
                rules: Vec::new(),
            })
            .collect();
        Table { kind, chains }
    }

    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    pub fn chain_index(&self, name: &str) -> Option<usize> {
        let builtins = self.kind.hooks().len();
        if let Some(i) = self.chains[..builtins].iter().position(|c| c.name == name) {
            return Some(i);
        }
        self.chains[builtins..]
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .ok()
            .map(|i| i + builtins)
    }

    /// [`chain_index`](Self::chain_index), trying `hint` first and leaving
    /// the answer there: consecutive rules of a file nearly always name the
    /// same chain, and one comparison is cheaper than the search.
    pub fn chain_index_hinted(&self, name: &str, hint: &mut usize) -> Option<usize> {
        if self.chains.get(*hint).is_some_and(|c| c.name == name) {
            return Some(*hint);
        }
        let i = self.chain_index(name)?;
        *hint = i;
        Some(i)
    }

    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chain_index(name).map(|i| &self.chains[i])
    }

    pub fn chain_mut(&mut self, name: &str) -> Option<&mut Chain> {
        self.chain_index(name).map(move |i| &mut self.chains[i])
    }

    /// Adds an empty user chain in sorted position; false if the name exists.
    pub fn add_user_chain(&mut self, name: &str) -> bool {
        if self.chain_index(name).is_some() {
            return false;
        }
        let builtins = self.kind.hooks().len();
        let pos = self.chains[builtins..].partition_point(|c| c.name.as_str() < name) + builtins;
        self.chains.insert(
            pos,
            Chain {
                name: name.to_string(),
                hook: None,
                policy: None,
                counters: Counters::default(),
                rules: Vec::new(),
            },
        );
        true
    }

    pub fn user_chains(&self) -> &[Chain] {
        &self.chains[self.kind.hooks().len()..]
    }

    /// Number of rules that jump or go to `name`.
    pub fn references(&self, name: &str) -> usize {
        self.chains
            .iter()
            .flat_map(|c| &c.rules)
            .filter(|r| r.target.chain() == Some(name))
            .count()
    }
}

/// Tables in the order they first appeared in the input.
#[derive(Debug, Clone, Default)]
pub struct Ruleset {
    pub tables: Vec<Table>,
}

impl Ruleset {
    pub fn table(&self, kind: TableKind) -> Option<&Table> {
        self.tables.iter().find(|t| t.kind == kind)
    }

    pub fn table_mut_or_new(&mut self, kind: TableKind) -> &mut Table {
        match self.tables.iter().position(|t| t.kind == kind) {
            Some(i) => &mut self.tables[i],
            None => {
                self.tables.push(Table::new(kind));
                self.tables.last_mut().expect("just pushed")
            }
        }
    }

    pub fn rule_count(&self) -> usize {
        self.tables
            .iter()
            .flat_map(|t| &t.chains)
            .map(|c| c.rules.len())
            .sum()
    }
}
