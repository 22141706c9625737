//! `-m string` (libxt_string.c revision 1, xt_string.c): a byte pattern
//! searched in the packet from its IP header on, between `--from` and
//! `--to` (offsets, default 0 and 65535), with the kernel's textsearch
//! algorithm `--algo` (`bm` or `kmp`; `fsm` is not built on our kernels).
//!
//! Invariants: `pattern` holds 1..=128 bytes once the kernel accepted the
//! rule; save prints it as `--string "..."` when every byte is printable and
//! the last is not `\`, otherwise as `--hex-string "|..|"` (`is_hex_string`).

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{xt_exclusive, xt_mandatory, xt_uint};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

/// XT_STRING_MAX_PATTERN_SIZE.
pub const MAX_PATTERN: usize = 128;
/// `char algo[XT_STRING_MAX_ALGO_NAME_SIZE]`: 15 bytes and the NUL.
const MAX_ALGO: usize = 15;
/// The textsearch algorithms the kernel offers (lib/ts_bm.c, ts_kmp.c).
const ALGOS: &[&str] = &["bm", "kmp"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringMatch {
    pub from: u16,
    pub to: u16,
    pub algo: String,
    pub pattern: Vec<u8>,
    pub invert: bool,
    pub icase: bool,
    given: Option<&'static str>,
    algo_given: bool,
}

impl Default for StringMatch {
    fn default() -> StringMatch {
        StringMatch {
            from: 0,
            to: u16::MAX,
            algo: String::new(),
            pattern: Vec::new(),
            invert: false,
            icase: false,
            given: None,
            algo_given: false,
        }
    }
}

impl MatchDef for StringMatch {
    const NAME: &'static str = "string";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("from"),
        OptSpec::req("to"),
        OptSpec::req("algo"),
        OptSpec::req("string").inv(),
        OptSpec::req("hex-string").inv(),
        OptSpec::flag("icase"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "from" => self.from = xt_uint(call, "string", 0, 65535)? as u16,
            "to" => self.to = xt_uint(call, "string", 0, 65535)? as u16,
            "algo" => {
                self.algo = super::helper::truncate(call.arg(), MAX_ALGO).to_string();
                self.algo_given = true;
            }
            "icase" => self.icase = true,
            "string" | "hex-string" => {
                if let Some(prev) = self.given {
                    return Err(xt_exclusive("string", prev, call.key).at(call.span));
                }
                let arg = call.arg();
                self.pattern = if call.key == "string" {
                    if arg.len() > MAX_PATTERN {
                        return Err(call.err(format!("STRING too long \"{arg}\"")));
                    }
                    arg.as_bytes().to_vec()
                } else {
                    parse_hex_string(arg).map_err(|e| e.at(call.arg_span()))?
                };
                self.invert = call.invert;
                self.given = Some(call.key);
            }
            _ => return unreachable_option(call),
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if !self.algo_given {
            return Err(xt_mandatory("string", "algo"));
        }
        if self.given.is_none() {
            return Err(ExtError::new(
                "STRING match: You must specify `--string' or `--hex-string'",
            ));
        }
        Ok(())
    }

    /// `string_mt_check`: offsets in order, a known algorithm and a pattern
    /// the algorithm accepts (`textsearch_prepare` refuses an empty one).
    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        if self.from > self.to {
            return Err(ExtError::new(format!(
                "the kernel refuses --from {} after --to {}",
                self.from, self.to
            ))
            .help("string_mt_check requires from <= to"));
        }
        if !ALGOS.contains(&self.algo.as_str()) {
            return Err(ExtError::new(format!(
                "the kernel has no textsearch algorithm `{}'",
                self.algo
            ))
            .help("use --algo bm or --algo kmp"));
        }
        if self.pattern.is_empty() {
            return Err(ExtError::new("the kernel refuses an empty search pattern")
                .help("textsearch_prepare fails for a zero-length pattern"));
        }
        Ok(())
    }

    /// `string_mt`: the pattern must lie wholly inside bytes `from..to`.
    fn eval(&self, f: &Facts) -> MatchResult {
        let end = usize::from(self.to).min(f.bytes.len());
        let hay = f.bytes.get(usize::from(self.from)..end).unwrap_or(&[]);
        let eq = |a: &u8, b: &u8| {
            if self.icase {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        let found = !self.pattern.is_empty()
            && hay
                .windows(self.pattern.len())
                .any(|w| w.iter().zip(&self.pattern).all(|(a, b)| eq(a, b)));
        MatchResult::from_bool(found != self.invert)
    }

    /// `string_print`: `!` right before the quoted pattern, then the
    /// algorithm and the offsets in capitals.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" STRING match ");
        if self.invert {
            out.push('!');
        }
        if is_hex_string(&self.pattern) {
            out.push_str(" \"|");
            for b in &self.pattern {
                let _ = write!(out, "{b:02x}");
            }
            out.push_str("|\"");
        } else {
            out.push_str(" \"");
            for &b in &self.pattern {
                if b == b'"' || b == b'\\' {
                    out.push('\\');
                }
                out.push(char::from(b));
            }
            out.push('"');
        }
        let _ = write!(out, " ALGO name {}", self.algo);
        if self.from != 0 {
            let _ = write!(out, " FROM {}", self.from);
        }
        if self.to != u16::MAX {
            let _ = write!(out, " TO {}", self.to);
        }
        if self.icase {
            out.push_str(" ICASE");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        if is_hex_string(&self.pattern) {
            out.push_str(" --hex-string \"|");
            for b in &self.pattern {
                let _ = write!(out, "{b:02x}");
            }
            out.push_str("|\"");
        } else {
            out.push_str(" --string \"");
            for &b in &self.pattern {
                if b == b'"' || b == b'\\' {
                    out.push('\\');
                }
                out.push(char::from(b));
            }
            out.push('"');
        }
        let _ = write!(out, " --algo {}", self.algo);
        if self.from != 0 {
            let _ = write!(out, " --from {}", self.from);
        }
        if self.to != u16::MAX {
            let _ = write!(out, " --to {}", self.to);
        }
        if self.icase {
            out.push_str(" --icase");
        }
    }
}

/// `is_hex_string`: any byte outside printable ASCII, or a trailing `\`.
fn is_hex_string(p: &[u8]) -> bool {
    p.iter().any(|b| !(0x20..0x7f).contains(b)) || p.last() == Some(&b'\\')
}

/// `parse_hex_string`: literal characters, `|hex pairs|` blocks (spaces
/// allowed inside), `\x` escapes outside blocks.
pub fn parse_hex_string(s: &str) -> ExtResult<Vec<u8>> {
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let err = |m: &str| Err(ExtError::new(m.to_string()));
    if b.is_empty() {
        return err("STRING must contain at least one char");
    }
    let (mut i, mut hex, mut literal) = (0usize, false, false);
    let mut out = Vec::new();
    while i < b.len() {
        if out.len() >= MAX_PATTERN {
            return Err(ExtError::new(format!("STRING too long \"{s}\"")));
        }
        if at(i) == b'\\' && !hex {
            literal = true;
        } else if at(i) == b'\\' {
            return err("Cannot include literals in hex data");
        } else if at(i) == b'|' {
            hex = !hex;
            if hex {
                while at(i + 1) == b' ' {
                    i += 1;
                }
            }
            if i + 1 >= b.len() {
                break;
            }
            i += 1;
        }
        if literal {
            if i + 1 >= b.len() {
                return err("Bad literal placement at end of string");
            }
            out.push(at(i + 1));
            i += 2;
            literal = false;
        } else if hex {
            if i + 1 >= b.len() {
                return err("Odd number of hex digits");
            }
            if i + 2 >= b.len() {
                return err("Invalid hex block");
            }
            for c in [at(i), at(i + 1)] {
                if !c.is_ascii_hexdigit() {
                    return Err(ExtError::new(format!(
                        "Invalid hex char '{}'",
                        char::from(c)
                    )));
                }
            }
            let hi = char::from(at(i)).to_digit(16).unwrap_or(0);
            let lo = char::from(at(i + 1)).to_digit(16).unwrap_or(0);
            out.push((hi * 16 + lo) as u8);
            i += if at(i + 2) == b' ' { 3 } else { 2 };
        } else {
            out.push(at(i));
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;
    use super::parse_hex_string;

    #[test]
    fn hex_string_grammar() {
        assert_eq!(parse_hex_string("|0a 0b|c\\|").unwrap(), b"\n\x0bc|");
        assert_eq!(parse_hex_string("a|41|").unwrap(), b"aA");
        assert!(parse_hex_string("|0a").is_err());
        assert!(parse_hex_string("|0g|").is_err());
        assert!(parse_hex_string("ab\\").is_err());
        assert!(parse_hex_string("").is_err());
    }

    #[test]
    fn save_forms() {
        assert_eq!(
            roundtrip("-m string --algo bm --from 0 --to 65535 --string test").unwrap(),
            "-m string --string \"test\" --algo bm"
        );
        assert_eq!(
            roundtrip("-m string --hex-string |41| --algo kmp --icase --to 9").unwrap(),
            "-m string --string \"A\" --algo kmp --to 9 --icase"
        );
        assert_eq!(
            roundtrip("-m string ! --string a\\ --algo kmp").unwrap(),
            "-m string ! --hex-string \"|615c|\" --algo kmp"
        );
        assert!(roundtrip("-m string --string x --algo fsm").is_err());
        assert!(roundtrip("-m string --string x").is_err());
        assert!(roundtrip("-m string --algo bm").is_err());
    }

    #[test]
    fn eval_window_and_case() {
        use super::super::testutil::{facts, first_match};
        use crate::ext::facts::{L4Facts, MatchResult};
        let pkt = b"0123456789GET /index HTTP";
        let f = facts(pkt, 0, 64, L4Facts::None, 0);
        assert_eq!(
            first_match("-m string --string GET --algo bm").eval(&f),
            MatchResult::Yes
        );
        assert_eq!(
            first_match("-m string --string get --algo bm").eval(&f),
            MatchResult::No
        );
        assert_eq!(
            first_match("-m string --string get --algo kmp --icase").eval(&f),
            MatchResult::Yes
        );
        // The pattern must end before --to.
        assert_eq!(
            first_match("-m string --string GET --algo bm --to 12").eval(&f),
            MatchResult::No
        );
        assert_eq!(
            first_match("-m string --string GET --algo bm --from 11").eval(&f),
            MatchResult::No
        );
    }
}
