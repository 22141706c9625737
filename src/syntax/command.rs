//! Shell scripts of `iptables` commands (and `iptables -S` output).
//!
//! We interpret the small, common subset of shell that firewall scripts use:
//! `VAR=value` assignments (also `export`, `readonly`), `$VAR`/`${VAR}`
//! expansion with word splitting of unquoted expansions, single and double
//! quotes, backslash escapes, `\` line continuations, `#` comments, `;` and `&&`
//! lists, and redirections (dropped). ``IPT=`which iptables` `` and
//! `IPT=$(which iptables)` mean iptables. Everything else a shell would have to
//! run (loops, conditionals, functions, other programs, `ip6tables`) is
//! reported as a warning "not interpreted" and skipped: nothing is dropped
//! silently. Lines that start with an option (`-A INPUT ...`) are `iptables -S`
//! output, in the table named by the last `# table: NAME` comment.

use super::ast::{Command, Format, Item, RuleFile, Token};
use super::shell_words::{split_words, Part, Word};
use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};
use std::collections::HashMap;
use std::sync::Arc;

/// Programs we treat as iptables (IPv4, legacy or nft backend: same syntax).
fn is_iptables(prog: &str) -> bool {
    let base = prog.rsplit('/').next().unwrap_or(prog);
    matches!(base, "iptables" | "iptables-legacy" | "iptables-nft")
}

fn is_ip6tables(prog: &str) -> bool {
    let base = prog.rsplit('/').next().unwrap_or(prog);
    base.starts_with("ip6tables")
}

const CONTROL_WORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
    "function", "{", "}", "select",
];

pub fn parse<'a>(file: &'a Arc<SourceFile>, diags: &mut Vec<Diagnostic>) -> RuleFile<'a> {
    let mut p = ScriptParser {
        file,
        diags,
        vars: HashMap::new(),
        items: Vec::new(),
        table: None,
        depth: 0,
    };
    for (text_spans, line) in logical_lines(file) {
        p.line(&text_spans, line);
    }
    RuleFile {
        format: Format::Script,
        items: p.items,
    }
}

/// Joins `\`-continued physical lines; yields the pieces (byte spans) of each
/// logical line and the span of the whole.
fn logical_lines(file: &SourceFile) -> Vec<(Vec<Span>, Span)> {
    let mut out = Vec::new();
    let mut pieces: Vec<Span> = Vec::new();
    for n in 1..=file.line_count() {
        let span = file.line_span(n);
        let text = file.slice(span);
        if text.ends_with('\\') && !text.ends_with("\\\\") {
            pieces.push(Span::new(span.start as usize, span.end as usize - 1));
            continue;
        }
        pieces.push(span);
        let whole = pieces[0].to(span);
        out.push((std::mem::take(&mut pieces), whole));
    }
    if !pieces.is_empty() {
        let whole = pieces[0].to(*pieces.last().unwrap_or(&pieces[0]));
        out.push((pieces, whole));
    }
    out
}

struct ScriptParser<'a, 'd> {
    file: &'a Arc<SourceFile>,
    diags: &'d mut Vec<Diagnostic>,
    vars: HashMap<String, String>,
    items: Vec<Item<'a>>,
    /// Table of `iptables -S` lines, from `# table: NAME`.
    table: Option<Token<'a>>,
    /// Nesting of shell compound commands we do not run.
    depth: usize,
}

impl<'a> ScriptParser<'a, '_> {
    fn line(&mut self, pieces: &[Span], whole: Span) {
        let file: &'a Arc<SourceFile> = self.file;
        let first = file.slice(pieces[0]).trim_start();
        if let Some(rest) = first.strip_prefix('#') {
            if let Some(name) = rest.trim().strip_prefix("table:") {
                let name = name.trim();
                let at = file.slice(pieces[0]).find(name).unwrap_or(0);
                let s = pieces[0].start as usize + at;
                self.table = Some(Token::new(name, Span::new(s, s + name.len())));
            }
            return;
        }
        let words = match split_words(self.file, pieces) {
            Ok(w) => w,
            Err((msg, span)) => {
                self.diags.push(Diagnostic::error(self.file, span, msg));
                return;
            }
        };
        for list in split_lists(words) {
            self.simple_command(list, whole);
        }
    }

    fn simple_command(&mut self, words: Vec<(Word, String)>, whole: Span) {
        let Some((first, raw)) = words.first() else {
            return;
        };
        let raw = raw.clone();
        let first_span = first.span;
        if CONTROL_WORDS.contains(&raw.as_str()) || raw.ends_with("()") {
            self.depth = match raw.as_str() {
                "if" | "for" | "while" | "until" | "case" | "select" | "{" | "function" => {
                    self.depth + 1
                }
                "fi" | "done" | "esac" | "}" => self.depth.saturating_sub(1),
                _ => self.depth,
            };
            if raw.ends_with("()") {
                self.depth += 1;
            }
            self.not_interpreted(whole, "shell control structure");
            return;
        }
        // Assignments before any command word.
        let mut rest = words.as_slice();
        if matches!(raw.as_str(), "export" | "readonly" | "local" | "declare") {
            rest = &rest[1..];
        }
        let assigns: Vec<_> = rest.iter().take_while(|(_, r)| is_assignment(r)).collect();
        if !assigns.is_empty() && assigns.len() == rest.len() {
            if self.depth == 0 {
                for (w, r) in assigns {
                    self.assign(w, r);
                }
            } else {
                self.not_interpreted(whole, "assignment inside a shell compound command");
            }
            return;
        }
        let expanded = self.expand_all(&words);
        let Some(prog) = expanded.first() else { return };
        if prog.text.starts_with('-') && !prog.text.starts_with("--") || prog.text.starts_with("--")
        {
            // `iptables -S` output line.
            self.push_command(expanded, whole, true);
            return;
        }
        if self.depth > 0 {
            self.not_interpreted(
                whole,
                "command inside a shell loop, conditional or function",
            );
            return;
        }
        if is_iptables(&prog.text) {
            self.push_command(expanded[1..].to_vec(), whole, false);
        } else if is_ip6tables(&prog.text) {
            self.diags.push(
                Diagnostic::warning(self.file, first_span, "ip6tables command not interpreted")
                    .with_help(
                        "iptwalk reads IPv4 rules only for now; ip6tables support comes later",
                    ),
            );
        } else {
            self.not_interpreted(
                whole,
                &format!("`{}` is not an iptables command", prog.text),
            );
        }
    }

    fn push_command(&mut self, args: Vec<Token<'a>>, whole: Span, dash_s_form: bool) {
        self.items.push(Item::Command(Command {
            counters: None,
            args,
            line: whole,
            table: if dash_s_form {
                self.table.clone()
            } else {
                None
            },
            from_shell: true,
        }));
    }

    fn not_interpreted(&mut self, span: Span, why: &str) {
        // One warning per line, even for `if ...; then`.
        if self
            .diags
            .last()
            .is_some_and(|d| d.span == span && d.message.starts_with("not interpreted"))
        {
            return;
        }
        self.diags.push(
            Diagnostic::warning(self.file, span, format!("not interpreted: {why}"))
                .with_help("iptwalk runs plain iptables commands and VAR=value assignments only; this line is skipped"),
        );
    }

    fn assign(&mut self, word: &Word, raw: &str) {
        let name = raw.split('=').next().unwrap_or("").to_string();
        let value = self.expand_word(word, false);
        let value = value.join(" ");
        let value = value
            .split_once('=')
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();
        self.vars.insert(name, value);
    }

    fn expand_all(&mut self, words: &[(Word, String)]) -> Vec<Token<'a>> {
        let mut out = Vec::new();
        for (w, _) in words {
            for text in self.expand_word(w, true) {
                out.push(Token::new(text, w.span));
            }
        }
        out
    }

    /// Expands one word; unquoted variable values are split on blanks when `split`.
    fn expand_word(&mut self, w: &Word, split: bool) -> Vec<String> {
        let mut fields: Vec<String> = vec![String::new()];
        let mut any_quoted_or_lit = false;
        for part in &w.parts {
            match part {
                Part::Lit(s) => {
                    any_quoted_or_lit = true;
                    if let Some(f) = fields.last_mut() {
                        f.push_str(s);
                    }
                }
                Part::Subst(cmd) => {
                    let words: Vec<&str> = cmd.split_whitespace().collect();
                    let value = match words.as_slice() {
                        ["which" | "command" | "type", prog] | ["command", "-v", prog]
                            if is_iptables(prog) =>
                        {
                            "iptables".to_string()
                        }
                        _ => {
                            self.diags.push(Diagnostic::warning(
                                self.file,
                                w.span,
                                format!("command substitution `{cmd}` not interpreted; expanded to nothing"),
                            ));
                            String::new()
                        }
                    };
                    if let Some(f) = fields.last_mut() {
                        f.push_str(&value);
                    }
                }
                Part::Var { name, quoted } => {
                    let value = match self.vars.get(name) {
                        Some(v) => v.clone(),
                        None => {
                            self.diags.push(
                                Diagnostic::warning(self.file, w.span, format!("variable `{name}` is not set in this file; expanded to nothing"))
                                    .with_help("set it with a plain `NAME=value` line before it is used"),
                            );
                            String::new()
                        }
                    };
                    if *quoted || !split {
                        any_quoted_or_lit = true;
                        if let Some(f) = fields.last_mut() {
                            f.push_str(&value);
                        }
                    } else {
                        let mut pieces = value.split([' ', '\t', '\n']).peekable();
                        if let Some(p) = pieces.next() {
                            if let Some(f) = fields.last_mut() {
                                f.push_str(p);
                            }
                        }
                        for p in pieces {
                            fields.push(p.to_string());
                        }
                    }
                }
            }
        }
        if split {
            fields.retain(|f| !f.is_empty());
            if fields.is_empty() && any_quoted_or_lit {
                fields.push(String::new());
            }
        }
        fields
    }
}

fn is_assignment(raw: &str) -> bool {
    let Some((name, _)) = raw.split_once('=') else {
        return false;
    };
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// Splits a word list at `;` and `&&` (both sides run); `||` keeps only the
/// left side (`iptables -X foo || true`); redirections are dropped.
fn split_lists(words: Vec<(Word, String)>) -> Vec<Vec<(Word, String)>> {
    let mut lists = vec![Vec::new()];
    let mut skip_rest = false;
    let mut words = words.into_iter().peekable();
    while let Some((w, raw)) = words.next() {
        match raw.as_str() {
            ";" | "&&" => {
                skip_rest = false;
                lists.push(Vec::new());
            }
            "||" => skip_rest = true,
            r if is_redirection(r) => {
                if matches!(r, ">" | ">>" | "<" | "2>" | "2>>" | "&>") {
                    words.next();
                }
            }
            _ if skip_rest => {}
            _ => lists.last_mut().map(|l| l.push((w, raw))).unwrap_or(()),
        }
    }
    lists.retain(|l| !l.is_empty());
    lists
}

fn is_redirection(raw: &str) -> bool {
    let r = raw.trim_start_matches(|c: char| c.is_ascii_digit());
    r.starts_with('>') || r.starts_with('<') || r.starts_with("&>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmds(text: &str) -> (Vec<Vec<String>>, Vec<Diagnostic>) {
        let f = SourceFile::new("s.sh", text);
        let mut d = Vec::new();
        let rf = parse(&f, &mut d);
        let c = rf
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Command(c) => Some(c.args.iter().map(|t| t.text.to_string()).collect()),
                _ => None,
            })
            .collect();
        (c, d)
    }

    #[test]
    fn variables_quotes_and_continuations() {
        let (c, d) = cmds(
            "#!/bin/sh\nIPT=`which iptables`\nNET=\"10.0.0.0/8\"\n$IPT -A INPUT -s ${NET} \\\n  -m comment --comment 'a b' -j ACCEPT\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            c,
            vec![vec![
                "-A",
                "INPUT",
                "-s",
                "10.0.0.0/8",
                "-m",
                "comment",
                "--comment",
                "a b",
                "-j",
                "ACCEPT"
            ]]
        );
    }

    #[test]
    fn empty_quotes_are_an_empty_argument() {
        let (c, d) = cmds("iptables -A INPUT -m comment --comment '' -j ACCEPT\niptables -A INPUT -m comment --comment \"\" -j ACCEPT\n");
        assert!(d.is_empty(), "{d:?}");
        for words in &c {
            assert_eq!(words[4..6], ["--comment", ""], "{words:?}");
        }
    }

    #[test]
    fn unquoted_expansion_is_split() {
        let (c, _) = cmds("P=\"-p tcp\"\n/sbin/iptables -A INPUT $P -j DROP\n");
        assert_eq!(c[0], ["-A", "INPUT", "-p", "tcp", "-j", "DROP"]);
    }

    #[test]
    fn control_structures_are_skipped_with_a_warning() {
        let (c, d) = cmds("if [ x ]; then\n iptables -A INPUT -j DROP\nfi\necho hi\n");
        assert!(c.is_empty());
        assert_eq!(d.len(), 4, "{d:?}");
        assert!(d.iter().all(|d| d.message.starts_with("not interpreted")));
    }

    #[test]
    fn dash_s_output_uses_table_comment() {
        let f = SourceFile::new("x.S", "# table: nat\n-N DOCKER\n");
        let mut d = Vec::new();
        let rf = parse(&f, &mut d);
        match &rf.items[0] {
            Item::Command(c) => assert_eq!(c.table.as_ref().unwrap().text, "nat"),
            other => panic!("{other:?}"),
        }
    }
}
