//! `-m connbytes` (libxt_connbytes.c, xt_connbytes.c): the connection's
//! packet/byte/average-packet counters in one or both directions compared
//! with a range.
//!
//! Kept as the kernel's `count.from`/`count.to`: an inverted range is stored
//! swapped (from > to), which save prints back as `! --connbytes lo:hi`; a
//! one-value inverted range (`! --connbytes 5:5`) cannot be told apart and
//! saves without `!`, as in iptables. Replay reads the entry's accounting
//! counters (`nf_conn_acct`, kept by the conntrack model for every entry:
//! loading a connbytes rule turns `nf_conntrack_acct` on in the kernel).

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::state::State;
use crate::ext::value::{xt_mandatory, xt_range};
use crate::ext::{Facts, MatchDef, MatchResult, RuleCtx};
use std::fmt::Write;

/// `XT_CONNBYTES_*` (what) names, by value.
const MODES: [&str; 3] = ["packets", "bytes", "avgpkt"];
/// `XT_CONNBYTES_DIR_*` names, by value.
const DIRS: [&str; 3] = ["original", "reply", "both"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connbytes {
    pub from: u64,
    pub to: u64,
    /// Index into packets/bytes/avgpkt.
    pub what: u8,
    /// Index into original/reply/both.
    pub direction: u8,
    given: Vec<&'static str>,
}

impl MatchDef for Connbytes {
    const NAME: &'static str = "connbytes";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("connbytes").inv(),
        OptSpec::req("connbytes-dir"),
        OptSpec::req("connbytes-mode"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "connbytes" => {
                let (from, hi, two) = xt_range(call, "connbytes", u64::MAX)?;
                let to = if two { hi } else { u64::MAX };
                if to < from {
                    return Err(call.err(format!("{from} should be less than {to}")));
                }
                (self.from, self.to) = if call.invert { (to, from) } else { (from, to) };
            }
            "connbytes-dir" => {
                self.direction = index_of(&DIRS, call.arg())
                    .ok_or_else(|| call.err(format!("Unknown --connbytes-dir `{}'", call.arg())))?
            }
            "connbytes-mode" => {
                self.what = index_of(&MODES, call.arg())
                    .ok_or_else(|| call.err(format!("Unknown --connbytes-mode `{}'", call.arg())))?
            }
            _ => return unreachable_option(call),
        }
        self.given.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        for opt in ["connbytes", "connbytes-dir", "connbytes-mode"] {
            if !self.given.contains(&opt) {
                return Err(xt_mandatory("connbytes", opt));
            }
        }
        Ok(())
    }

    /// `connbytes_print`: `print_from_to` with no prefix, then the mode and
    /// direction words.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let (from, to) = if self.from > self.to {
            out.push_str(" !");
            (self.to, self.from)
        } else {
            (self.from, self.to)
        };
        let _ = write!(out, " connbytes {from}");
        if to != 0 && to < u64::MAX {
            let _ = write!(out, ":{to}");
        }
        let mode = MODES.get(usize::from(self.what)).unwrap_or(&"unknown");
        let dir = DIRS.get(usize::from(self.direction)).unwrap_or(&"unknown");
        let _ = write!(out, " connbytes mode {mode} connbytes direction {dir}");
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let (from, to) = if self.from > self.to {
            out.push_str(" !");
            (self.to, self.from)
        } else {
            (self.from, self.to)
        };
        let _ = write!(out, " --connbytes {from}");
        if to != 0 && to < u64::MAX {
            let _ = write!(out, ":{to}");
        }
        let mode = MODES.get(usize::from(self.what)).unwrap_or(&"unknown");
        let dir = DIRS.get(usize::from(self.direction)).unwrap_or(&"unknown");
        let _ = write!(out, " --connbytes-mode {mode} --connbytes-dir {dir}");
    }

    /// `connbytes_mt`: the entry's accounting counters (conntrack counts
    /// every packet of the entry at its conntrack hook, this one included).
    /// No entry, or an untracked/invalid packet: no match.
    fn eval_state(&self, _facts: &Facts, st: &mut State) -> MatchResult {
        let Some(acct) = st.conns.acct() else {
            return MatchResult::No;
        };
        let [(op, ob), (rp, rb)] = acct;
        let (pkts, bytes) = match self.direction {
            0 => (op, ob),
            1 => (rp, rb),
            _ => (op.wrapping_add(rp), ob.wrapping_add(rb)),
        };
        let what = match self.what {
            0 => pkts,
            1 => bytes,
            _ => bytes.checked_div(pkts).unwrap_or(0),
        };
        MatchResult::from_bool(if self.to >= self.from {
            what <= self.to && what >= self.from
        } else {
            what < self.to || what > self.from
        })
    }
}

fn index_of(names: &[&str], s: &str) -> Option<u8> {
    names.iter().position(|n| *n == s).map(|i| i as u8)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn ranges_and_inversion() {
        let tail = " --connbytes-mode bytes --connbytes-dir both";
        let r = |s: &str| roundtrip(&format!("-m connbytes {s}{tail}"));
        assert_eq!(
            r("--connbytes 1000:").unwrap(),
            format!("-m connbytes --connbytes 1000{tail}")
        );
        assert_eq!(
            r("! --connbytes 0:10").unwrap(),
            format!("-m connbytes ! --connbytes 0:10{tail}")
        );
        assert_eq!(
            r("! --connbytes 5:5").unwrap(),
            format!("-m connbytes --connbytes 5:5{tail}")
        );
        assert_eq!(
            r("--connbytes :").unwrap(),
            format!("-m connbytes --connbytes 0{tail}")
        );
        assert!(r("--connbytes 10:1").is_err());
        assert!(roundtrip("-m connbytes --connbytes 1 --connbytes-mode bytes").is_err());
    }

    struct Acct([(u64, u64); 2]);

    impl crate::ext::state::ConnView for Acct {
        fn current(&self) -> Option<crate::ext::state::ConnKey> {
            None
        }
        fn presence(&self, _: &crate::ext::state::ConnKey) -> crate::ext::state::Presence {
            crate::ext::state::Presence::Gone
        }
        fn acct(&self) -> Option<crate::ext::state::Acct> {
            Some(self.0)
        }
    }

    #[test]
    fn counters_by_mode_and_direction() {
        use crate::ext::state::{MatchKey, NoConns, State, Store};
        let bytes = [0u8; 20];
        let f = super::super::testutil::facts(&bytes, 0, 64, Default::default(), 0);
        let key = MatchKey {
            table: 0,
            chain: 0,
            rule: 0,
            idx: 0,
        };
        let judge = |rule: &str, view: &dyn crate::ext::state::ConnView| {
            let m = super::super::testutil::first_match(rule);
            m.eval_state(&f, &mut State::new(&mut Store::default(), key, view))
                == crate::ext::MatchResult::Yes
        };
        let c = Acct([(5, 500), (3, 900)]);
        assert!(judge(
            "-m connbytes --connbytes 8: --connbytes-dir both --connbytes-mode packets",
            &c
        ));
        assert!(!judge(
            "-m connbytes --connbytes 6: --connbytes-dir original --connbytes-mode packets",
            &c
        ));
        assert!(judge(
            "-m connbytes --connbytes 300:300 --connbytes-dir reply --connbytes-mode avgpkt",
            &c
        ));
        assert!(judge(
            "-m connbytes --connbytes 175 --connbytes-dir both --connbytes-mode avgpkt",
            &c
        ));
        assert!(judge(
            "-m connbytes ! --connbytes 1000:1399 --connbytes-dir both --connbytes-mode bytes",
            &c
        ));
        assert!(!judge(
            "-m connbytes ! --connbytes 1000:1400 --connbytes-dir both --connbytes-mode bytes",
            &c
        ));
        assert!(!judge(
            "-m connbytes --connbytes 0: --connbytes-dir both --connbytes-mode packets",
            &NoConns
        ));
    }
}
