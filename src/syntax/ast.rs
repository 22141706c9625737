//! The rule file as written: items in file order, every token with its span.
//!
//! Both input formats (iptables-restore files and shell scripts of `iptables`
//! commands) produce the same [`RuleFile`], so `ir::build` applies them with one
//! set of command semantics.

use crate::source::Span;
use compact_str::CompactString;

/// One argv word after quote removal, with the span of its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Inline up to 24 bytes: nearly every word of a rule file fits, so
    /// tokenizing a line allocates only its word list.
    pub text: CompactString,
    pub span: Span,
}

impl Token {
    pub fn new(text: impl Into<CompactString>, span: Span) -> Token {
        Token {
            text: text.into(),
            span,
        }
    }
}

/// `[packets:bytes]`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `*filter`
    Table { name: Token, line: Span },
    /// `:INPUT ACCEPT [0:0]` or `:user - [0:0]`
    Chain {
        name: Token,
        policy: Token,
        counters: Option<(Counters, Span)>,
        line: Span,
    },
    /// `COMMIT`
    Commit { line: Span },
    /// An iptables command: a restore rule line (`-A INPUT ...`) or a shell
    /// `iptables [-t nat] -A ...` invocation, already split into words.
    Command(Command),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// `[p:b]` prefix of a restore line.
    pub counters: Option<(Counters, Span)>,
    /// The words after the program name (restore lines: the whole line).
    pub args: Vec<Token>,
    /// The whole source text of the command (for diagnostics).
    pub line: Span,
    /// The table named by a `# table: X` comment above `iptables -S` output
    /// (restore files name it with `*table`; shell commands with `-t`).
    pub table: Option<Token>,
    /// Read from a shell script (where `-t` is allowed) rather than a restore file.
    pub from_shell: bool,
}

/// Which syntax a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// iptables-save / iptables-restore text.
    Restore,
    /// A shell script of `iptables` commands (also `iptables -S` output).
    Script,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    pub format: Format,
    pub items: Vec<Item>,
}
