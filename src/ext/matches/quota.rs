//! `-m quota [!] --quota BYTES` (libxt_quota.c, xt_quota.c): matches until
//! the rule has seen BYTES bytes (inverted: once it has). Not judged
//! offline yet: the remaining quota is state shared by the rule's packets.

use super::tcp::{bang, unreachable_option};
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::{xt_mandatory, xt_uint};
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quota {
    pub quota: u64,
    /// XT_QUOTA_INVERT.
    pub invert: bool,
    given: bool,
}

impl MatchDef for Quota {
    const NAME: &'static str = "quota";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("quota").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        if call.key != "quota" {
            return unreachable_option(call);
        }
        self.quota = xt_uint(call, "quota", 0, u64::MAX)?;
        self.invert = call.invert;
        self.given = true;
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(xt_mandatory("quota", "quota"))
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, "{} --quota {}", bang(self.invert), self.quota);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn quota_range() {
        assert_eq!(
            roundtrip("-m quota ! --quota 18446744073709551615").unwrap(),
            "-m quota ! --quota 18446744073709551615"
        );
        assert!(roundtrip("-m quota --quota 18446744073709551616").is_err());
        assert!(roundtrip("-m quota").is_err());
    }
}
