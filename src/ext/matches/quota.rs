//! `-m quota [!] --quota BYTES` (libxt_quota.c, xt_quota.c): matches until
//! the rule has seen BYTES bytes (inverted: once it has). Replay keeps the
//! remaining quota per rule.

use super::tcp::{bang, unreachable_option};
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::state::State;
use crate::ext::value::{xt_mandatory, xt_uint};
use crate::ext::{Facts, MatchDef, MatchResult, RuleCtx};
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

    /// `quota_print`: the `!` is not shown.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, " quota: {} bytes", self.quota);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, "{} --quota {}", bang(self.invert), self.quota);
    }

    /// `quota_mt`: the rule's remaining bytes pay for the packet (`skb->len`)
    /// while they last; once a packet does not fit, the quota drops to 0 so
    /// no later packet, however small, matches.
    fn eval_state(&self, facts: &Facts, st: &mut State) -> MatchResult {
        let left = st.rule::<u64>().get_or_insert(self.quota);
        let fits = *left >= u64::from(facts.len);
        *left = if fits {
            *left - u64::from(facts.len)
        } else {
            0
        };
        MatchResult::from_bool(fits != self.invert)
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

    #[test]
    fn quota_spends_bytes_then_shuts() {
        use crate::ext::state::{MatchKey, NoConns, State, Store};
        let m = super::super::testutil::first_match("-m quota --quota 250");
        let mut store = Store::default();
        let key = MatchKey {
            table: 0,
            chain: 0,
            rule: 0,
            idx: 0,
        };
        let mut run = |len: usize| {
            let bytes = vec![0u8; len];
            let f = super::super::testutil::facts(&bytes, 0, 64, Default::default(), 0);
            m.eval_state(&f, &mut State::new(&mut store, key, &NoConns))
        };
        use crate::ext::MatchResult::{No, Yes};
        // 100 + 100 fit, 100 does not (50 left) and empties the quota, so
        // even 40 bytes no longer match.
        assert_eq!([run(100), run(100), run(100), run(40)], [Yes, Yes, No, No]);
    }
}
