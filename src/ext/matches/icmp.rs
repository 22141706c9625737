//! `-m icmp --icmp-type TYPE[/CODE]` (libipt_icmp.c, libxt_icmp.h; kernel
//! `icmp_match` in ip_tables.c).
//!
//! Invariant: `kind == 0xFF` means "any" (the kernel's `icmp_type_code_match`
//! treats type 0xFF as a wildcard); `codes` is an inclusive range. The kernel
//! refuses the match unless the rule says `-p icmp` without `!`.

use super::tcp::{bang, require_proto, unreachable_option};
use crate::ext::facts::{Facts, L4Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::uint_prefix;
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

/// `icmp_codes` in libxt_icmp.h: name, type, lowest and highest code.
const NAMES: &[(&str, u8, u8, u8)] = &[
    ("any", 0xFF, 0, 0xFF),
    ("echo-reply", 0, 0, 0xFF),
    ("pong", 0, 0, 0xFF),
    ("destination-unreachable", 3, 0, 0xFF),
    ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3),
    ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5),
    ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10),
    ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12),
    ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14),
    ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 0xFF),
    ("redirect", 5, 0, 0xFF),
    ("network-redirect", 5, 0, 0),
    ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2),
    ("TOS-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 0xFF),
    ("ping", 8, 0, 0xFF),
    ("router-advertisement", 9, 0, 0xFF),
    ("router-solicitation", 10, 0, 0xFF),
    ("time-exceeded", 11, 0, 0xFF),
    ("ttl-exceeded", 11, 0, 0xFF),
    ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 0xFF),
    ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1),
    ("timestamp-request", 13, 0, 0xFF),
    ("timestamp-reply", 14, 0, 0xFF),
    ("address-mask-request", 17, 0, 0xFF),
    ("address-mask-reply", 18, 0, 0xFF),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmp {
    /// ICMP type; 0xFF matches every type.
    pub kind: u8,
    /// Inclusive code range.
    pub codes: (u8, u8),
    pub invert: bool,
    given: bool,
}

impl Default for Icmp {
    /// `icmp_init`: type 0xFF ("any"), codes 0-255.
    fn default() -> Icmp {
        Icmp {
            kind: 0xFF,
            codes: (0, 0xFF),
            invert: false,
            given: false,
        }
    }
}

impl MatchDef for Icmp {
    const NAME: &'static str = "icmp";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("icmp-type").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "icmp-type" => {
                (self.kind, self.codes) =
                    parse_type(call.arg()).map_err(|e| e.at(call.arg_span()))?;
                self.invert = call.invert;
                self.given = true;
                Ok(())
            }
            _ => unreachable_option(call),
        }
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(ExtError::new(
                "icmp: option \"--icmp-type\" must be specified",
            ))
        }
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        require_proto(ctx, 1, "icmp")
    }

    /// `icmp_match` (ip_tables.c): later fragments never match, a missing
    /// header drops the packet; type 0xFF matches every type.
    fn eval(&self, f: &Facts) -> MatchResult {
        if f.frag_off != 0 {
            return MatchResult::No;
        }
        let L4Facts::Icmp { kind, code } = f.l4 else {
            return if f.l4_truncated {
                MatchResult::Hotdrop
            } else {
                MatchResult::No
            };
        };
        let hit = self.kind == 0xFF
            || (self.kind == kind && self.codes.0 <= code && code <= self.codes.1);
        MatchResult::from_bool(hit != self.invert)
    }

    /// `icmp_print` with `print_icmptype` (numeric): no space between
    /// ` icmp` and `type`, so it reads `icmptype 8 code 0`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" icmp");
        if self.invert {
            out.push_str(" !");
        }
        let _ = write!(out, "type {}", self.kind);
        let (lo, hi) = self.codes;
        if lo == hi {
            let _ = write!(out, " code {lo}");
        } else if (lo, hi) != (0, 0xFF) {
            let _ = write!(out, " codes {lo}-{hi}");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        if self.kind == 0xFF {
            out.push_str(" --icmp-type any");
            return;
        }
        let _ = write!(out, " --icmp-type {}", self.kind);
        if self.codes != (0, 0xFF) {
            let _ = write!(out, "/{}", self.codes.0);
        }
    }
}

/// `__ipt_parse_icmp`: a unique case-insensitive prefix of a name, else
/// `TYPE[/CODE[:CODE]]` numbers (base 0, each ≤ 255).
pub fn parse_type(s: &str) -> ExtResult<(u8, (u8, u8))> {
    let mut found: Option<&(&str, u8, u8, u8)> = None;
    for entry in NAMES {
        let prefix = entry.0.get(..s.len());
        if !prefix.is_some_and(|p| p.eq_ignore_ascii_case(s)) {
            continue;
        }
        if let Some(first) = found {
            return Err(ExtError::new(format!(
                "Ambiguous ICMP type `{s}': `{}' or `{}'?",
                first.0, entry.0
            )));
        }
        found = Some(entry);
    }
    if let Some((_, t, lo, hi)) = found {
        return Ok((*t, (*lo, *hi)));
    }
    let ((t0, t1), rest) =
        range(s).ok_or_else(|| ExtError::new(format!("Unknown ICMP type `{s}'")))?;
    let codes = if rest.is_empty() {
        (0, 0xFF)
    } else if let Some(code) = rest.strip_prefix('/') {
        let (codes, rest) =
            range(code).ok_or_else(|| ExtError::new(format!("Unknown ICMP code `{s}'")))?;
        if let Some(c) = rest.chars().next() {
            return Err(ExtError::new(format!("unknown character {c}")));
        }
        codes
    } else {
        let c = rest.chars().next().unwrap_or(' ');
        return Err(ExtError::new(format!("unknown character {c}")));
    };
    if t0 != t1 {
        return Err(ExtError::new("ICMP type range not supported"));
    }
    Ok((t0, codes))
}

/// `parse_range` in libxt_icmp.h: `N` or `N:M`, each 0-255.
fn range(s: &str) -> Option<((u8, u8), &str)> {
    let (lo, rest) = uint_prefix(s, 0, 255)?;
    match rest.strip_prefix(':') {
        Some(r) => {
            let (hi, rest) = uint_prefix(r, 0, 255)?;
            Some(((lo as u8, hi as u8), rest))
        }
        None => Some(((lo as u8, lo as u8), rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(arg: &str) -> String {
        let (kind, codes) = parse_type(arg).unwrap();
        let m = Icmp {
            kind,
            codes,
            invert: false,
            given: true,
        };
        let mut s = String::new();
        m.save(&RuleCtx::default(), &mut s);
        s
    }

    #[test]
    fn names_numbers_and_any() {
        assert_eq!(saved("echo-reply"), " --icmp-type 0");
        assert_eq!(saved("port-unr"), " --icmp-type 3/3");
        assert_eq!(saved("3/1:2"), " --icmp-type 3/1");
        assert_eq!(saved("8/0:255"), " --icmp-type 8");
        assert_eq!(saved("255/3"), " --icmp-type any");
        assert_eq!(saved("ANY"), " --icmp-type any");
        assert_eq!(saved("0x8"), " --icmp-type 8");
    }

    #[test]
    fn errors_like_iptables() {
        let e = parse_type("e").unwrap_err().message;
        assert_eq!(
            e,
            "Ambiguous ICMP type `e': `echo-reply' or `echo-request'?"
        );
        assert_eq!(
            parse_type("3:4").unwrap_err().message,
            "ICMP type range not supported"
        );
        assert_eq!(parse_type("3x").unwrap_err().message, "unknown character x");
        assert_eq!(
            parse_type("3/").unwrap_err().message,
            "Unknown ICMP code `3/'"
        );
        assert_eq!(
            parse_type("256").unwrap_err().message,
            "Unknown ICMP type `256'"
        );
    }
}
