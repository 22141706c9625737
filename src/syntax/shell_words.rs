//! Shell words: splitting one logical line of a firewall script into words, with single and
//! double quotes, backslash escapes, `#` comments, `$VAR`/`${VAR}` references and `$(...)` or
//! `` `...` `` substitutions kept as [`Part`]s for [`super::command`] to expand.
//!
//! Invariant: nothing is expanded here; each word keeps its source span, so a diagnostic about
//! what it expands to can point at the text the user wrote.

use crate::source::{SourceFile, Span};

/// One word of shell text before expansion: its pieces and where it came from.
#[derive(Debug, Clone)]
pub(super) struct Word {
    pub(super) parts: Vec<Part>,
    pub(super) span: Span,
}

#[derive(Debug, Clone)]
pub(super) enum Part {
    /// Literal text (from quotes or escapes): never split.
    Lit(String),
    /// `$NAME`; `quoted` expansions are not word-split.
    Var { name: String, quoted: bool },
    /// `$(...)` or `` `...` ``: only `which iptables` is understood.
    Subst(String),
}

/// Shell word splitting with quotes, escapes and `#` comments. Returns each
/// word with its unexpanded text (`raw`, used to spot keywords and assignments).
pub(super) fn split_words(
    file: &SourceFile,
    pieces: &[Span],
) -> Result<Vec<(Word, String)>, (String, Span)> {
    // A `\` continuation joins the lines with nothing between them: the pieces are simply
    // concatenated, each character keeping its offset in the file.
    let mut chars: Vec<(usize, char)> = Vec::new();
    for p in pieces {
        chars.extend(
            file.slice(*p)
                .char_indices()
                .map(|(o, c)| (p.start as usize + o, c)),
        );
    }
    let mut lexer = WordLexer { chars, pos: 0 };
    lexer.words()
}

struct WordLexer {
    chars: Vec<(usize, char)>,
    pos: usize,
}

impl WordLexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|c| c.1)
    }

    fn offset(&self) -> usize {
        self.chars.get(self.pos).map_or_else(
            || self.chars.last().map_or(0, |(o, c)| o + c.len_utf8()),
            |c| c.0,
        )
    }

    fn words(&mut self) -> Result<Vec<(Word, String)>, (String, Span)> {
        let mut out = Vec::new();
        loop {
            while matches!(self.peek(), Some(' ' | '\t' | '\r')) {
                self.pos += 1;
            }
            match self.peek() {
                None | Some('#') => return Ok(out),
                Some(';') => {
                    let s = self.offset();
                    self.pos += 1;
                    out.push((
                        Word {
                            parts: vec![],
                            span: Span::new(s, s + 1),
                        },
                        ";".into(),
                    ));
                }
                Some(_) => out.push(self.word()?),
            }
        }
    }

    fn word(&mut self) -> Result<(Word, String), (String, Span)> {
        let start = self.offset();
        let mut parts = Vec::new();
        let mut raw = String::new();
        let mut lit = String::new();
        // Quotes make a word even when they hold nothing: `--comment ''` passes an empty
        // argument, as the shell does.
        let mut quoted = false;
        while let Some(c) = self.peek() {
            if matches!(c, ' ' | '\t' | '\r' | ';') {
                break;
            }
            self.pos += 1;
            raw.push(c);
            quoted |= matches!(c, '\'' | '"');
            match c {
                '\\' => {
                    if let Some(n) = self.peek() {
                        self.pos += 1;
                        raw.push(n);
                        lit.push(n);
                    }
                }
                '\'' => loop {
                    match self.peek() {
                        None => {
                            return Err((
                                "unterminated single quote".into(),
                                Span::new(start, self.offset()),
                            ))
                        }
                        Some('\'') => {
                            self.pos += 1;
                            raw.push('\'');
                            break;
                        }
                        Some(n) => {
                            self.pos += 1;
                            raw.push(n);
                            lit.push(n);
                        }
                    }
                },
                '"' => self.double_quoted(&mut parts, &mut lit, &mut raw, start)?,
                '$' | '`' => {
                    flush(&mut parts, &mut lit);
                    let part = self.dollar(c, false, &mut raw, start)?;
                    parts.push(part);
                }
                _ => lit.push(c),
            }
        }
        flush(&mut parts, &mut lit);
        if parts.is_empty() && quoted {
            parts.push(Part::Lit(String::new()));
        }
        Ok((
            Word {
                parts,
                span: Span::new(start, self.offset()),
            },
            raw,
        ))
    }

    fn double_quoted(
        &mut self,
        parts: &mut Vec<Part>,
        lit: &mut String,
        raw: &mut String,
        start: usize,
    ) -> Result<(), (String, Span)> {
        // An empty "" must still make a word.
        parts.push(Part::Lit(String::new()));
        loop {
            let Some(c) = self.peek() else {
                return Err((
                    "unterminated double quote".into(),
                    Span::new(start, self.offset()),
                ));
            };
            self.pos += 1;
            raw.push(c);
            match c {
                '"' => return Ok(()),
                '\\' => match self.peek() {
                    Some(n @ ('$' | '`' | '"' | '\\')) => {
                        self.pos += 1;
                        raw.push(n);
                        lit.push(n);
                    }
                    _ => lit.push('\\'),
                },
                '$' | '`' => {
                    flush(parts, lit);
                    let part = self.dollar(c, true, raw, start)?;
                    parts.push(part);
                }
                _ => lit.push(c),
            }
        }
    }

    fn dollar(
        &mut self,
        c: char,
        quoted: bool,
        raw: &mut String,
        start: usize,
    ) -> Result<Part, (String, Span)> {
        let take_until =
            |this: &mut Self, close: char, raw: &mut String| -> Result<String, (String, Span)> {
                let mut s = String::new();
                loop {
                    match this.peek() {
                        None => {
                            return Err((
                                format!("missing `{close}`"),
                                Span::new(start, this.offset()),
                            ))
                        }
                        Some(n) => {
                            this.pos += 1;
                            raw.push(n);
                            if n == close {
                                return Ok(s);
                            }
                            s.push(n);
                        }
                    }
                }
            };
        if c == '`' {
            return Ok(Part::Subst(take_until(self, '`', raw)?));
        }
        match self.peek() {
            Some('(') => {
                self.pos += 1;
                raw.push('(');
                Ok(Part::Subst(take_until(self, ')', raw)?))
            }
            Some('{') => {
                self.pos += 1;
                raw.push('{');
                let name = take_until(self, '}', raw)?;
                Ok(Part::Var { name, quoted })
            }
            Some(n) if n.is_ascii_alphanumeric() || n == '_' => {
                let mut name = String::new();
                while let Some(n) = self
                    .peek()
                    .filter(|n| n.is_ascii_alphanumeric() || *n == '_')
                {
                    self.pos += 1;
                    raw.push(n);
                    name.push(n);
                    if name.len() == 1 && n.is_ascii_digit() {
                        break;
                    }
                }
                Ok(Part::Var { name, quoted })
            }
            _ => Ok(Part::Lit("$".into())),
        }
    }
}

fn flush(parts: &mut Vec<Part>, lit: &mut String) {
    if !lit.is_empty() {
        parts.push(Part::Lit(std::mem::take(lit)));
    }
}
