//! `-j CONNSECMARK` (libxt_CONNSECMARK.c, xt_CONNSECMARK.c): copies the
//! security mark between packet and connection. Mangle or security table;
//! exactly one of `--save` / `--restore`.

use super::excl::{self, Excl};
use super::secmark::mangle_or_security;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};

const EXCL: &[Excl] = &[
    Excl {
        name: "save",
        id: 0,
        excludes: &[1],
    },
    Excl {
        name: "restore",
        id: 1,
        excludes: &[0],
    },
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connsecmark {
    /// true = `--save` (CONNSECMARK_SAVE), false = `--restore`.
    pub save: bool,
    seen: Vec<&'static str>,
}

impl TargetDef for Connsecmark {
    const NAME: &'static str = "CONNSECMARK";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::flag("save"), OptSpec::flag("restore")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "save" => self.save = true,
            "restore" => self.save = false,
            _ => unreachable_option(call)?,
        }
        self.seen.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let seen = std::mem::take(&mut self.seen);
        if seen.is_empty() {
            return Err(ExtError::new("CONNSECMARK target: parameter required"));
        }
        excl::check("CONNSECMARK", EXCL, &seen)
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        mangle_or_security(ctx, "CONNSECMARK")
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `CONNSECMARK_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(if self.save {
            " CONNSECMARK save"
        } else {
            " CONNSECMARK restore"
        });
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(if self.save { " --save" } else { " --restore" });
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn modes_and_tables() {
        let f = |r| fmt_rule("mangle", "FORWARD", r);
        assert_eq!(f("-j CONNSECMARK --save").unwrap(), "-j CONNSECMARK --save");
        assert!(f("-j CONNSECMARK --save --restore").is_err());
        assert!(f("-j CONNSECMARK").is_err());
        assert!(fmt_rule("filter", "FORWARD", "-j CONNSECMARK --save").is_err());
    }
}
