//! Rule syntax: from text to [`ast::RuleFile`], every token with a span.
//!
//! Two formats: iptables-restore files ([`restore_file`]) and shell scripts of
//! `iptables` commands ([`command`]); [`parse`] picks one from the content.

pub mod ast;
pub mod command;
pub mod lexer;
pub mod restore_file;
mod shell_words;

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;
use std::sync::Arc;

pub use ast::{Format, RuleFile};

/// Reads a rule file in whichever format its first meaningful line shows: a
/// `*table` or `:CHAIN` line means iptables-restore text, anything else a
/// script (`iptables ...` commands or `iptables -S` output).
pub fn parse<'a>(file: &'a Arc<SourceFile>, diags: &mut Vec<Diagnostic>) -> RuleFile<'a> {
    match detect_format(&file.text) {
        Format::Restore => restore_file::parse(file, diags),
        Format::Script => command::parse(file, diags),
    }
}

/// Like [`parse`], but hands the items to `emit` in file order instead of
/// collecting them: restore files stream line by line (scripts need the whole
/// file first, for their variable assignments).
pub fn for_each_item<'a>(
    file: &'a Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
    mut emit: impl FnMut(&ast::Item<'a>),
) {
    match detect_format(&file.text) {
        Format::Restore => restore_file::for_each(file, diags, emit),
        Format::Script => command::parse(file, diags).items.iter().for_each(&mut emit),
    }
}

pub fn detect_format(text: &str) -> Format {
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        return if t.starts_with('*') || t.starts_with(':') {
            Format::Restore
        } else {
            Format::Script
        };
    }
    Format::Restore
}
