//! The iptables-restore file format, line by line.
//!
//! As `ios_restore()` in iptables-restore.c (1.8.9) reads it: blank lines and
//! lines starting with `#` are skipped; `*table` opens a table; `:CHAIN POLICY
//! [p:b]` declares a chain; `COMMIT` closes the table; anything else inside a
//! table is a command whose words are split by [`split_restore_words`](crate::syntax::lexer::split_restore_words), with an
//! optional `[p:b]` counter prefix. Structural checks that need the table
//! contents (policy on a user chain, duplicate chains) are `ir::build`'s.

use super::ast::{Command, Counters, Format, Item, RuleFile, Token};
use super::lexer::{parse_counters, split_restore_words_into};
use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};
use std::sync::Arc;

pub fn parse<'a>(file: &'a Arc<SourceFile>, diags: &mut Vec<Diagnostic>) -> RuleFile<'a> {
    let mut items = Vec::new();
    for_each(file, diags, |item| items.push(item.clone()));
    RuleFile {
        format: Format::Restore,
        items,
    }
}

/// Hands each item to `emit` as soon as its line is read, so a caller that
/// applies items at once touches every token while it is still in cache
/// (and one word list serves every line).
pub fn for_each<'a>(
    file: &'a Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
    mut emit: impl FnMut(&Item<'a>),
) {
    let mut open_table: Option<Span> = None;
    let mut words: Vec<Token<'a>> = Vec::with_capacity(32);
    for line_no in 1..=file.line_count() {
        let span = with_cr(file, file.line_span(line_no));
        let text = file.slice(span);
        // iptables-restore compares the whole fgets() buffer with "COMMIT\n":
        // a COMMIT with blanks, a `\r`, or no newline at the end of the file
        // is read as a rule and refused ("Bad argument `COMMIT'").
        let newline_follows = file.text.as_bytes().get(span.end as usize) == Some(&b'\n');
        let exact_commit = text == "COMMIT" && newline_follows;
        if !exact_commit && text.trim() == "COMMIT" && open_table.is_some() {
            diags.push(
                Diagnostic::error(file, span, "Bad argument `COMMIT'")
                    .with_help("iptables-restore reads `COMMIT` only alone on its line, ended by a newline (no blanks, no `\\r`, not at the very end of the file without a newline)"),
            );
            open_table = None;
            emit(&Item::Commit { line: span });
            continue;
        }
        let base = span.start as usize;
        let trimmed = text.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || text.starts_with('#') {
            continue;
        }
        if let Some(rest) = text.strip_prefix('*') {
            if let Some(prev) = open_table {
                // Inside a table, iptables-restore takes `*nat` for a rule
                // line and refuses it there ("Bad argument `*nat'").
                let word = text.split([' ', '\t']).next().unwrap_or(text);
                diags.push(
                    Diagnostic::error(file, span, format!("Bad argument `{word}'"))
                        .with_label(prev, "this table has no COMMIT")
                        .with_help("add a COMMIT line to close the previous table"),
                );
            }
            let name = table_name(rest, base + 1)
                .unwrap_or_else(|| Token::new("", Span::new(base + 1, base + 1)));
            open_table = Some(span);
            emit(&Item::Table { name, line: span });
            continue;
        }
        if open_table.is_none() {
            diags.push(
                Diagnostic::error(file, span, "line is not inside a table")
                    .with_help("start the table with a line such as `*filter`"),
            );
            continue;
        }
        if exact_commit {
            open_table = None;
            emit(&Item::Commit { line: span });
        } else if let Some(rest) = text.strip_prefix(':') {
            if let Some(item) = chain_line(file, rest, base + 1, span, diags) {
                emit(&item);
            }
        } else if let Some(cmd) = command_line(file, text, base, span, diags, &mut words) {
            let item = Item::Command(cmd);
            emit(&item);
            if let Item::Command(cmd) = item {
                words = cmd.args;
            }
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
}

/// The line's span including a trailing `\r` (which `line_span` drops):
/// iptables-restore keeps it as part of the last word.
fn with_cr(file: &SourceFile, span: Span) -> Span {
    if file.text.as_bytes().get(span.end as usize) == Some(&b'\r') {
        Span::new(span.start as usize, span.end as usize + 1)
    } else {
        span
    }
}

/// The table name after `*`: up to the first blank (a `\r` stays in it, as
/// iptables-restore's strtok(" \t\n") leaves it: "unable to initialize
/// table 'filter\r'").
fn table_name(text: &str, base: usize) -> Option<Token<'_>> {
    let skip = text.len() - text.trim_start_matches([' ', '\t']).len();
    let rest = text.get(skip..)?;
    let w = rest.split([' ', '\t']).next().filter(|w| !w.is_empty())?;
    Some(Token::new(w, Span::new(base + skip, base + skip + w.len())))
}

/// Blank-separated words, as `strtok(" \t\n")` gives them.
fn words(text: &str, base: usize) -> impl Iterator<Item = Token<'_>> {
    let mut offset = 0;
    text.split([' ', '\t', '\r']).filter_map(move |w| {
        let start = offset;
        offset += w.len() + 1;
        (!w.is_empty()).then(|| Token::new(w, Span::new(base + start, base + start + w.len())))
    })
}

fn chain_line<'a>(
    file: &Arc<SourceFile>,
    rest: &'a str,
    base: usize,
    line: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Item<'a>> {
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

fn command_line<'a>(
    file: &Arc<SourceFile>,
    text: &'a str,
    base: usize,
    line: Span,
    diags: &mut Vec<Diagnostic>,
    words: &mut Vec<Token<'a>>,
) -> Option<Command<'a>> {
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
    match split_restore_words_into(body, body_base, words) {
        Ok(()) => Some(Command {
            counters,
            args: std::mem::take(words),
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

    fn errors(text: &str) -> Vec<String> {
        let f = SourceFile::new("t", text);
        let mut d = Vec::new();
        parse(&f, &mut d);
        d.into_iter().map(|d| d.message).collect()
    }

    /// Each checked with iptables-legacy-restore 1.8.9: only "COMMIT\n"
    /// commits; the others are "Bad argument `COMMIT'".
    #[test]
    fn commit_must_be_exact() {
        assert!(errors("*filter\nCOMMIT\n").is_empty());
        for bad in [
            "COMMIT",
            "COMMIT \n",
            "COMMIT\r\n",
            " COMMIT\n",
            "COMMIT\t\n",
        ] {
            let e = errors(&format!("*filter\n{bad}"));
            assert_eq!(e, vec!["Bad argument `COMMIT'"], "{bad:?}");
        }
    }

    #[test]
    fn table_inside_table_is_a_bad_argument() {
        let e = errors("*filter\n*nat\nCOMMIT\n");
        assert_eq!(e.first().map(String::as_str), Some("Bad argument `*nat'"));
    }

    #[test]
    fn carriage_return_stays_in_the_last_word() {
        let f = SourceFile::new("t", "*filter\r\n-A INPUT -j ACCEPT\r\nCOMMIT\n");
        let mut d = Vec::new();
        let rf = parse(&f, &mut d);
        match (&rf.items[0], &rf.items[1]) {
            (Item::Table { name, .. }, Item::Command(c)) => {
                assert_eq!(name.text, "filter\r");
                assert_eq!(c.args.last().map(Token::as_str), Some("ACCEPT\r"));
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
