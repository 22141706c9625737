//! `-j ULOG` (libipt_ULOG.c, the old ipt_ULOG): 1.8.9 still parses it, but
//! the kernel dropped ipt_ULOG in Linux 3.17, so rules using it fail to load;
//! NFLOG replaces it.

use super::ct::truncate;
use super::unsupported::not_in_kernel;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::comment::save_string;
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::uint_opt;
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulog {
    /// Netlink group 1..=32 (the kernel field is the bit `1 << (n-1)`).
    pub nlgroup: u8,
    pub prefix: String,
    pub cprange: u64,
    pub qthreshold: u64,
}

impl Default for Ulog {
    fn default() -> Ulog {
        Ulog {
            nlgroup: 1,
            prefix: String::new(),
            cprange: 0,
            qthreshold: 1,
        }
    }
}

impl TargetDef for Ulog {
    const NAME: &'static str = "ULOG";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("ulog-nlgroup"),
        OptSpec::req("ulog-prefix"),
        OptSpec::req("ulog-cprange"),
        OptSpec::req("ulog-qthreshold"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let num = |min, max| {
            uint_opt(call.arg(), "ULOG", call.key, min, max).map_err(|e| e.at(call.arg_span()))
        };
        match call.key {
            "ulog-nlgroup" => self.nlgroup = num(1, 32)? as u8,
            "ulog-prefix" => {
                if call.arg().contains('\n') {
                    return Err(call.err("Newlines not allowed in --ulog-prefix"));
                }
                self.prefix = truncate(call.arg(), 31);
            }
            "ulog-cprange" => self.cprange = num(0, u64::MAX)?,
            // ULOG_MAX_QLEN.
            "ulog-qthreshold" => self.qthreshold = num(1, 50)?,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        not_in_kernel("ULOG", "use -j NFLOG (ULOG was removed in Linux 3.17)")
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `ULOG_print`: every field, the sizes as `unsigned int`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(
            out,
            " ULOG copy_range {} nlgroup {}",
            self.cprange as u32, self.nlgroup
        );
        if !self.prefix.is_empty() {
            let _ = write!(out, " prefix \"{}\"", self.prefix);
        }
        let _ = write!(out, " queue_threshold {}", self.qthreshold as u32);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if !self.prefix.is_empty() {
            out.push_str(" --ulog-prefix ");
            save_string(out, &self.prefix);
        }
        if self.nlgroup != 1 {
            let _ = write!(out, " --ulog-nlgroup {}", self.nlgroup);
        }
        if self.cprange != 0 {
            let _ = write!(out, " --ulog-cprange {}", self.cprange);
        }
        if self.qthreshold != 1 {
            let _ = write!(out, " --ulog-qthreshold {}", self.qthreshold);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn parses_but_the_kernel_refuses() {
        let f = |r| fmt_rule("filter", "INPUT", r);
        assert!(f("-j ULOG --ulog-nlgroup 2")
            .unwrap_err()
            .contains("not supported"));
        assert!(f("-j ULOG --ulog-nlgroup 33")
            .unwrap_err()
            .contains("out of range (1-32)"));
        assert!(f("-j ULOG --ulog-qthreshold 51").is_err());
    }
}
