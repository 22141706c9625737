//! Option tables: what an extension's options look like on the command line.
//!
//! Each extension declares a `&[OptSpec]`, as iptables extensions declare their
//! `xt_option_entry` tables (libxt_*.c). The command parser looks options up
//! here (exact name first, then a unique prefix, as getopt_long does), checks
//! `!` and repetition, and hands the extension an [`OptCall`].

use crate::source::Span;
use crate::syntax::ast::Token;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// A flag: `--syn`.
    None,
    /// `--dport 22` or `--dport=22`.
    Required,
    /// Takes the next word only when it does not start with `-` or `!`.
    Optional,
    /// Two words (`--tcp-flags MASK COMP`): the second comes in `OptCall::extra`.
    Two,
}

#[derive(Debug, Clone, Copy)]
pub struct OptSpec {
    /// Long name without the leading `--`.
    pub name: &'static str,
    /// The option this spelling stands for (`destination-port` → `dport`).
    pub key: &'static str,
    pub arg: Arg,
    /// `! --opt` is allowed.
    pub invert: bool,
    /// May be given more than once.
    pub multi: bool,
}

impl OptSpec {
    pub const fn new(name: &'static str, arg: Arg) -> OptSpec {
        OptSpec {
            name,
            key: name,
            arg,
            invert: false,
            multi: false,
        }
    }
    pub const fn flag(name: &'static str) -> OptSpec {
        OptSpec::new(name, Arg::None)
    }
    pub const fn req(name: &'static str) -> OptSpec {
        OptSpec::new(name, Arg::Required)
    }
    pub const fn two(name: &'static str) -> OptSpec {
        OptSpec::new(name, Arg::Two)
    }
    pub const fn inv(mut self) -> OptSpec {
        self.invert = true;
        self
    }
    pub const fn multi(mut self) -> OptSpec {
        self.multi = true;
        self
    }
    /// Another spelling of `key`.
    pub const fn alias(mut self, key: &'static str) -> OptSpec {
        self.key = key;
        self
    }
}

/// One option occurrence handed to an extension's `parse`.
#[derive(Debug, Clone)]
pub struct OptCall<'a> {
    /// Canonical key of the option (`OptSpec::key`).
    pub key: &'static str,
    /// The spelling used (for messages: `--destination-port`).
    pub name: &'a str,
    pub invert: bool,
    pub value: Option<&'a Token<'a>>,
    /// Further words of an `Arg::Two` option.
    pub extra: &'a [Token<'a>],
    /// Span of the option word (and value, when there is one).
    pub span: Span,
}

impl<'a> OptCall<'a> {
    /// The option's argument; options declared `Arg::Required` always have one.
    pub fn arg(&self) -> &'a str {
        self.value.map_or("", |t| &*t.text)
    }

    pub fn arg_span(&self) -> Span {
        self.value.map_or(self.span, |t| t.span)
    }

    /// An error pointing at this option's argument.
    pub fn err(&self, message: impl Into<String>) -> ExtError {
        ExtError::new(message).at(self.arg_span())
    }
}

/// An extension's complaint: a message in iptables' words, where it points and
/// an optional help line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtError {
    pub message: String,
    pub span: Option<Span>,
    pub help: Option<String>,
    /// What kind of refusal this is (for the linter's IPT1xx codes).
    pub kind: crate::ir::LoadErrorKind,
}

impl ExtError {
    pub fn new(message: impl Into<String>) -> ExtError {
        ExtError {
            message: message.into(),
            span: None,
            help: None,
            kind: crate::ir::LoadErrorKind::Rejected,
        }
    }
    pub fn kind(mut self, kind: crate::ir::LoadErrorKind) -> ExtError {
        self.kind = kind;
        self
    }
    pub fn at(mut self, span: Span) -> ExtError {
        self.span = Some(span);
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> ExtError {
        self.help = Some(help.into());
        self
    }
}

pub type ExtResult<T = ()> = Result<T, ExtError>;

/// Looks `word` (without `--`) up as getopt_long does: an exact match wins,
/// otherwise a prefix shared by exactly one option (spellings of the same key
/// count once).
pub fn lookup<'s>(specs: &'s [OptSpec], word: &str) -> Lookup<'s> {
    if let Some(s) = specs.iter().find(|s| s.name == word) {
        return Lookup::Found(s);
    }
    let mut found: Option<&OptSpec> = None;
    for s in specs.iter().filter(|s| s.name.starts_with(word)) {
        match found {
            None => found = Some(s),
            Some(f) if f.key == s.key => {}
            Some(_) => return Lookup::Ambiguous,
        }
    }
    found.map_or(Lookup::NotFound, Lookup::Found)
}

#[derive(Debug, Clone, Copy)]
pub enum Lookup<'s> {
    Found(&'s OptSpec),
    Ambiguous,
    NotFound,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[OptSpec] = &[
        OptSpec::req("dport").inv(),
        OptSpec::req("destination-port").inv().alias("dport"),
        OptSpec::req("dports"),
    ];

    #[test]
    fn exact_then_unique_prefix() {
        assert!(matches!(lookup(SPECS, "dport"), Lookup::Found(s) if s.name == "dport"));
        assert!(matches!(lookup(SPECS, "dest"), Lookup::Found(s) if s.key == "dport"));
        assert!(matches!(lookup(SPECS, "dpo"), Lookup::Ambiguous));
        assert!(matches!(lookup(SPECS, "x"), Lookup::NotFound));
    }
}
