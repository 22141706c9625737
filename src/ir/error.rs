//! What kind of load error a diagnostic is, for tools (the linter's IPT1xx
//! codes) that must tell "iptables refuses this rule" apart from "this is not
//! an iptables file". The kinds are stable; messages may change wording.

use super::hook::TableKind;

/// Why iptables (userspace or the kernel's `translate_table`) refuses a
/// command. Errors of the tokenizer (quotes, lines outside a table) have no
/// kind: they are input errors, not findings about rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LoadErrorKind {
    /// Any other refusal: unknown option, match or target, bad value,
    /// bad policy, conflicting options, a checkentry that fails.
    #[default]
    Rejected,
    /// A target or match only valid in another table (`xt_check_target`'s
    /// `.table`).
    WrongTable,
    /// A target, match or option used from a hook it does not allow, judged
    /// through the jump graph (`xt_check_*`'s `.hooks`, checkentry tests).
    WrongHook,
    /// `-j`/`-g` to a chain that does not exist.
    MissingChain,
    /// Jumps that form a loop reachable from a built-in chain (ELOOP).
    JumpLoop,
    /// A match or option that needs `-p PROTO` (multiport, `--dport`,
    /// `-m tcp`, `--reject-with tcp-reset`, TCPMSS, ...).
    NeedsProtocol,
    /// A script's `-F`/`-X`/`-Z` of a chain that does not exist yet: refused
    /// on a fresh host (iptwalk starts from empty tables), a no-op cleanup on
    /// a host where it exists; the table is the same afterwards either way.
    Cleanup,
}

/// A classified load error: `Loaded::errors[i]` describes
/// `Loaded::diagnostics[i]` when it is `Some`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadError {
    pub kind: LoadErrorKind,
    /// The table the command edits, when known.
    pub table: Option<TableKind>,
    /// The command was left out of the ruleset (a parse or apply error, or a
    /// shell command the kernel refused); `false` for errors found when the
    /// restore table is committed, whose rules all stay in the ruleset.
    pub skipped: bool,
}
