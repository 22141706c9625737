//! `-j NFLOG` (libxt_NFLOG.c, xt_NFLOG.c): hands the packet to nfnetlink_log
//! and continues. No table or hook restriction.
//!
//! 1.8.9 details: the prefix is cut to 63 bytes (`char prefix[64]`), the
//! default threshold is 0 and printed only when not 0, `--nflog-range` (the
//! old, broken copy length) and `--nflog-size` exclude each other, and
//! `--nflog-size 0` is printed while `--nflog-range 0` is not.

use super::ct::truncate;
use super::excl::{self, Excl};
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::comment::save_string;
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::uint_opt;
use crate::ext::TargetResult;
use crate::ext::{RuleCtx, TargetDef};
use std::fmt::Write;

const EXCL: &[Excl] = &[
    Excl {
        name: "nflog-range",
        id: 2,
        excludes: &[3],
    },
    Excl {
        name: "nflog-size",
        id: 3,
        excludes: &[2],
    },
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nflog {
    pub group: u16,
    pub prefix: String,
    /// Copy length (`len`).
    pub len: u32,
    /// XT_NFLOG_F_COPY_LEN: `len` came from `--nflog-size`.
    pub copy_len: bool,
    pub threshold: u16,
    seen: Vec<&'static str>,
}

impl TargetDef for Nflog {
    const NAME: &'static str = "NFLOG";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("nflog-group"),
        OptSpec::req("nflog-prefix"),
        OptSpec::req("nflog-range"),
        OptSpec::req("nflog-size"),
        OptSpec::req("nflog-threshold"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let num = |max: u64| {
            uint_opt(call.arg(), "NFLOG", call.key, 0, max).map_err(|e| e.at(call.arg_span()))
        };
        match call.key {
            "nflog-group" => self.group = num(65535)? as u16,
            "nflog-prefix" => self.prefix = truncate(call.arg(), 63),
            "nflog-range" => self.len = num(u64::from(u32::MAX))? as u32,
            "nflog-size" => {
                self.len = num(u64::from(u32::MAX))? as u32;
                self.copy_len = true;
            }
            "nflog-threshold" => self.threshold = num(65535)? as u16,
            _ => unreachable_option(call)?,
        }
        self.seen.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let seen = std::mem::take(&mut self.seen);
        excl::check("NFLOG", EXCL, &seen)
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `nflog_print(info, "")`: save's options without dashes.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        if !self.prefix.is_empty() {
            out.push_str(" nflog-prefix ");
            save_string(out, &self.prefix);
        }
        if self.group != 0 {
            let _ = write!(out, " nflog-group {}", self.group);
        }
        if self.copy_len {
            let _ = write!(out, " nflog-size {}", self.len);
        } else if self.len != 0 {
            let _ = write!(out, " nflog-range {}", self.len);
        }
        if self.threshold != 0 {
            let _ = write!(out, " nflog-threshold {}", self.threshold);
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if !self.prefix.is_empty() {
            out.push_str(" --nflog-prefix ");
            save_string(out, &self.prefix);
        }
        if self.group != 0 {
            let _ = write!(out, " --nflog-group {}", self.group);
        }
        if self.copy_len {
            let _ = write!(out, " --nflog-size {}", self.len);
        } else if self.len != 0 {
            let _ = write!(out, " --nflog-range {}", self.len);
        }
        if self.threshold != 0 {
            let _ = write!(out, " --nflog-threshold {}", self.threshold);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn defaults_and_order() {
        let f = |r| fmt_rule("filter", "INPUT", r);
        assert_eq!(
            f("-j NFLOG --nflog-size 0 --nflog-group 3 --nflog-prefix p --nflog-threshold 4")
                .unwrap(),
            "-j NFLOG --nflog-prefix p --nflog-group 3 --nflog-size 0 --nflog-threshold 4"
        );
        assert_eq!(
            f("-j NFLOG --nflog-group 0 --nflog-range 0").unwrap(),
            "-j NFLOG"
        );
        assert!(f("-j NFLOG --nflog-size 6 --nflog-range 5").is_err());
        let long = "x".repeat(70);
        assert_eq!(
            f(&format!("-j NFLOG --nflog-prefix {long}")).unwrap(),
            format!("-j NFLOG --nflog-prefix {}", "x".repeat(63))
        );
    }
}
