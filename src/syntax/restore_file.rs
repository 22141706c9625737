//! The iptables-restore file format, line by line.
//!
//! As `ios_restore()` in iptables-restore.c (1.8.9) reads it: blank lines and
//! lines starting with `#` are skipped; `*table` opens a table; `:CHAIN POLICY
//! [p:b]` declares a chain; `COMMIT` closes the table; anything else inside a
//! table is a command whose words are split by [`split_restore_words`], with an
//! optional `[p:b]` counter prefix. Structural checks that need the table
//! contents (policy on a user chain, duplicate chains) are `ir::build`'s.

use super::ast::{Command, Counters, Format, Item, RuleFile, Token};
use super::lexer::{parse_counters, split_restore_words};
use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};
use std::sync::Arc;

pub fn parse(file: &Arc<SourceFile>, diags: &mut Vec<Diagnostic>) -> RuleFile {
    let mut items = Vec::new();
    let mut open_table: Option<Span> = None;
    for line_no in 1..=file.line_count() {
        let span = file.line_span(line_no);
        let text = file.slice(span);
        let base = span.start as usize;
        let trimmed = text.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || text.starts_with('#') {
            continue;
        }
        if let Some(rest) = text.strip_prefix('*') {
            if let Some(prev) = open_table {
                diags.push(
                    Diagnostic::error(
                        file,
                        span,
                        "table opened before the previous one was committed",
                    )
                    .with_label(prev, "this table has no COMMIT")
                    .with_help("add a COMMIT line to close the previous table"),
                );
            }
            let name = first_word(rest, base + 1)
                .unwrap_or_else(|| Token::new("", Span::new(base + 1, base + 1)));
            open_table = Some(span);
            items.push(Item::Table { name, line: span });
            continue;
        }
        if open_table.is_none() {
            diags.push(
                Diagnostic::error(file, span, "line is not inside a table")
                    .with_help("start the table with a line such as `*filter`"),
            );
            continue;
        }
        if text.trim_end() == "COMMIT" {
            open_table = None;
            items.push(Item::Commit { line: span });
        } else if let Some(rest) = text.strip_prefix(':') {
            if let Some(item) = chain_line(file, rest, base + 1, span, diags) {
                items.push(item);
            }
        } else if let Some(cmd) = command_line(file, text, base, span, diags) {
            items.push(Item::Command(cmd));
        }
    }
    if let Some(table) = open_table {
        let end = file.line_span(file.line_count());
        diags.push(
            Diagnostic::error(file, end, "COMMIT expected at the end of the file")
                .with_label(table, "this table is never committed")
                .with_help("iptables-restore applies a table only at its COMMIT line"),
        );
    }
    RuleFile {
        format: Format::Restore,
        items,
    }
}

fn first_word(text: &str, base: usize) -> Option<Token> {
    words(text, base).next()
}

/// Blank-separated words, as `strtok(" \t\n")` gives them.
fn words(text: &str, base: usize) -> impl Iterator<Item = Token> + '_ {
    let mut offset = 0;
    text.split([' ', '\t', '\r']).filter_map(move |w| {
        let start = offset;
        offset += w.len() + 1;
        (!w.is_empty()).then(|| Token::new(w, Span::new(base + start, base + start + w.len())))
    })
}

fn chain_line(
    file: &Arc<SourceFile>,
    rest: &str,
    base: usize,
    line: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Item> {
    let mut w = words(rest, base);
    let Some(name) = w.next() else {
        diags.push(Diagnostic::error(file, line, "chain name invalid"));
        return None;
    };
    let Some(policy) = w.next() else {
        diags.push(
            Diagnostic::error(file, line, "policy invalid")
                .with_help("a chain line reads `:NAME POLICY [packets:bytes]`, with `-` as the policy of a user chain"),
        );
        return None;
    };
    let counters = match w.next() {
        None => None,
        Some(tok) => match parse_counters(&tok.text) {
            Some(c) => Some((c, tok.span)),
            None => {
                diags.push(
                    Diagnostic::error(file, tok.span, "invalid policy counters for chain")
                        .with_help("counters read `[packets:bytes]`, e.g. `[0:0]`"),
                );
                None
            }
        },
    };
    Some(Item::Chain {
        name,
        policy,
        counters,
        line,
    })
}

fn command_line(
    file: &Arc<SourceFile>,
    text: &str,
    base: usize,
    line: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Command> {
    let mut counters: Option<(Counters, Span)> = None;
    let mut body = text;
    let mut body_base = base;
    if text.starts_with('[') {
        let Some(close) = text.find(']') else {
            diags.push(Diagnostic::error(file, line, "bad counters: need `]`"));
            return None;
        };
        let cspan = Span::new(base, base + close + 1);
        match parse_counters(&text[..=close]) {
            Some(c) => counters = Some((c, cspan)),
            None => {
                diags.push(Diagnostic::error(
                    file,
                    cspan,
                    "bad counters: expected `[packets:bytes]`",
                ));
                return None;
            }
        }
        body = &text[close + 1..];
        body_base = base + close + 1;
    }
    match split_restore_words(body, body_base) {
        Ok(args) => Some(Command {
            counters,
            args,
            line,
            table: None,
            from_shell: false,
        }),
        Err(e) => {
            diags.push(Diagnostic::error(file, e.span, e.message));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tables_chains_rules() {
        let f = SourceFile::new(
            "t",
            "# c\n*filter\n:INPUT DROP [1:2]\n[3:4] -A INPUT -j ACCEPT\nCOMMIT\n",
        );
        let mut d = Vec::new();
        let rf = parse(&f, &mut d);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(rf.items.len(), 4);
        match &rf.items[2] {
            Item::Command(c) => {
                assert_eq!(c.counters.unwrap().0.bytes, 4);
                assert_eq!(c.args[0].text, "-A");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_commit_is_reported() {
        let f = SourceFile::new("t", "*filter\n-A INPUT -j ACCEPT\n");
        let mut d = Vec::new();
        parse(&f, &mut d);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("COMMIT"));
    }
}
