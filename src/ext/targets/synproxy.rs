//! `-j SYNPROXY` (libxt_SYNPROXY.c, ipt_SYNPROXY.c): answers SYNs with
//! cookies and only opens the connection to the server after the handshake.
//! Kernel: `-p tcp` without `!`, hooks INPUT and FORWARD only.
//!
//! `--mss` is read as a 32-bit number and stored in 16 bits (65536 saves as
//! 0); each option is printed when given, even with value 0.

use super::scope::{need_proto, restrict, TCP};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::uint_opt;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use crate::ir::hook::Hook;
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synproxy {
    pub sack_perm: bool,
    pub timestamp: bool,
    pub wscale: Option<u8>,
    pub mss: Option<u16>,
    pub ecn: bool,
}

impl TargetDef for Synproxy {
    const NAME: &'static str = "SYNPROXY";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("mss"),
        OptSpec::req("wscale"),
        OptSpec::flag("sack-perm"),
        OptSpec::flag("timestamp"),
        OptSpec::flag("ecn"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let num = |max| {
            uint_opt(call.arg(), "SYNPROXY", call.key, 0, max).map_err(|e| e.at(call.arg_span()))
        };
        match call.key {
            "mss" => self.mss = Some(num(u64::from(u32::MAX))? as u16),
            "wscale" => self.wscale = Some(num(255)? as u8),
            "sack-perm" => self.sack_perm = true,
            "timestamp" => self.timestamp = true,
            "ecn" => self.ecn = true,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "SYNPROXY", None, &[Hook::Input, Hook::Forward])?;
        need_proto(ctx, "SYNPROXY", &[TCP])
    }

    /// `SYNPROXY_print`: every item followed by a space.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" SYNPROXY ");
        if self.sack_perm {
            out.push_str("sack-perm ");
        }
        if self.timestamp {
            out.push_str("timestamp ");
        }
        if let Some(w) = self.wscale {
            let _ = write!(out, "wscale {w} ");
        }
        if let Some(m) = self.mss {
            let _ = write!(out, "mss {m} ");
        }
        if self.ecn {
            out.push_str("ecn ");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.sack_perm {
            out.push_str(" --sack-perm");
        }
        if self.timestamp {
            out.push_str(" --timestamp");
        }
        if let Some(w) = self.wscale {
            let _ = write!(out, " --wscale {w}");
        }
        if let Some(m) = self.mss {
            let _ = write!(out, " --mss {m}");
        }
        if self.ecn {
            out.push_str(" --ecn");
        }
    }

    fn terminal(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn order_and_scope() {
        let f = |c, r| fmt_rule("filter", c, r);
        assert_eq!(
            f(
                "INPUT",
                "-p tcp -j SYNPROXY --ecn --mss 65536 --timestamp --sack-perm --wscale 9"
            )
            .unwrap(),
            "-p tcp -j SYNPROXY --sack-perm --timestamp --wscale 9 --mss 0 --ecn"
        );
        assert!(f("INPUT", "-j SYNPROXY").is_err());
        assert!(f("OUTPUT", "-p tcp -j SYNPROXY").is_err());
    }
}
