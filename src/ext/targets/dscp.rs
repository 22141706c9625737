//! `-j DSCP` (libxt_DSCP.c, xt_DSCP.c): sets the DSCP field. Mangle table
//! only. A class name is saved as its number (`--set-dscp 0x2e`).

use super::excl::{self, Excl};
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::uint_opt;
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;

/// `ds_classes` of libxtables' dscp_helper.c (case-insensitive), shared
/// with `-m dscp --dscp-class`.
use crate::ext::matches::dscp::DS_CLASSES as CLASSES;

/// `class_to_dscp`.
pub fn class(s: &str) -> ExtResult<u8> {
    CLASSES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, v)| *v)
        .ok_or_else(|| ExtError::new(format!("Invalid DSCP value `{s}'")))
}

const EXCL: &[Excl] = &[
    Excl {
        name: "set-dscp",
        id: 0,
        excludes: &[1],
    },
    Excl {
        name: "set-dscp-class",
        id: 1,
        excludes: &[0],
    },
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dscp {
    /// `None` until an option is given.
    pub dscp: Option<u8>,
    seen: Vec<&'static str>,
}

impl TargetDef for Dscp {
    const NAME: &'static str = "DSCP";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("set-dscp"), OptSpec::req("set-dscp-class")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let v = match call.key {
            "set-dscp" => uint_opt(call.arg(), "DSCP", "set-dscp", 0, 63).map(|v| v as u8),
            "set-dscp-class" => class(call.arg()),
            _ => return unreachable_option(call),
        };
        self.dscp = Some(v.map_err(|e| e.at(call.arg_span()))?);
        self.seen.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let seen = std::mem::take(&mut self.seen);
        if self.dscp.is_none() {
            return Err(ExtError::new(
                "DSCP target: Parameter --set-dscp is required",
            ));
        }
        excl::check("DSCP", EXCL, &seen)
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "DSCP", Some("mangle"), &[])
    }

    /// `dscp_tg`: the top six bits of the TOS byte.
    fn run(&self, f: &Facts, fx: &mut Effects) -> TargetResult {
        if let Some(d) = self.dscp {
            fx.tos = Some((fx.tos.unwrap_or(f.tos) & 0x03) | (d << 2));
        }
        TargetResult::Continue
    }

    /// `DSCP_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, " DSCP set 0x{:02x}", self.dscp.unwrap_or(0));
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(d) = self.dscp {
            let _ = write!(out, " --set-dscp {d:#04x}");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn classes_save_as_numbers() {
        let f = |r| fmt_rule("mangle", "PREROUTING", r);
        assert_eq!(
            f("-j DSCP --set-dscp-class ef").unwrap(),
            "-j DSCP --set-dscp 0x2e"
        );
        assert_eq!(
            f("-j DSCP --set-dscp 10").unwrap(),
            "-j DSCP --set-dscp 0x0a"
        );
        assert_eq!(
            f("-j DSCP --set-dscp-class EF --set-dscp 1").unwrap_err(),
            "DSCP: option \"--set-dscp\" cannot be used together with \"--set-dscp-class\"."
        );
        assert!(f("-j DSCP --set-dscp 0x40").is_err());
    }
}
