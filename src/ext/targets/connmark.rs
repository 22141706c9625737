//! `-j CONNMARK` (libxt_CONNMARK.c revision 2, xt_connmark.c): sets the
//! connection mark, or copies between packet and connection marks.
//!
//! Saved forms: every "set" spelling as `--set-xmark CTMARK/CTMASK` (as MARK);
//! `--save-mark`/`--restore-mark` always with both masks (`--mask M` sets
//! both); a shift only when its bit count is not zero, the last one given
//! wins. Masks given with a set operation are accepted and ignored.

use super::excl::{self, Excl};
use super::mark::u32_opt;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{markmask_opt, uint_opt};
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// XT_CONNMARK_SET: `ctmark = (ctmark & ~ctmask) ^ mark`.
    #[default]
    Set,
    /// XT_CONNMARK_SAVE: packet mark → connection mark.
    Save,
    /// XT_CONNMARK_RESTORE: connection mark → packet mark.
    Restore,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connmark {
    pub mode: Mode,
    pub ctmark: u32,
    pub ctmask: u32,
    pub nfmask: u32,
    /// true = right shift (D_SHIFT_RIGHT).
    pub shift_right: bool,
    pub shift_bits: u8,
    seen: Vec<&'static str>,
}

impl Default for Connmark {
    fn default() -> Connmark {
        Connmark {
            mode: Mode::Set,
            ctmark: 0,
            ctmask: u32::MAX,
            nfmask: u32::MAX,
            shift_right: false,
            shift_bits: 0,
            seen: Vec::new(),
        }
    }
}

/// Operations exclude each other; `--mask` excludes `--ctmask`/`--nfmask`.
const OPS: &[u8] = &[0, 1, 2, 3, 4, 5, 8];
const fn op(name: &'static str, id: u8) -> Excl {
    Excl {
        name,
        id,
        excludes: OPS,
    }
}
const EXCL: &[Excl] = &[
    op("set-xmark", 8),
    op("set-mark", 0),
    op("and-mark", 3),
    op("or-mark", 4),
    op("xor-mark", 5),
    op("save-mark", 1),
    op("restore-mark", 2),
    Excl {
        name: "left-shift-mark",
        id: 6,
        excludes: &[],
    },
    Excl {
        name: "right-shift-mark",
        id: 7,
        excludes: &[],
    },
    Excl {
        name: "ctmask",
        id: 9,
        excludes: &[11],
    },
    Excl {
        name: "nfmask",
        id: 10,
        excludes: &[11],
    },
    Excl {
        name: "mask",
        id: 11,
        excludes: &[9, 10],
    },
];

impl TargetDef for Connmark {
    const NAME: &'static str = "CONNMARK";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("set-xmark"),
        OptSpec::flag("save-mark"),
        OptSpec::flag("restore-mark"),
        OptSpec::req("and-mark"),
        OptSpec::req("or-mark"),
        OptSpec::req("xor-mark"),
        OptSpec::req("set-mark"),
        OptSpec::req("left-shift-mark"),
        OptSpec::req("right-shift-mark"),
        OptSpec::req("ctmask"),
        OptSpec::req("nfmask"),
        OptSpec::req("mask"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let mm =
            || markmask_opt(call.arg(), "CONNMARK", call.key).map_err(|e| e.at(call.arg_span()));
        let mut set = |mark: u32, mask: u32| {
            self.mode = Mode::Set;
            self.ctmark = mark;
            self.ctmask = mask;
        };
        match call.key {
            "set-xmark" => {
                let (v, m) = mm()?;
                set(v, m.unwrap_or(u32::MAX));
            }
            "set-mark" => {
                let (v, m) = mm()?;
                set(v, v | m.unwrap_or(u32::MAX));
            }
            "and-mark" => set(0, !u32_opt(call, "CONNMARK")?),
            "or-mark" => {
                let v = u32_opt(call, "CONNMARK")?;
                set(v, v);
            }
            "xor-mark" => set(u32_opt(call, "CONNMARK")?, 0),
            "save-mark" => self.mode = Mode::Save,
            "restore-mark" => self.mode = Mode::Restore,
            "left-shift-mark" | "right-shift-mark" => {
                let v = uint_opt(call.arg(), "CONNMARK", call.key, 0, 32)
                    .map_err(|e| e.at(call.arg_span()))?;
                self.shift_bits = v as u8;
                self.shift_right = call.key == "right-shift-mark";
            }
            "ctmask" => self.ctmask = u32_opt(call, "CONNMARK")?,
            "nfmask" => self.nfmask = u32_opt(call, "CONNMARK")?,
            "mask" => {
                let v = u32_opt(call, "CONNMARK")?;
                self.ctmask = v;
                self.nfmask = v;
            }
            _ => unreachable_option(call)?,
        }
        self.seen.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let seen = std::mem::take(&mut self.seen);
        if seen.is_empty()
            || !seen
                .iter()
                .any(|s| EXCL.iter().any(|e| e.name == *s && OPS.contains(&e.id)))
        {
            return Err(ExtError::new("CONNMARK target: No operation specified"));
        }
        excl::check("CONNMARK", EXCL, &seen)
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        // connmark_tg_check refuses shifts wider than the 32-bit mark.
        if self.shift_bits > 31 {
            return Err(ExtError::new("CONNMARK target: shift of more than 31 bits")
                .help("the kernel refuses --left-shift-mark/--right-shift-mark above 31"));
        }
        Ok(())
    }

    /// `connmark_tg_shift`: nothing without a connection (INVALID, UNTRACKED).
    fn run(&self, f: &Facts, fx: &mut Effects) -> TargetResult {
        if !f.has_conn() {
            return TargetResult::Continue;
        }
        let shift = |v: u32| {
            let b = u32::from(self.shift_bits);
            if self.shift_right {
                v.checked_shr(b).unwrap_or(0)
            } else {
                v.checked_shl(b).unwrap_or(0)
            }
        };
        let ctmark = fx.ct_mark.unwrap_or(f.ct.mark);
        match self.mode {
            Mode::Set => fx.ct_mark = Some(shift((ctmark & !self.ctmask) ^ self.ctmark)),
            Mode::Save => fx.ct_mark = Some((ctmark & !self.ctmask) ^ shift(f.mark & self.nfmask)),
            Mode::Restore => fx.mark = Some((f.mark & !self.nfmask) ^ shift(ctmark & self.ctmask)),
        }
        TargetResult::Continue
    }

    /// `connmark_tg_print_v2`: the operation the masks amount to, then the
    /// shift.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let (ct, ctm, nfm) = (self.ctmark, self.ctmask, self.nfmask);
        let _ = match self.mode {
            Mode::Set if ct == 0 => write!(out, " CONNMARK and {:#x}", !ctm),
            Mode::Set if ct == ctm => write!(out, " CONNMARK or {ct:#x}"),
            Mode::Set if ctm == 0 => write!(out, " CONNMARK xor {ct:#x}"),
            Mode::Set if ctm == u32::MAX => write!(out, " CONNMARK set {ct:#x}"),
            Mode::Set => write!(out, " CONNMARK xset {ct:#x}/{ctm:#x}"),
            Mode::Save if nfm == u32::MAX && ctm == u32::MAX => write!(out, " CONNMARK save"),
            Mode::Save if nfm == ctm => write!(out, " CONNMARK save mask {nfm:#x}"),
            Mode::Save => write!(out, " CONNMARK save nfmask {nfm:#x} ctmask ~{ctm:#x}"),
            Mode::Restore if nfm == u32::MAX && ctm == u32::MAX => {
                write!(out, " CONNMARK restore")
            }
            Mode::Restore if nfm == ctm => write!(out, " CONNMARK restore mask {ctm:#x}"),
            Mode::Restore => write!(out, " CONNMARK restore ctmask {ctm:#x} nfmask ~{nfm:#x}"),
        };
        if self.shift_bits != 0 {
            let dir = if self.shift_right { "right" } else { "left" };
            let _ = write!(out, " {dir}-shift-mark {}", self.shift_bits);
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = match self.mode {
            Mode::Set => write!(out, " --set-xmark {:#x}/{:#x}", self.ctmark, self.ctmask),
            Mode::Save => write!(
                out,
                " --save-mark --nfmask {:#x} --ctmask {:#x}",
                self.nfmask, self.ctmask
            ),
            Mode::Restore => write!(
                out,
                " --restore-mark --nfmask {:#x} --ctmask {:#x}",
                self.nfmask, self.ctmask
            ),
        };
        if self.shift_bits != 0 {
            let dir = if self.shift_right { "right" } else { "left" };
            let _ = write!(out, " --{dir}-shift-mark {}", self.shift_bits);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn saved_forms() {
        let f = |r| fmt_rule("mangle", "PREROUTING", r);
        assert_eq!(
            f("-j CONNMARK --save-mark --mask 0xff").unwrap(),
            "-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff"
        );
        assert_eq!(
            f("-j CONNMARK --restore-mark --left-shift-mark 2 --right-shift-mark 1").unwrap(),
            "-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff --right-shift-mark 1"
        );
        assert_eq!(
            f("-j CONNMARK --set-mark 1/2 --nfmask 4").unwrap(),
            "-j CONNMARK --set-xmark 0x1/0x3"
        );
        assert_eq!(
            f("-j CONNMARK --restore-mark --mask 0xff --nfmask 1").unwrap_err(),
            "CONNMARK: option \"--nfmask\" cannot be used together with \"--mask\"."
        );
        assert_eq!(
            f("-j CONNMARK --mask 3").unwrap_err(),
            "CONNMARK target: No operation specified"
        );
        assert!(f("-j CONNMARK --save-mark --left-shift-mark 32").is_err());
    }
}
