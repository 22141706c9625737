//! `-m connlabel` (libxt_connlabel.c, xt_connlabel.c): tests (and with
//! `--set`, sets) one of the connection's 128 label bits.
//!
//! Label names come from libnetfilter_conntrack's connlabel.conf, which the
//! reference machine does not have: only numbers are accepted, and save
//! prints the bit in quotes (`--label "40"`). The kernel refuses bits
//! beyond 127 (`nf_connlabels_get`). Not judged offline: labels are set by
//! rules and ctnetlink on the live connection.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{strtoul, xt_mandatory};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

/// Highest label bit (XT_CONNLABEL_MAXBIT).
pub const MAX_BIT: u32 = 127;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connlabel {
    pub bit: u32,
    /// XT_CONNLABEL_OP_INVERT.
    pub invert: bool,
    /// XT_CONNLABEL_OP_SET.
    pub set: bool,
    given: bool,
}

impl MatchDef for Connlabel {
    const NAME: &'static str = "connlabel";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("label").inv(), OptSpec::flag("set")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "label" => {
                let arg = call.arg();
                if arg.is_empty() {
                    return Err(call.err("Argument must have a minimum length of 1 characters"));
                }
                // `connlabel_value_parse` returns strtoul's value as an int:
                // the low 32 bits, refused when they read as negative (and
                // then looked up in the absent name map).
                let bit = strtoul(arg, 0, u64::MAX)
                    .map(|v| v as u32)
                    .filter(|v| *v <= i32::MAX as u32)
                    .ok_or_else(|| call.err(format!("label '{arg}' not found or invalid value")))?;
                self.bit = bit;
                self.invert = call.invert;
                self.given = true;
            }
            "set" => self.set = true,
            _ => return unreachable_option(call),
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(xt_mandatory("connlabel", "label"))
        }
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        if self.bit > MAX_BIT {
            return Err(ExtError::new(format!(
                "the kernel refuses connlabel bit {}: labels are bits 0-{MAX_BIT}",
                self.bit
            ))
            .help("nf_connlabels_get fails with ERANGE"));
        }
        Ok(())
    }

    /// `connlabel_mt_print` (numeric): the bit number unquoted.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let bang = if self.invert { " !" } else { "" };
        let _ = write!(out, " connlabel{bang} {}", self.bit);
        if self.set {
            out.push_str(" set");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let bang = if self.invert { " !" } else { "" };
        let _ = write!(out, "{bang} --label \"{}\"", self.bit);
        if self.set {
            out.push_str(" --set");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn bits() {
        assert_eq!(
            roundtrip("-m connlabel ! --label 0x29 --set").unwrap(),
            "-m connlabel ! --label \"41\" --set"
        );
        assert!(roundtrip("-m connlabel --label 128").is_err());
        assert_eq!(
            roundtrip("-m connlabel --label 4294967296").unwrap(),
            "-m connlabel --label \"0\""
        );
        assert!(roundtrip("-m connlabel --label foo").is_err());
        assert!(roundtrip("-m connlabel --set").is_err());
    }
}
