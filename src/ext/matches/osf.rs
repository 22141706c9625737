//! `-m osf` (libxt_osf.c, xt_osf.c): passive OS fingerprinting of TCP SYNs
//! against fingerprints loaded with nfnl_osf. The kernel requires `-p tcp`
//! (`.proto`) and allows PREROUTING, INPUT and FORWARD (`.hooks`). Not
//! judged offline: the fingerprint table is loaded into the live kernel.

use super::tcp::{bang, require_proto, unreachable_option};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{xt_mandatory, xt_uint};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::{Hook, HookMask};
use std::fmt::Write;

/// `char genre[MAXGENRELEN]`: 31 bytes and the NUL.
const MAX_GENRE: usize = 31;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Osf {
    pub genre: String,
    /// XT_OSF_INVERT.
    pub invert: bool,
    /// `--ttl 0..2` (XT_OSF_TTL).
    pub ttl: Option<u32>,
    /// `--log 0..2` (XT_OSF_LOG).
    pub log: Option<u32>,
    given: bool,
}

impl MatchDef for Osf {
    const NAME: &'static str = "osf";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("genre").inv(),
        OptSpec::req("ttl"),
        OptSpec::req("log"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "genre" => {
                self.genre = super::helper::truncate(call.arg(), MAX_GENRE).to_string();
                self.invert = call.invert;
                self.given = true;
            }
            "ttl" => self.ttl = Some(xt_uint(call, "osf", 0, 2)? as u32),
            "log" => self.log = Some(xt_uint(call, "osf", 0, 2)? as u32),
            _ => return unreachable_option(call),
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(xt_mandatory("osf", "genre"))
        }
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        require_proto(ctx, 6, "tcp").map_err(|e| {
            ExtError::new("the osf match needs `-p tcp` in the rule")
                .help(e.help.unwrap_or_default())
        })?;
        let bad = ctx.hooks.outside(HookMask::of(&[
            Hook::Prerouting,
            Hook::Input,
            Hook::Forward,
        ]));
        if !bad.is_empty() {
            return Err(
                ExtError::new(format!("the osf match is not valid in {}", bad.names()))
                    .help("xt_osf allows only PREROUTING, INPUT and FORWARD"),
            );
        }
        Ok(())
    }

    /// `osf_print`: only the genre (ttl and log are not shown).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let inv = if self.invert { "! " } else { "" };
        let _ = write!(out, " OS fingerprint match {inv}{}", self.genre);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, "{} --genre {}", bang(self.invert), self.genre);
        if let Some(t) = self.ttl {
            let _ = write!(out, " --ttl {t}");
        }
        if let Some(l) = self.log {
            let _ = write!(out, " --log {l}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{roundtrip, roundtrip_in};

    #[test]
    fn genre_and_checks() {
        assert_eq!(
            roundtrip("-p tcp -m osf --log 1 ! --genre linux --ttl 2").unwrap(),
            "-p tcp -m osf ! --genre linux --ttl 2 --log 1"
        );
        assert!(roundtrip("-m osf --genre linux").is_err());
        assert!(roundtrip("-p tcp -m osf --genre linux --ttl 3").is_err());
        assert!(roundtrip_in("filter", "OUTPUT", "-p tcp -m osf --genre linux").is_err());
    }
}
