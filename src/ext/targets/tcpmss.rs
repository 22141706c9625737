//! `-j TCPMSS` (libxt_TCPMSS.c, xt_TCPMSS.c): rewrites the MSS option of TCP
//! SYN segments, to a value or to the path MTU minus 40.
//!
//! Kernel checks (`tcpmss_tg4_check`): `-p tcp` (`.proto`), path-MTU clamping
//! only from FORWARD, OUTPUT and POSTROUTING, and the rule must have a tcp
//! match that requires SYN (`--syn` or `--tcp-flags` with SYN in the compared
//! flags, not negated) — `find_syn_match`. The two options overwrite each
//! other: the last one given wins.

use super::scope::{need_proto, TCP};
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::uint_opt;
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, Match, RuleCtx, TargetDef};
use crate::ir::hook::{Hook, HookMask};
use crate::ir::rule::MatchEntry;
use std::fmt::Write;

/// XT_TCPMSS_CLAMP_PMTU.
const CLAMP: u16 = 0xffff;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tcpmss {
    /// The MSS to set, or 0xffff for `--clamp-mss-to-pmtu`; `None` until given.
    pub mss: Option<u16>,
}

impl TargetDef for Tcpmss {
    const NAME: &'static str = "TCPMSS";
    const OPTIONS: &'static [OptSpec] =
        &[OptSpec::req("set-mss"), OptSpec::flag("clamp-mss-to-pmtu")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        self.mss = Some(match call.key {
            // 65535 minus the IPv4 and TCP headers.
            "set-mss" => uint_opt(call.arg(), "TCPMSS", "set-mss", 0, 65515)
                .map_err(|e| e.at(call.arg_span()))? as u16,
            "clamp-mss-to-pmtu" => CLAMP,
            _ => return unreachable_option(call),
        });
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.mss.is_none() {
            return Err(ExtError::new(
                "TCPMSS target: At least one parameter is required",
            ));
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        need_proto(ctx, "TCPMSS", &[TCP])?;
        let allowed = HookMask::of(&[Hook::Forward, Hook::Output, Hook::Postrouting]);
        if self.mss == Some(CLAMP) && !ctx.hooks.outside(allowed).is_empty() {
            return Err(ExtError::new(
                "xt_TCPMSS: path-MTU clamping only supported in FORWARD, OUTPUT and POSTROUTING hooks",
            )
            .help(format!(
                "this rule is reachable from {}; use --set-mss there",
                ctx.hooks.outside(allowed).names()
            )));
        }
        Ok(())
    }

    fn check_matches(&self, _ctx: &CheckCtx, matches: &[MatchEntry]) -> ExtResult {
        let syn = matches.iter().any(|m| match &m.m {
            Match::Tcp(t) => t.flags.is_some_and(|(_, comp)| comp & 0x02 != 0) && !t.flags_inv,
            _ => false,
        });
        if syn {
            Ok(())
        } else {
            Err(ExtError::new("xt_TCPMSS: Only works on TCP SYN packets")
                .help("add `--syn` (or `--tcp-flags ... SYN`) to the rule"))
        }
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `TCPMSS_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = match self.mss {
            Some(CLAMP) => write!(out, " TCPMSS clamp to PMTU"),
            Some(m) => write!(out, " TCPMSS set {m}"),
            None => write!(out, " TCPMSS set 0"),
        };
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        match self.mss {
            Some(CLAMP) => out.push_str(" --clamp-mss-to-pmtu"),
            Some(m) => {
                let _ = write!(out, " --set-mss {m}");
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn needs_syn_and_hooks() {
        let f = |c, r| fmt_rule("mangle", c, r);
        assert_eq!(
            f(
                "FORWARD",
                "-p tcp --syn -j TCPMSS --clamp-mss-to-pmtu --set-mss 42"
            )
            .unwrap(),
            "-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --set-mss 42"
        );
        assert!(f("FORWARD", "-p tcp -j TCPMSS --set-mss 42").is_err());
        assert!(f("FORWARD", "-p tcp ! --syn -j TCPMSS --set-mss 42").is_err());
        assert!(f("PREROUTING", "-p tcp --syn -j TCPMSS --clamp-mss-to-pmtu").is_err());
        assert!(f("PREROUTING", "-p tcp --syn -j TCPMSS --set-mss 5").is_ok());
        assert!(f("FORWARD", "-p tcp --syn -j TCPMSS --set-mss 65516").is_err());
    }
}
