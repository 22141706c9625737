//! `-m mac --mac-source XX:XX:XX:XX:XX:XX` (libxt_mac.c, kernel xt_mac.c):
//! the Ethernet source address. The kernel allows it only in PREROUTING,
//! INPUT and FORWARD (`.hooks` in xt_mac.c), where a received frame exists.

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::hook::{Hook, HookMask};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mac {
    pub addr: [u8; 6],
    pub invert: bool,
    given: bool,
}

impl MatchDef for Mac {
    const NAME: &'static str = "mac";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("mac-source").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "mac-source" => {
                self.addr = parse_mac(call.arg())
                    .ok_or_else(|| call.err("Invalid MAC address specified."))?;
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
                "mac: option \"--mac-source\" must be specified",
            ))
        }
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        let allowed = HookMask::of(&[Hook::Prerouting, Hook::Input, Hook::Forward]);
        check_hooks(ctx, allowed, "mac")
    }

    /// `mac_mt`: without an Ethernet source (locally generated, other link
    /// types) the match fails before `!` is applied.
    fn eval(&self, f: &Facts) -> MatchResult {
        match f.src_mac {
            Some(mac) => MatchResult::from_bool((mac == self.addr) != self.invert),
            None => MatchResult::No,
        }
    }

    /// `mac_print`: ` MAC `, `! ` when negated, then `xtables_print_mac`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" MAC ");
        if self.invert {
            out.push_str("! ");
        }
        push_mac(out, &self.addr);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(" --mac-source ");
        push_mac(out, &self.addr);
    }
}

/// `xtopt_parse_ethermac`: six `:`-separated hex fields of at most two
/// digits each (an empty field reads as 0, as strtoul leaves it).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    // A byte loop: `split(':')` cost more than the rest of a rule's parse.
    let mut out = [0u8; 6];
    let (mut field, mut digits) = (0, 0);
    for &b in s.as_bytes() {
        if b == b':' {
            field += 1;
            digits = 0;
            if field == 6 {
                return None;
            }
            continue;
        }
        let d = char::from(b).to_digit(16)? as u8;
        digits += 1;
        if digits > 2 {
            return None;
        }
        out[field] = out[field] << 4 | d;
    }
    (field == 5).then_some(out)
}

/// `xtables_print_mac`: six lowercase two-digit hex bytes joined by `:`.
pub fn push_mac(out: &mut String, mac: &[u8; 6]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in mac.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}

/// `xt_check_match`'s hook test: the rule must not be reachable from a hook
/// outside `allowed`.
pub fn check_hooks(ctx: &CheckCtx, allowed: HookMask, name: &str) -> ExtResult {
    let bad = ctx.hooks.outside(allowed);
    if bad.is_empty() {
        return Ok(());
    }
    // xt_check_match's log line, which names the whole hook mask.
    Err(ExtError::new(format!(
        "{name} match: used from hooks {}, but only valid from {}",
        ctx.hooks.names(),
        allowed.names()
    ))
    .help(format!(
        "the kernel allows `-m {name}` only in {}",
        allowed.names()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_fields() {
        assert_eq!(parse_mac("42:01:02:03:04:05"), Some([0x42, 1, 2, 3, 4, 5]));
        assert_eq!(parse_mac("a::2:3:4:5"), Some([0xa, 0, 2, 3, 4, 5]));
        assert_eq!(parse_mac("42:01:02:03:04"), None);
        assert_eq!(parse_mac("42:01:02:03:04:05:06"), None);
        assert_eq!(parse_mac("142:01:02:03:04:05"), None);
    }
}
