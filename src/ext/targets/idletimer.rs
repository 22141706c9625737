//! `-j IDLETIMER` (libxt_IDLETIMER.c revision 1, xt_IDLETIMER.c): (re)arms a
//! named timer that notifies userspace through sysfs when it expires.
//!
//! Both `--timeout` and `--label` are mandatory; the label is cut to 27
//! bytes. The kernel refuses a zero timeout, one of `INT_MAX / 1000` seconds
//! or more, and labels that cannot be sysfs file names (empty, or with `/`).

use super::ct::truncate;
use super::dnat::must_have;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::uint_opt;
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;

/// `INT_MAX / 1000`: the first timeout the kernel refuses.
const TOO_BIG: u32 = 2_147_483;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Idletimer {
    pub timeout: Option<u32>,
    pub label: Option<String>,
    /// XT_IDLETIMER_ALARM (revision 1).
    pub alarm: bool,
}

impl TargetDef for Idletimer {
    const NAME: &'static str = "IDLETIMER";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("timeout"),
        OptSpec::req("label"),
        OptSpec::flag("alarm"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "timeout" => {
                let v = uint_opt(call.arg(), "IDLETIMER", "timeout", 0, u64::from(u32::MAX));
                self.timeout = Some(v.map_err(|e| e.at(call.arg_span()))? as u32);
            }
            "label" => self.label = Some(truncate(call.arg(), 27)),
            "alarm" => self.alarm = true,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(self.timeout.is_some(), "IDLETIMER", "timeout")?;
        must_have(self.label.is_some(), "IDLETIMER", "label")
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        match self.timeout {
            Some(0) => return Err(ExtError::new("xt_IDLETIMER: timeout value is zero")),
            Some(t) if t >= TOO_BIG => {
                return Err(
                    ExtError::new("xt_IDLETIMER: timeout value is too big").help(format!(
                        "the kernel accepts at most {} seconds",
                        TOO_BIG - 1
                    )),
                )
            }
            _ => {}
        }
        let label = self.label.as_deref().unwrap_or("");
        if label.is_empty() || label.contains('/') {
            return Err(ExtError::new(format!(
                "xt_IDLETIMER: label `{label}' cannot be a sysfs file name"
            )));
        }
        Ok(())
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `idletimer_tg_print_v1`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(
            out,
            " timeout:{} label:{}",
            self.timeout.unwrap_or(0),
            self.label.as_deref().unwrap_or("")
        );
        if self.alarm {
            out.push_str(" alarm");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(t) = self.timeout {
            let _ = write!(out, " --timeout {t}");
        }
        if let Some(l) = &self.label {
            let _ = write!(out, " --label {l}");
        }
        if self.alarm {
            out.push_str(" --alarm");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn timeouts_and_labels() {
        let f = |r| fmt_rule("filter", "INPUT", r);
        assert_eq!(
            f("-j IDLETIMER --alarm --timeout 42 --label bar").unwrap(),
            "-j IDLETIMER --timeout 42 --label bar --alarm"
        );
        assert!(f("-j IDLETIMER --timeout 42").is_err());
        assert!(f("-j IDLETIMER --timeout 0 --label a").is_err());
        assert!(f("-j IDLETIMER --timeout 2147483 --label a").is_err());
        assert!(f("-j IDLETIMER --timeout 1 --label a/b").is_err());
    }
}
