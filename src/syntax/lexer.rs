//! Word splitting of one iptables-restore rule line.
//!
//! Mirrors `add_param_to_argv()` in iptables' xshared.c (1.8.9): words are split
//! on blanks; a double quote opens a quoted part in which `\` escapes the next
//! character and blanks are kept; the closing quote *ends the word* (so
//! `"a"b` is two words, `a` and `b`). Single quotes and backslashes outside
//! double quotes are ordinary characters, and so is `\r`. Checked against
//! `iptables-legacy-restore` 1.8.9.

use super::ast::{Counters, Token};
use crate::source::Span;

/// Why a line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub message: String,
    pub span: Span,
}

/// Splits `line` (which starts at byte `base` of its file) into words.
pub fn split_restore_words(line: &str, base: usize) -> Result<Vec<Token>, LexError> {
    if !line.contains('"') {
        // Without quotes the words are the blank-separated runs: slice them
        // directly (most lines of real files take this path).
        let bytes = line.as_bytes();
        let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\n');
        let mut words = Vec::with_capacity(16);
        let mut i = 0;
        while i < bytes.len() {
            if blank(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !blank(bytes[i]) {
                i += 1;
            }
            words.push(Token::new(
                &line[start..i],
                Span::new(base + start, base + i),
            ));
        }
        return Ok(words);
    }
    let mut words = Vec::new();
    let mut buf = String::new();
    let mut start: Option<usize> = None;
    let mut quote_open: Option<usize> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        let end = i + c.len_utf8();
        if quote_open.is_some() {
            if escaped {
                buf.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quote_open = None;
                push_word(&mut words, &mut buf, &mut start, base, end);
            } else {
                buf.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                quote_open = Some(i);
                start.get_or_insert(i);
            }
            // add_param_to_argv splits on " \t\n" only: a `\r` of a CRLF
            // file stays in the last word (`Invalid target name `ACCEPT\r'`).
            ' ' | '\t' | '\n' => {
                if start.is_some() {
                    push_word(&mut words, &mut buf, &mut start, base, i);
                }
            }
            _ => {
                start.get_or_insert(i);
                buf.push(c);
            }
        }
    }
    if let Some(q) = quote_open {
        // iptables silently takes an unterminated quote to the end of the
        // line; we keep the word but it is almost always a mistake, so
        // the caller may warn. The word itself is kept as iptables does.
        let _ = q;
    }
    if start.is_some() {
        push_word(&mut words, &mut buf, &mut start, base, line.len());
    }
    Ok(words)
}

fn push_word(
    words: &mut Vec<Token>,
    buf: &mut String,
    start: &mut Option<usize>,
    base: usize,
    end: usize,
) {
    let s = start.take().unwrap_or(end);
    words.push(Token::new(
        std::mem::take(buf),
        Span::new(base + s, base + end),
    ));
}

/// Parses a `[packets:bytes]` counter pair as iptables-restore does
/// (`parse_counters()`: two unsigned 64-bit decimal numbers).
pub fn parse_counters(text: &str) -> Option<Counters> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    let (p, b) = inner.split_once(':')?;
    Some(Counters {
        packets: parse_u64(p)?,
        bytes: parse_u64(b)?,
    })
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        split_restore_words(s, 0)
            .unwrap()
            .into_iter()
            .map(|t| t.text.to_string())
            .collect()
    }

    #[test]
    fn double_quotes_keep_blanks_and_escapes() {
        assert_eq!(
            words(r#"-m comment --comment "a b \" c \\ d 'e'" -j X"#),
            [
                "-m",
                "comment",
                "--comment",
                r#"a b " c \ d 'e'"#,
                "-j",
                "X"
            ]
        );
    }

    #[test]
    fn closing_quote_ends_the_word() {
        assert_eq!(words(r#"x "a"b"c" y"#), ["x", "a", "bc", "y"]);
    }

    #[test]
    fn single_quotes_and_backslashes_are_literal() {
        assert_eq!(words(r"'x' a\ b"), ["'x'", r"a\", "b"]);
    }

    #[test]
    fn spans_cover_the_source_text() {
        let t = split_restore_words(r#"-A  "q r""#, 10).unwrap();
        assert_eq!(t[0].span, Span::new(10, 12));
        assert_eq!(t[1].span, Span::new(14, 19));
    }

    #[test]
    fn counters() {
        assert_eq!(
            parse_counters("[1:20]"),
            Some(Counters {
                packets: 1,
                bytes: 20
            })
        );
        assert_eq!(parse_counters("[1:]"), None);
        assert_eq!(parse_counters("[-1:2]"), None);
    }
}
