//! `-j SECMARK` (libxt_SECMARK.c, xt_SECMARK.c): sets the packet's security
//! mark from an SELinux context. Only in the mangle and security tables.
//!
//! The kernel maps the context through the LSM at load time; without an LSM
//! that knows the context (the reference kernel has none) the load fails
//! ("unable to map security context"). That depends on the running host, so
//! it is not refused here.

use super::ct::truncate;
use super::dnat::must_have;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secmark {
    pub selctx: String,
}

/// `secmark_tg_check` / `connsecmark_tg_check`: mangle or security only.
pub fn mangle_or_security(ctx: &CheckCtx, name: &str) -> ExtResult {
    if ctx.table == "mangle" || ctx.table == "security" {
        return Ok(());
    }
    Err(ExtError::new(format!(
        "xt_{name}: only valid in 'mangle' or 'security' table, not '{}'",
        ctx.table
    ))
    .help(format!("move -j {name} to the mangle or security table")))
}

impl TargetDef for Secmark {
    const NAME: &'static str = "SECMARK";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("selctx")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            // SECMARK_SECCTX_MAX is 256 with the NUL.
            "selctx" => self.selctx = truncate(call.arg(), 255),
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(!self.selctx.is_empty(), "SECMARK", "selctx")
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        mangle_or_security(ctx, "SECMARK")
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `SECMARK_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" SECMARK selctx ");
        out.push_str(&self.selctx);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" --selctx ");
        out.push_str(&self.selctx);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn tables() {
        let r = "-j SECMARK --selctx system_u:object_r:firewalld_exec_t:s0";
        assert_eq!(fmt_rule("security", "INPUT", r).unwrap(), r);
        assert!(fmt_rule("filter", "INPUT", r).is_err());
        assert!(fmt_rule("mangle", "INPUT", "-j SECMARK").is_err());
    }
}
