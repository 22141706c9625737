//! The rule file as written: items in file order, every token with its span.
//!
//! Both input formats (iptables-restore files and shell scripts of `iptables`
//! commands) produce the same [`RuleFile`], so `ir::build` applies them with one
//! set of command semantics.

use crate::source::Span;
use std::borrow::Cow;

/// One argv word after quote removal, with the span of its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    /// Borrowed from the source line when the word is written as is (every
    /// unquoted word of a restore file, so tokenizing copies no text); owned
    /// when quotes, escapes or shell expansion changed it.
    pub text: Cow<'a, str>,
    pub span: Span,
}

impl<'a> Token<'a> {
    pub fn new(text: impl Into<Cow<'a, str>>, span: Span) -> Token<'a> {
        Token {
            text: text.into(),
            span,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// `[packets:bytes]`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<'a> {
    /// `*filter`
    Table { name: Token<'a>, line: Span },
    /// `:INPUT ACCEPT [0:0]` or `:user - [0:0]`
    Chain {
        name: Token<'a>,
        policy: Token<'a>,
        counters: Option<(Counters, Span)>,
        line: Span,
    },
    /// `COMMIT`
    Commit { line: Span },
    /// An iptables command: a restore rule line (`-A INPUT ...`) or a shell
    /// `iptables [-t nat] -A ...` invocation, already split into words.
    Command(Command<'a>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'a> {
    /// `[p:b]` prefix of a restore line.
    pub counters: Option<(Counters, Span)>,
    /// The words after the program name (restore lines: the whole line).
    pub args: Vec<Token<'a>>,
    /// The whole source text of the command (for diagnostics).
    pub line: Span,
    /// The table named by a `# table: X` comment above `iptables -S` output
    /// (restore files name it with `*table`; shell commands with `-t`).
    pub table: Option<Token<'a>>,
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
pub struct RuleFile<'a> {
    pub format: Format,
    pub items: Vec<Item<'a>>,
}
