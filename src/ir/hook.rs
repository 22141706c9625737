//! Netfilter hooks and the tables that sit on them.
//!
//! Hook numbers are the kernel's `NF_INET_*` (PRE_ROUTING 0 … POST_ROUTING 4);
//! a table's built-in chains are its valid hooks, listed (and saved) in hook
//! order, as `iptables-save` prints them.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Hook {
    Prerouting = 0,
    Input = 1,
    Forward = 2,
    Output = 3,
    Postrouting = 4,
}

impl Hook {
    pub const ALL: [Hook; 5] = [
        Hook::Prerouting,
        Hook::Input,
        Hook::Forward,
        Hook::Output,
        Hook::Postrouting,
    ];

    /// The built-in chain name.
    pub fn chain_name(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }

    pub fn from_chain_name(name: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|h| h.chain_name() == name)
    }

    pub fn mask(self) -> HookMask {
        HookMask(1 << self as u8)
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.chain_name())
    }
}

/// A set of hooks (bit `n` = hook `n`), as the kernel's `hook_mask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct HookMask(pub u8);

impl HookMask {
    pub const NONE: HookMask = HookMask(0);

    pub fn of(hooks: &[Hook]) -> HookMask {
        HookMask(hooks.iter().fold(0, |m, h| m | 1 << *h as u8))
    }
    pub fn contains(self, h: Hook) -> bool {
        self.0 & (1 << h as u8) != 0
    }
    pub fn union(self, o: HookMask) -> HookMask {
        HookMask(self.0 | o.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Hooks in `self` that are not in `allowed` (what `xt_check_target`
    /// complains about).
    pub fn outside(self, allowed: HookMask) -> HookMask {
        HookMask(self.0 & !allowed.0)
    }
    pub fn iter(self) -> impl Iterator<Item = Hook> {
        Hook::ALL.into_iter().filter(move |h| self.contains(*h))
    }
    /// `PREROUTING/INPUT` style list for messages.
    pub fn names(self) -> String {
        self.iter()
            .map(Hook::chain_name)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The five iptables tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum TableKind {
    Filter,
    Nat,
    Mangle,
    Raw,
    Security,
}

impl TableKind {
    pub const ALL: [TableKind; 5] = [
        TableKind::Raw,
        TableKind::Mangle,
        TableKind::Nat,
        TableKind::Filter,
        TableKind::Security,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TableKind::Filter => "filter",
            TableKind::Nat => "nat",
            TableKind::Mangle => "mangle",
            TableKind::Raw => "raw",
            TableKind::Security => "security",
        }
    }

    pub fn from_name(name: &str) -> Option<TableKind> {
        TableKind::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The hooks the table registers on (its built-in chains), in hook order
    /// (iptable_filter.c, iptable_nat.c, ... `valid_hooks`).
    pub fn hooks(self) -> &'static [Hook] {
        use Hook::*;
        match self {
            TableKind::Filter | TableKind::Security => &[Input, Forward, Output],
            TableKind::Nat => &[Prerouting, Input, Output, Postrouting],
            TableKind::Mangle => &[Prerouting, Input, Forward, Output, Postrouting],
            TableKind::Raw => &[Prerouting, Output],
        }
    }
}

impl fmt::Display for TableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
