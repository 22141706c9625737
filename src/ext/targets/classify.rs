//! `-j CLASSIFY` (libxt_CLASSIFY.c, xt_CLASSIFY.c): sets `skb->priority` to a
//! tc class. Any table, but only from FORWARD, OUTPUT and POSTROUTING.
//!
//! The class is read with `sscanf("%x:%x")`, so each half may carry a sign,
//! `0x` or trailing junk, and only its low 16 bits are kept; it is saved as
//! `%04x:%04x`.

use super::dnat::must_have;
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use crate::ir::hook::Hook;
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classify {
    /// TC_H_MAKE(major << 16, minor); `None` until `--set-class`.
    pub priority: Option<u32>,
}

/// One `%x` conversion: blanks, a sign, `0x`, hex digits (saturating as
/// glibc's strtoul does). Returns the value and the rest.
fn scan_hex(s: &str) -> Option<(u32, &str)> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let body = match s.get(..2) {
        Some("0x" | "0X") if s.as_bytes().get(2).is_some_and(u8::is_ascii_hexdigit) => {
            s.get(2..)?
        }
        _ => s,
    };
    let len = body
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(body.len());
    if len == 0 {
        return None;
    }
    let (digits, rest) = body.split_at(len);
    let v = u64::from_str_radix(digits, 16).unwrap_or(u64::MAX);
    let v = if neg { v.wrapping_neg() } else { v };
    Some((v as u32, rest))
}

/// `CLASSIFY_string_to_priority`.
pub fn parse_class(s: &str) -> ExtResult<u32> {
    let bad = || ExtError::new(format!("Bad class value \"{s}\""));
    let (major, rest) = scan_hex(s).ok_or_else(bad)?;
    let rest = rest.strip_prefix(':').ok_or_else(bad)?;
    let (minor, _) = scan_hex(rest).ok_or_else(bad)?;
    Ok((major << 16) | (minor & 0xffff))
}

impl TargetDef for Classify {
    const NAME: &'static str = "CLASSIFY";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("set-class")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "set-class" => {
                self.priority = Some(parse_class(call.arg()).map_err(|e| e.at(call.arg_span()))?)
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(self.priority.is_some(), "CLASSIFY", "set-class")
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        use Hook::*;
        restrict(ctx, "CLASSIFY", None, &[Forward, Output, Postrouting])
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `CLASSIFY_print_class`: `%x:%x`, not zero-padded as on save.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let p = self.priority.unwrap_or(0);
        let _ = write!(out, " CLASSIFY set {:x}:{:x}", p >> 16, p & 0xffff);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(p) = self.priority {
            let _ = write!(out, " --set-class {:04x}:{:04x}", p >> 16, p & 0xffff);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sscanf_semantics() {
        assert_eq!(parse_class("1:2"), Ok(0x0001_0002));
        assert_eq!(parse_class("1:-1"), Ok(0x0001_ffff));
        assert_eq!(parse_class("12345:1"), Ok(0x2345_0001));
        assert_eq!(parse_class("1:2x"), Ok(0x0001_0002));
        assert!(parse_class("1").is_err());
        assert!(parse_class("x:1").is_err());
    }

    #[test]
    fn hooks() {
        use crate::ext::targets::fmt_rule;
        let r = "-j CLASSIFY --set-class 0000:ffffffff";
        assert_eq!(
            fmt_rule("filter", "FORWARD", r).unwrap(),
            "-j CLASSIFY --set-class 0000:ffff"
        );
        assert!(fmt_rule("mangle", "PREROUTING", r).is_err());
    }
}
