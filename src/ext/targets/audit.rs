//! `-j AUDIT` (libxt_AUDIT.c, xt_AUDIT.c): writes an audit record and
//! continues. `--type` is mandatory, matched case-insensitively, saved in
//! lower case.

use super::dnat::must_have;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::TargetResult;
use crate::ext::{RuleCtx, TargetDef};

/// XT_AUDIT_TYPE_* by value.
const TYPES: &[&str] = &["accept", "drop", "reject"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    /// Index into accept/drop/reject; `None` until `--type`.
    pub kind: Option<u8>,
}

impl TargetDef for Audit {
    const NAME: &'static str = "AUDIT";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("type")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "type" => {
                let i = TYPES
                    .iter()
                    .position(|t| t.eq_ignore_ascii_case(call.arg()))
                    .ok_or_else(|| call.err(format!("Bad action type value \"{}\"", call.arg())))?;
                self.kind = Some(i as u8);
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(self.kind.is_some(), "AUDIT", "type")
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `audit_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" AUDIT ");
        if let Some(t) = self.kind.and_then(|k| TYPES.get(usize::from(k))) {
            out.push_str(t);
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(t) = self.kind.and_then(|k| TYPES.get(usize::from(k))) {
            out.push_str(" --type ");
            out.push_str(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn types() {
        let f = |r| fmt_rule("filter", "INPUT", r);
        assert_eq!(
            f("-j AUDIT --type ACCEPT").unwrap(),
            "-j AUDIT --type accept"
        );
        assert_eq!(
            f("-j AUDIT --type acc").unwrap_err(),
            "Bad action type value \"acc\""
        );
        assert!(f("-j AUDIT").is_err());
    }
}
