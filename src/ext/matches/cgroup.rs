//! `-m cgroup` (libxt_cgroup.c revision 2, xt_cgroup.c): the cgroup of the
//! local socket that sent or receives the packet, by v2 path (`--path`) or
//! net_cls class id (`--cgroup`).
//!
//! The kernel refuses both or neither, and allows the match only at INPUT,
//! OUTPUT and POSTROUTING (`.hooks`). A path must exist on the live system
//! (`cgroup_get_from_path`); a file cannot show that, so any path is
//! accepted here. Not judged offline: sockets and cgroups are host state.

use super::comment::save_string;
use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::xt_uint;
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::{Hook, HookMask};
use std::fmt::Write;

/// `char path[XT_CGROUP_PATH_MAX]`: 511 bytes and the NUL.
const MAX_PATH: usize = 511;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cgroup {
    /// (path, inverted).
    pub path: Option<(String, bool)>,
    /// (classid, inverted).
    pub classid: Option<(u32, bool)>,
}

impl MatchDef for Cgroup {
    const NAME: &'static str = "cgroup";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("path").inv(), OptSpec::req("cgroup").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "path" => {
                let p = super::helper::truncate(call.arg(), MAX_PATH).to_string();
                self.path = Some((p, call.invert));
            }
            "cgroup" => {
                let id = xt_uint(call, "cgroup", 0, u64::from(u32::MAX))? as u32;
                self.classid = Some((id, call.invert));
            }
            _ => return unreachable_option(call),
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        if self.path.is_some() == self.classid.is_some() {
            return Err(
                ExtError::new("the kernel needs exactly one of --path and --cgroup")
                    .help("cgroup_mt_check_v2 refuses a rule with both or neither"),
            );
        }
        let allowed = HookMask::of(&[Hook::Input, Hook::Output, Hook::Postrouting]);
        let bad = ctx.hooks.outside(allowed);
        if !bad.is_empty() {
            return Err(ExtError::new(format!("the cgroup match is not valid in {}", bad.names()))
                .help("xt_cgroup allows only INPUT, OUTPUT and POSTROUTING, where a local socket exists"));
        }
        Ok(())
    }

    /// `cgroup_print_v2`: `! ` before each value, the path unquoted.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let bang = |inv: bool| if inv { "! " } else { "" };
        out.push_str(" cgroup");
        if let Some((p, inv)) = &self.path {
            let _ = write!(out, " {}{p}", bang(*inv));
        }
        if let Some((id, inv)) = self.classid {
            let _ = write!(out, " {}{id}", bang(inv));
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let bang = |inv: bool| if inv { " !" } else { "" };
        if let Some((p, inv)) = &self.path {
            let _ = write!(out, "{} --path ", bang(*inv));
            save_string(out, p);
        }
        if let Some((id, inv)) = self.classid {
            let _ = write!(out, "{} --cgroup {id}", bang(inv));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{roundtrip, roundtrip_in};

    #[test]
    fn one_of_path_or_classid() {
        assert_eq!(
            roundtrip("-m cgroup ! --path /").unwrap(),
            "-m cgroup ! --path \"/\""
        );
        assert_eq!(
            roundtrip("-m cgroup --cgroup 0x10").unwrap(),
            "-m cgroup --cgroup 16"
        );
        assert!(roundtrip("-m cgroup --cgroup 1 --path /").is_err());
        assert!(roundtrip("-m cgroup").is_err());
        assert!(roundtrip_in("filter", "FORWARD", "-m cgroup --cgroup 1").is_err());
    }
}
