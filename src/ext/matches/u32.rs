//! `-m u32 --u32 TESTS` (libxt_u32.c, xt_u32.c): reads 32-bit words of the
//! packet (from the IP header on) at computed offsets and compares them
//! with value ranges.
//!
//! Grammar (`u32_parse`): `tests := test ("&&" test)*`, `test := location
//! "=" range ("," range)*`, `location := number (op number)*` with ops `&`,
//! `<<`, `>>`, `@`, `range := number [":" number]`; numbers as strtoul base
//! 0; blanks allowed between tokens. At most 10 tests, 10 location numbers
//! and 10 ranges per test. Save prints every number in hex (`u32_dump`).

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{strtoul_prefix, xt_mandatory};
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

/// XT_U32_MAXSIZE.
pub const MAXSIZE: usize = 10;

/// `XT_U32_*` operators between location numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum U32Op {
    And,
    LeftShift,
    RightShift,
    At,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct U32Test {
    /// The first offset.
    pub start: u32,
    /// Then operator/number pairs.
    pub ops: Vec<(U32Op, u32)>,
    /// Inclusive ranges; the word must fall in one.
    pub values: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct U32 {
    pub tests: Vec<U32Test>,
    pub invert: bool,
    given: bool,
}

impl MatchDef for U32 {
    const NAME: &'static str = "u32";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("u32").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        if call.key != "u32" {
            return unreachable_option(call);
        }
        self.tests = parse_u32(call.arg()).map_err(|e| e.at(call.arg_span()))?;
        self.invert = call.invert;
        self.given = true;
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(xt_mandatory("u32", "u32"))
        }
    }

    /// `u32_match_it`: out-of-packet reads make the whole match false
    /// (before the invert).
    fn eval(&self, f: &Facts) -> MatchResult {
        MatchResult::from_bool(self.tests.iter().all(|t| test_packet(t, f.bytes)) != self.invert)
    }

    /// `u32_print`: ` u32`, ` !`, the same quoted tests as save.
    fn list(&self, ctx: &RuleCtx, out: &mut String) {
        out.push_str(" u32");
        let mut s = String::new();
        self.save(ctx, &mut s);
        out.push_str(&s.replacen(" --u32", "", 1));
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(" --u32 \"");
        for (i, t) in self.tests.iter().enumerate() {
            if i > 0 {
                out.push_str("&&");
            }
            let _ = write!(out, "0x{:x}", t.start);
            for (op, n) in &t.ops {
                let op = match op {
                    U32Op::And => "&",
                    U32Op::LeftShift => "<<",
                    U32Op::RightShift => ">>",
                    U32Op::At => "@",
                };
                let _ = write!(out, "{op}0x{n:x}");
            }
            out.push('=');
            for (j, (lo, hi)) in t.values.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                let _ = write!(out, "0x{lo:x}");
                if lo != hi {
                    let _ = write!(out, ":0x{hi:x}");
                }
            }
        }
        out.push('"');
    }
}

fn word(bytes: &[u8], pos: usize) -> Option<u32> {
    let w = bytes.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
}

fn test_packet(t: &U32Test, bytes: &[u8]) -> bool {
    let mut at: u32 = 0;
    let Some(mut val) = word(bytes, t.start as usize) else {
        return false;
    };
    for (op, n) in &t.ops {
        match op {
            U32Op::And => val &= n,
            U32Op::LeftShift => val = val.wrapping_shl(*n),
            U32Op::RightShift => val = val.wrapping_shr(*n),
            U32Op::At => {
                let Some(a) = at.checked_add(val) else {
                    return false;
                };
                at = a;
                let Some(v) = (at as usize)
                    .checked_add(*n as usize)
                    .and_then(|p| word(bytes, p))
                else {
                    return false;
                };
                val = v;
            }
        }
    }
    t.values.iter().any(|(lo, hi)| *lo <= val && val <= *hi)
}

/// The parser state of `u32_parse`: the text and the current position.
struct Cursor<'s> {
    s: &'s str,
    pos: usize,
}

impl<'s> Cursor<'s> {
    fn rest(&self) -> &'s str {
        self.s.get(self.pos..).unwrap_or("")
    }
    fn peek(&self) -> Option<u8> {
        self.rest().as_bytes().first().copied()
    }
    fn skip_space(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }
    fn err(&self, what: &str) -> ExtError {
        ExtError::new(format!("u32: at char {}: {what}", self.pos))
    }
    /// `parse_number`: strtoul base 0 within u32.
    fn number(&mut self) -> ExtResult<u32> {
        let rest = self.rest();
        match strtoul_prefix(rest, u64::MAX) {
            Some((v, r)) if v <= u64::from(u32::MAX) => {
                self.pos += rest.len() - r.len();
                Ok(v as u32)
            }
            _ => Err(self.err("not a number or out of range")),
        }
    }
}

/// `u32_parse`, with its messages and limits.
pub fn parse_u32(s: &str) -> ExtResult<Vec<U32Test>> {
    let mut c = Cursor { s, pos: 0 };
    let mut tests = Vec::new();
    let mut cur = U32Test::default();
    let (mut nlocs, mut in_values) = (0usize, false);
    loop {
        c.skip_space();
        let Some(ch) = c.peek() else {
            if !in_values {
                return Err(ExtError::new(
                    "u32: abrupt end of input after location specifier",
                ));
            }
            if cur.values.is_empty() {
                return Err(ExtError::new("u32: test ended with no value specified"));
            }
            tests.push(cur);
            if tests.len() > MAXSIZE {
                return Err(c.err("too many \"&&\"s"));
            }
            return Ok(tests);
        };
        if !in_values {
            if ch == b'=' {
                if nlocs == 0 {
                    return Err(c.err("location spec missing"));
                }
                c.pos += 1;
                in_values = true;
                continue;
            }
            let op = if nlocs == 0 {
                None
            } else {
                let op = match ch {
                    b'&' => U32Op::And,
                    b'<' | b'>' => {
                        c.pos += 1;
                        if c.peek() != Some(ch) {
                            let which = if ch == b'<' { "'<'" } else { "'>'" };
                            return Err(c.err(&format!("a second {which} was expected")));
                        }
                        if ch == b'<' {
                            U32Op::LeftShift
                        } else {
                            U32Op::RightShift
                        }
                    }
                    b'@' => U32Op::At,
                    _ => return Err(c.err("operator expected")),
                };
                c.pos += 1;
                Some(op)
            };
            let n = c.number()?;
            match op {
                None => cur.start = n,
                Some(op) => cur.ops.push((op, n)),
            }
            nlocs += 1;
            if nlocs > MAXSIZE {
                return Err(c.err("too many operators"));
            }
        } else if ch == b'&' {
            c.pos += 1;
            if c.peek() != Some(b'&') {
                return Err(c.err("a second '&' was expected"));
            }
            if cur.values.is_empty() {
                return Err(c.err("value spec missing"));
            }
            tests.push(std::mem::take(&mut cur));
            if tests.len() > MAXSIZE {
                return Err(c.err("too many \"&&\"s"));
            }
            c.pos += 1;
            (nlocs, in_values) = (0, false);
        } else {
            if !cur.values.is_empty() {
                if ch != b',' {
                    return Err(c.err("expected \",\" or \"&&\""));
                }
                c.pos += 1;
            }
            let lo = c.number()?;
            c.skip_space();
            let hi = if c.peek() == Some(b':') {
                c.pos += 1;
                c.number()?
            } else {
                lo
            };
            cur.values.push((lo, hi));
            if cur.values.len() > MAXSIZE {
                return Err(c.err("too many \",\"s"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;
    use super::*;

    #[test]
    fn canonical_hex() {
        assert_eq!(
            roundtrip(
                "-m u32 ! --u32 \"0 >> 22 & 0x3C @ 12 >> 26 & 0x3C @ 8 = 1,2:3 && 6&0xFF=6\""
            )
            .unwrap(),
            "-m u32 ! --u32 \"0x0>>0x16&0x3c@0xc>>0x1a&0x3c@0x8=0x1,0x2:0x3&&0x6&0xff=0x6\""
        );
    }

    #[test]
    fn grammar_errors() {
        for bad in [
            "", "0", "=1", "0=", "0<1=1", "0=1&2=3", "0=1 2", "0 1=1", "0=x", "0=-1",
        ] {
            assert!(parse_u32(bad).is_err(), "{bad}");
        }
        let many = ["0=0"; 11].join("&&");
        assert!(parse_u32(&many).is_err());
        assert!(parse_u32(&["0=0"; 10].join("&&")).is_ok());
    }

    #[test]
    fn reads_words_and_follows_at() {
        let pkt = [
            0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0x16, 0, 0,
        ];
        let t = parse_u32("0>>22&0x3C@0>>16=22").unwrap();
        assert!(test_packet(&t[0], &pkt));
        let t = parse_u32("21=0").unwrap();
        assert!(!test_packet(&t[0], &pkt));
    }
}
