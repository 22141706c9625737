//! `-m devgroup` (libxt_devgroup.c, xt_devgroup.c): the device group of
//! the input (`--src-group`) or output (`--dst-group`) interface, as
//! `value[/mask]` or a name from /etc/iproute2/group.
//!
//! The kernel allows `--src-group` only where there is an input device
//! (PREROUTING, INPUT, FORWARD) and `--dst-group` only where there is an
//! output device (FORWARD, OUTPUT, POSTROUTING). Not judged offline: device
//! groups are host configuration.

use super::realm::{parse_val_mask, print_val_mask, DEV_GROUPS};
use super::tcp::{bang, unreachable_option};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::{Hook, HookMask};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Devgroup {
    /// (group, mask, inverted).
    pub src: Option<(u32, u32, bool)>,
    pub dst: Option<(u32, u32, bool)>,
}

impl MatchDef for Devgroup {
    const NAME: &'static str = "devgroup";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("src-group").inv(),
        OptSpec::req("dst-group").inv(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let (g, m) = parse_val_mask(call, "devgroup", DEV_GROUPS)?;
        match call.key {
            "src-group" => self.src = Some((g, m, call.invert)),
            "dst-group" => self.dst = Some((g, m, call.invert)),
            _ => return unreachable_option(call),
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.src.is_none() && self.dst.is_none() {
            return Err(ExtError::new(
                "devgroup match: You must specify either '--src-group' or '--dst-group'",
            ));
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        let rules = [
            (
                self.src.is_some(),
                "--src-group",
                [Hook::Prerouting, Hook::Input, Hook::Forward],
                "input",
            ),
            (
                self.dst.is_some(),
                "--dst-group",
                [Hook::Forward, Hook::Output, Hook::Postrouting],
                "output",
            ),
        ];
        for (used, opt, hooks, side) in rules {
            let bad = ctx.hooks.outside(HookMask::of(&hooks));
            if used && !bad.is_empty() {
                return Err(ExtError::new(format!(
                    "the kernel refuses devgroup {opt} in {}: there is no {side} device there",
                    bad.names()
                ))
                .help("devgroup_mt_checkentry in xt_devgroup.c"));
            }
        }
        Ok(())
    }

    /// `devgroup_show("", .., numeric)`: no group names.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        for (name, v) in [("src-group", self.src), ("dst-group", self.dst)] {
            if let Some((g, m, inv)) = v {
                out.push_str(bang(inv));
                out.push(' ');
                out.push_str(name);
                print_val_mask(out, g, m, &[]);
            }
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        for (name, v) in [("src-group", self.src), ("dst-group", self.dst)] {
            if let Some((g, m, inv)) = v {
                out.push_str(bang(inv));
                out.push_str(" --");
                out.push_str(name);
                print_val_mask(out, g, m, DEV_GROUPS);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{roundtrip, roundtrip_in};

    #[test]
    fn groups_and_hooks() {
        assert_eq!(
            roundtrip_in(
                "filter",
                "FORWARD",
                "-m devgroup --dst-group 0 ! --src-group 5/0xf"
            )
            .unwrap(),
            "-m devgroup ! --src-group 0x5/0xf --dst-group default"
        );
        assert!(roundtrip("-m devgroup --dst-group 1").is_err());
        assert!(roundtrip_in("filter", "OUTPUT", "-m devgroup --src-group 1").is_err());
        assert!(roundtrip("-m devgroup").is_err());
    }
}
