//! `-m rpfilter` (libxt_rpfilter.c, ipt_rpfilter.c): reverse-path filtering,
//! a FIB lookup of the source address. The kernel allows it only in the raw
//! and mangle tables, at PREROUTING (`rpfilter_check`, `.hooks`). Not judged
//! offline: it needs the host's routing table.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::{Hook, HookMask};

/// `XT_RPFILTER_*` flags, in save order with their option names.
pub const FLAGS: &[(u8, &str)] = &[
    (0x01, "loose"),
    (0x02, "validmark"),
    (0x04, "accept-local"),
    (0x08, "invert"),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rpfilter {
    pub flags: u8,
}

impl MatchDef for Rpfilter {
    const NAME: &'static str = "rpfilter";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::flag("loose"),
        OptSpec::flag("validmark"),
        OptSpec::flag("accept-local"),
        OptSpec::flag("invert"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match FLAGS.iter().find(|(_, n)| *n == call.key) {
            Some((bit, _)) => self.flags |= bit,
            None => return unreachable_option(call),
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        if ctx.table != "raw" && ctx.table != "mangle" {
            return Err(ExtError::new(format!(
                "the rpfilter match is only valid in the raw or mangle table, not `{}'",
                ctx.table
            ))
            .help("move the rule to `-t raw` or `-t mangle` PREROUTING"));
        }
        let outside = ctx.hooks.outside(HookMask::of(&[Hook::Prerouting]));
        if !outside.is_empty() {
            return Err(ExtError::new(format!(
                "the rpfilter match is only valid in PREROUTING, but this rule is reached from {}",
                outside.names()
            ))
            .help("xt_rpfilter declares .hooks = PREROUTING; the kernel refuses it elsewhere"));
        }
        Ok(())
    }

    /// `rpfilter_print`: the option names without dashes.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" rpfilter");
        for (bit, name) in FLAGS {
            if self.flags & bit != 0 {
                out.push(' ');
                out.push_str(name);
            }
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        for (bit, name) in FLAGS {
            if self.flags & bit != 0 {
                out.push_str(" --");
                out.push_str(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{roundtrip, roundtrip_in};

    #[test]
    fn tables_and_hooks() {
        assert_eq!(
            roundtrip_in("raw", "PREROUTING", "-m rpfilter --invert --loose").unwrap(),
            "-m rpfilter --loose --invert"
        );
        assert!(roundtrip("-m rpfilter").is_err());
        assert!(roundtrip_in("mangle", "INPUT", "-m rpfilter").is_err());
    }
}
