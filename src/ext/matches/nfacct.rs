//! `-m nfacct --nfacct-name NAME` (libxt_nfacct.c, xt_nfacct.c): counts the
//! packet in a named extended-accounting object and always matches.
//!
//! The object must exist in the kernel (`nfacct add NAME`) when the table is
//! loaded; a file cannot show that, so the rule is accepted here and the
//! missing object is a load-time failure of the live system only.

use super::comment::save_string;
use super::tcp::unreachable_option;
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::xt_mandatory;
use crate::ext::{MatchDef, RuleCtx};

/// `char name[NFACCT_NAME_MAX]` (32 with the NUL).
const MAX_NAME: usize = 31;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nfacct {
    pub name: String,
    given: bool,
}

impl MatchDef for Nfacct {
    const NAME: &'static str = "nfacct";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("nfacct-name")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        if call.key != "nfacct-name" {
            return unreachable_option(call);
        }
        let arg = call.arg();
        if arg.is_empty() {
            return Err(call.err("Argument must have a minimum length of 1 characters"));
        }
        if arg.contains('\n') {
            return Err(call.err("Newlines not allowed in --nfacct-name"));
        }
        self.name = super::helper::truncate(arg, MAX_NAME).to_string();
        self.given = true;
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(xt_mandatory("nfacct", "nfacct-name"))
        }
    }

    /// `nfacct_mt` returns true after counting (overquota only matters for
    /// quota-typed objects, which a file cannot describe).
    fn eval(&self, _f: &Facts) -> MatchResult {
        MatchResult::Yes
    }

    /// `nfacct_print`: `nfacct_print_name` prints `" nfacct-name "` and then
    /// `xtables_save_string`, which writes its own leading space, so there
    /// are two spaces (`nfacct-name  n1`, as iptables-legacy -L shows).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" nfacct-name  ");
        save_string(out, &self.name);
    }

    /// `nfacct_save` prints through the same `nfacct_print_name`: two spaces here too
    /// (`--nfacct-name  n1`, kernel-checked with iptables-legacy-save 1.8.9; the .t file
    /// notes the "extra space in iptables-save output").
    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" --nfacct-name  ");
        save_string(out, &self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn names() {
        assert_eq!(
            roundtrip("-m nfacct --nfacct-name a.b").unwrap(),
            "-m nfacct --nfacct-name  \"a.b\""
        );
        assert!(roundtrip("-m nfacct --nfacct-name \"\"").is_err());
        assert!(roundtrip("-m nfacct").is_err());
    }
}
