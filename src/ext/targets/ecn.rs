//! `-j ECN` (libipt_ECN.c, ipt_ECN.c): rewrites the ECN bits of the IP
//! header and/or the ECE/CWR flags of TCP. Mangle table only; the TCP
//! operations need `-p tcp` without `!` (`ecn_tg_check`).
//!
//! `--ecn-tcp-remove` is "set ECE and CWR to 0" and is saved back as
//! `--ecn-tcp-remove` only when no IP operation is present.

use super::excl::{self, Excl};
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::uint_opt;
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;

pub const OP_SET_IP: u8 = 0x01;
pub const OP_SET_ECE: u8 = 0x10;
pub const OP_SET_CWR: u8 = 0x20;

const EXCL: &[Excl] = &[
    Excl {
        name: "ecn-tcp-remove",
        id: 0,
        excludes: &[1, 2],
    },
    Excl {
        name: "ecn-tcp-cwr",
        id: 1,
        excludes: &[0],
    },
    Excl {
        name: "ecn-tcp-ece",
        id: 2,
        excludes: &[0],
    },
    Excl {
        name: "ecn-ip-ect",
        id: 3,
        excludes: &[],
    },
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ecn {
    pub operation: u8,
    pub ip_ect: u8,
    pub ece: bool,
    pub cwr: bool,
    seen: Vec<&'static str>,
}

impl TargetDef for Ecn {
    const NAME: &'static str = "ECN";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::flag("ecn-tcp-remove"),
        OptSpec::req("ecn-tcp-cwr"),
        OptSpec::req("ecn-tcp-ece"),
        OptSpec::req("ecn-ip-ect"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let num =
            |max| uint_opt(call.arg(), "ECN", call.key, 0, max).map_err(|e| e.at(call.arg_span()));
        match call.key {
            "ecn-tcp-remove" => {
                self.operation |= OP_SET_ECE | OP_SET_CWR;
                self.ece = false;
                self.cwr = false;
            }
            "ecn-tcp-cwr" => {
                self.cwr = num(1)? == 1;
                self.operation |= OP_SET_CWR;
            }
            "ecn-tcp-ece" => {
                self.ece = num(1)? == 1;
                self.operation |= OP_SET_ECE;
            }
            "ecn-ip-ect" => {
                self.ip_ect = num(3)? as u8;
                self.operation |= OP_SET_IP;
            }
            _ => unreachable_option(call)?,
        }
        self.seen.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let seen = std::mem::take(&mut self.seen);
        if self.operation == 0 {
            return Err(ExtError::new("ECN target: An operation is required"));
        }
        excl::check("ECN", EXCL, &seen)
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "ECN", Some("mangle"), &[])?;
        if self.operation & (OP_SET_ECE | OP_SET_CWR) != 0 && ctx.rule.proto() != Some(6) {
            return Err(
                ExtError::new("ipt_ECN: cannot use operation on non-tcp rule")
                    .help("the --ecn-tcp-* options need `-p tcp` (without `!`)"),
            );
        }
        Ok(())
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `ECN_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" ECN");
        if self.operation == OP_SET_ECE | OP_SET_CWR && !self.ece && !self.cwr {
            out.push_str(" TCP remove");
            return;
        }
        if self.operation & OP_SET_ECE != 0 {
            let _ = write!(out, " ECE={}", u8::from(self.ece));
        }
        if self.operation & OP_SET_CWR != 0 {
            let _ = write!(out, " CWR={}", u8::from(self.cwr));
        }
        if self.operation & OP_SET_IP != 0 {
            let _ = write!(out, " ECT codepoint={}", self.ip_ect);
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.operation == OP_SET_ECE | OP_SET_CWR && !self.ece && !self.cwr {
            out.push_str(" --ecn-tcp-remove");
            return;
        }
        if self.operation & OP_SET_ECE != 0 {
            let _ = write!(out, " --ecn-tcp-ece {}", u8::from(self.ece));
        }
        if self.operation & OP_SET_CWR != 0 {
            let _ = write!(out, " --ecn-tcp-cwr {}", u8::from(self.cwr));
        }
        if self.operation & OP_SET_IP != 0 {
            let _ = write!(out, " --ecn-ip-ect {}", self.ip_ect);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn remove_spellings() {
        let f = |r| fmt_rule("mangle", "FORWARD", r);
        assert_eq!(
            f("-p tcp -j ECN --ecn-tcp-cwr 0 --ecn-tcp-ece 0").unwrap(),
            "-p tcp -j ECN --ecn-tcp-remove"
        );
        assert_eq!(
            f("-p tcp -j ECN --ecn-tcp-remove --ecn-ip-ect 1").unwrap(),
            "-p tcp -j ECN --ecn-tcp-ece 0 --ecn-tcp-cwr 0 --ecn-ip-ect 1"
        );
        assert!(f("-j ECN --ecn-tcp-remove").is_err());
        assert!(f("-j ECN --ecn-ip-ect 2").is_ok());
        assert!(f("-p tcp -j ECN").is_err());
    }
}
