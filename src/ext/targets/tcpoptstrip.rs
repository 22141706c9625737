//! `-j TCPOPTSTRIP` (libxt_TCPOPTSTRIP.c, xt_TCPOPTSTRIP.c): replaces the
//! listed TCP options with NOPs. Mangle table, `-p tcp` without `!`.
//! Names (case-sensitive) or numbers 2-255; saved as numbers in ascending
//! order.

use super::scope::{need_proto, restrict, TCP};
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::number;
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;

/// `tcpopt_names` of libxt_TCPOPTSTRIP.c.
const NAMES: &[(&str, u8)] = &[
    ("wscale", 3),
    ("mss", 2),
    ("sack-permitted", 4),
    ("sack", 5),
    ("timestamp", 8),
    ("md5", 19),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tcpoptstrip {
    /// Bit N set = strip option kind N (the kernel's `strip_bmap[8]`).
    pub strip: [u32; 8],
}

impl Tcpoptstrip {
    fn has(&self, kind: u8) -> bool {
        self.strip
            .get(usize::from(kind / 32))
            .is_some_and(|w| w & (1 << (kind % 32)) != 0)
    }
}

impl TargetDef for Tcpoptstrip {
    const NAME: &'static str = "TCPOPTSTRIP";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("strip-options")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        if call.key != "strip-options" {
            return unreachable_option(call);
        }
        for tok in call.arg().split(',') {
            let kind = match NAMES.iter().find(|(n, _)| *n == tok) {
                Some((_, k)) => *k,
                None => number(tok, 0, 255)
                    .ok_or_else(|| call.err(format!("Bad TCP option value \"{tok}\"")))?
                    as u8,
            };
            if kind <= 1 {
                return Err(call.err("Option value may not be 0 or 1"));
            }
            if self.has(kind) {
                return Err(call.err(format!("Option \"{tok}\" already specified")));
            }
            if let Some(w) = self.strip.get_mut(usize::from(kind / 32)) {
                *w |= 1 << (kind % 32);
            }
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "TCPOPTSTRIP", Some("mangle"), &[])?;
        need_proto(ctx, "TCPOPTSTRIP", &[TCP])
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `tcpoptstrip_tg_print` (numeric): nothing at all when no option is
    /// stripped.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let kinds: Vec<String> = (0..=255u8)
            .filter(|k| self.has(*k))
            .map(|k| k.to_string())
            .collect();
        if !kinds.is_empty() {
            let _ = write!(out, " TCPOPTSTRIP options {}", kinds.join(","));
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let kinds: Vec<String> = (0..=255u8)
            .filter(|k| self.has(*k))
            .map(|k| k.to_string())
            .collect();
        if !kinds.is_empty() {
            let _ = write!(out, " --strip-options {}", kinds.join(","));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn names_become_numbers() {
        let f = |r| fmt_rule("mangle", "PREROUTING", r);
        assert_eq!(
            f("-p tcp -j TCPOPTSTRIP --strip-options md5,mss,timestamp").unwrap(),
            "-p tcp -j TCPOPTSTRIP --strip-options 2,8,19"
        );
        assert_eq!(f("-p tcp -j TCPOPTSTRIP").unwrap(), "-p tcp -j TCPOPTSTRIP");
        assert!(f("-p tcp -j TCPOPTSTRIP --strip-options 1,2").is_err());
        assert!(f("-p tcp -j TCPOPTSTRIP --strip-options 8,2,2").is_err());
        assert!(f("-p tcp -j TCPOPTSTRIP --strip-options MSS").is_err());
        assert!(f("-j TCPOPTSTRIP").is_err());
    }
}
