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
pub fn split_restore_words(line: &str, base: usize) -> Result<Vec<Token<'_>>, LexError> {
    let mut words = Vec::new();
    split_restore_words_into(line, base, &mut words)?;
    Ok(words)
}

/// [`split_restore_words`] into a caller's list (cleared first), so a reader
/// of many lines reuses one allocation.
pub fn split_restore_words_into<'a>(
    line: &'a str,
    base: usize,
    words: &mut Vec<Token<'a>>,
) -> Result<(), LexError> {
    words.clear();
    if split_unquoted(line, base, words) {
        return Ok(());
    }
    words.clear();
    split_quoted(line, base, words);
    Ok(())
}

/// High bit of each byte of `x` that is below 0x23 (blanks, control
/// characters, `!` and `"`), exactly: `x & 0x7f` plus 0x5d per byte reaches
/// 0x80 iff the byte is at least 0x23, and never carries into the next byte.
fn low_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let at_least = (x & LOW7).wrapping_add(0x5d5d_5d5d_5d5d_5d5d) | x;
    !at_least & HIGH
}

/// Words of a line without double quotes, sliced straight from it (most
/// lines of real files): eight bytes at a time, stopping only at the few
/// bytes below 0x23. False, with `words` partly filled, at a `"`.
fn split_unquoted<'a>(line: &'a str, base: usize, words: &mut Vec<Token<'a>>) -> bool {
    let bytes = line.as_bytes();
    let mut start = 0;
    let mut chunk = 0;
    while chunk < bytes.len() {
        let mut hits = low_bytes(load8(bytes, chunk));
        while hits != 0 {
            let at = chunk + (hits.trailing_zeros() / 8) as usize;
            hits &= hits - 1;
            match bytes.get(at) {
                Some(b'"') => return false,
                Some(b' ' | b'\t' | b'\n') => {
                    if at > start {
                        push_slice(words, line, base, start, at);
                    }
                    start = at + 1;
                }
                _ => {}
            }
        }
        chunk += 8;
    }
    if bytes.len() > start {
        push_slice(words, line, base, start, bytes.len());
    }
    true
}

/// The eight bytes at `at` as a little-endian word, padded past the end with
/// a byte [`low_bytes`] ignores.
fn load8(bytes: &[u8], at: usize) -> u64 {
    let mut word = [b'a'; 8];
    match bytes.get(at..at + 8) {
        Some(whole) => word.copy_from_slice(whole),
        None => {
            let tail = bytes.get(at..).unwrap_or_default();
            word[..tail.len()].copy_from_slice(tail);
        }
    }
    u64::from_le_bytes(word)
}

/// Pushes `line[start..end]`, which `split_unquoted` cuts at ASCII blanks
/// (always character boundaries).
fn push_slice<'a>(
    words: &mut Vec<Token<'a>>,
    line: &'a str,
    base: usize,
    start: usize,
    end: usize,
) {
    if let Some(w) = line.get(start..end) {
        words.push(Token {
            text: std::borrow::Cow::Borrowed(w),
            span: Span::new(base + start, base + end),
        });
    }
}

/// The general case, character by character.
fn split_quoted(line: &str, base: usize, words: &mut Vec<Token<'_>>) {
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
                push_word(words, &mut buf, &mut start, base, end);
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
                    push_word(words, &mut buf, &mut start, base, i);
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
        push_word(words, &mut buf, &mut start, base, line.len());
    }
}

fn push_word(
    words: &mut Vec<Token<'_>>,
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

    /// The eight-bytes-at-a-time split gives what a plain split on
    /// `" \t\n"` gives, at every length and position of the odd bytes.
    #[test]
    fn unquoted_split_is_a_plain_split() {
        let pieces = [
            "-A",
            "INPUT",
            "!",
            "\t",
            " ",
            "  ",
            "x\ry",
            "\u{1}",
            "é",
            "a\nb",
            "0123456789abcdef",
        ];
        let mut line = String::new();
        for i in 0..400usize {
            line.push_str(pieces[i * 7 % pieces.len()]);
            if i % 3 == 0 {
                line.push(' ');
            }
            let got: Vec<(String, Span)> = split_restore_words(&line, 5)
                .unwrap()
                .into_iter()
                .map(|t| (t.text.to_string(), t.span))
                .collect();
            let mut want = Vec::new();
            let mut at = 0;
            for w in line.split([' ', '\t', '\n']) {
                if !w.is_empty() {
                    want.push((w.to_string(), Span::new(5 + at, 5 + at + w.len())));
                }
                at += w.len() + 1;
            }
            assert_eq!(got, want, "{line:?}");
        }
    }

    #[test]
    fn a_quote_anywhere_takes_the_quoted_path() {
        assert_eq!(
            words(r#"-A INPUT -m comment --comment "x y""#)
                .last()
                .unwrap(),
            "x y"
        );
        assert_eq!(words(r#"0123456789 "a b""#), ["0123456789", "a b"]);
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
