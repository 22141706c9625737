//! `-j MARK` (libxt_MARK.c revision 2, xt_mark.c): sets the packet mark as
//! `mark = (mark & ~mask) ^ value`. Every spelling is saved as that pair:
//! `--set-mark V/M` is `V/(V|M)`, `--and-mark M` is `0/~M`, `--or-mark M` is
//! `M/M`, `--xor-mark M` is `M/0`. Revision 2 runs in any table and hook.

use super::excl::{self, Excl};
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{markmask_opt, uint_opt};
use crate::ext::TargetResult;
use crate::ext::{RuleCtx, TargetDef};
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mark {
    /// XOR value.
    pub mark: u32,
    /// Bits cleared before the XOR.
    pub mask: u32,
    /// Options given, for the exclusion check in `finalize` (then emptied).
    seen: Vec<&'static str>,
}

/// `mark_tg_opts` order; every operation excludes every other.
const EXCL: &[Excl] = &[
    Excl {
        name: "set-xmark",
        id: 4,
        excludes: &[0, 1, 2, 3],
    },
    Excl {
        name: "set-mark",
        id: 0,
        excludes: &[1, 2, 3, 4],
    },
    Excl {
        name: "and-mark",
        id: 1,
        excludes: &[0, 2, 3, 4],
    },
    Excl {
        name: "or-mark",
        id: 2,
        excludes: &[0, 1, 3, 4],
    },
    Excl {
        name: "xor-mark",
        id: 3,
        excludes: &[0, 1, 2, 4],
    },
];

/// An `XTTYPE_UINT32` option of MARK/CONNMARK.
pub fn u32_opt(call: &OptCall, ext: &str) -> ExtResult<u32> {
    let v = uint_opt(call.arg(), ext, call.key, 0, u64::from(u32::MAX));
    Ok(v.map_err(|e| e.at(call.arg_span()))? as u32)
}

impl TargetDef for Mark {
    const NAME: &'static str = "MARK";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("set-xmark"),
        OptSpec::req("set-mark"),
        OptSpec::req("and-mark"),
        OptSpec::req("or-mark"),
        OptSpec::req("xor-mark"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let mm = || markmask_opt(call.arg(), "MARK", call.key).map_err(|e| e.at(call.arg_span()));
        (self.mark, self.mask) = match call.key {
            "set-xmark" => {
                let (v, m) = mm()?;
                (v, m.unwrap_or(u32::MAX))
            }
            "set-mark" => {
                let (v, m) = mm()?;
                (v, v | m.unwrap_or(u32::MAX))
            }
            "and-mark" => (0, !u32_opt(call, "MARK")?),
            "or-mark" => {
                let v = u32_opt(call, "MARK")?;
                (v, v)
            }
            "xor-mark" => (u32_opt(call, "MARK")?, 0),
            _ => return unreachable_option(call),
        };
        self.seen.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let seen = std::mem::take(&mut self.seen);
        if seen.is_empty() {
            return Err(ExtError::new(
                "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required",
            ));
        }
        excl::check("MARK", EXCL, &seen)
    }

    /// `mark_tg`: `skb->mark = (skb->mark & ~mask) ^ mark`.
    fn run(&self, f: &Facts, fx: &mut Effects) -> TargetResult {
        fx.mark = Some((f.mark & !self.mask) ^ self.mark);
        TargetResult::Continue
    }

    /// `mark_tg_print` (revision 2): the operation the xmark pair amounts to.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let (mark, mask) = (self.mark, self.mask);
        let _ = if mark == 0 {
            write!(out, " MARK and {:#x}", !mask)
        } else if mark == mask {
            write!(out, " MARK or {mark:#x}")
        } else if mask == 0 {
            write!(out, " MARK xor {mark:#x}")
        } else if mask == u32::MAX {
            write!(out, " MARK set {mark:#x}")
        } else {
            write!(out, " MARK xset {mark:#x}/{mask:#x}")
        };
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, " --set-xmark {:#x}/{:#x}", self.mark, self.mask);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn spellings_save_as_xmark() {
        let f = |r| fmt_rule("filter", "INPUT", r);
        assert_eq!(
            f("-j MARK --set-mark 1/2").unwrap(),
            "-j MARK --set-xmark 0x1/0x3"
        );
        assert_eq!(
            f("-j MARK --and-mark 0xf").unwrap(),
            "-j MARK --set-xmark 0x0/0xfffffff0"
        );
        assert_eq!(
            f("-j MARK --xor-mark 3").unwrap(),
            "-j MARK --set-xmark 0x3/0x0"
        );
        assert_eq!(
            f("-j MARK --or-mark 2 --set-xmark 1").unwrap_err(),
            "MARK: option \"--set-xmark\" cannot be used together with \"--or-mark\"."
        );
        assert!(f("-j MARK --set-xmark -1").is_err());
        assert!(f("-j MARK").is_err());
    }
}
