//! `-m recent` (libxt_recent.c rev 1, kernel xt_recent.c): per-name lists of
//! recently seen addresses, set, checked, updated or removed by rules.
//!
//! Exactly one of `--set/--rcheck/--update/--remove` is required.
//! The kernel (`recent_mt_check`) refuses `--seconds`, `--hitcount`, `--rttl`
//! and `--reap` with `--set`/`--remove`, a hitcount of 65536 or more, and an
//! empty name. Save prints the name bare and `--seconds`/`--hitcount` with
//! `%d`, as 1.8.9 does.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{inet_aton, uint};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;
use std::net::Ipv4Addr;

/// `XT_RECENT_NAME_LEN`: the name buffer, NUL included.
pub const NAME_LEN: usize = 200;
/// `XT_RECENT_MAX_NSTAMPS`: hitcounts must be below this.
pub const MAX_NSTAMPS: u32 = 65536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Set,
    Rcheck,
    Update,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    pub op: Option<Op>,
    pub invert: bool,
    /// 0 = not given.
    pub seconds: u32,
    /// 0 = not given.
    pub hitcount: u32,
    pub reap: bool,
    pub rttl: bool,
    pub name: String,
    pub mask: u32,
    /// `--rdest` (else `--rsource`, the default).
    pub dest: bool,
    /// Option keys given, for the exclusion checks.
    given: Vec<&'static str>,
}

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            op: None,
            invert: false,
            seconds: 0,
            hitcount: 0,
            reap: false,
            rttl: false,
            name: "DEFAULT".to_string(),
            mask: u32::MAX,
            dest: false,
            given: Vec::new(),
        }
    }
}

const OPS: [(&str, Op); 4] = [
    ("set", Op::Set),
    ("rcheck", Op::Rcheck),
    ("update", Op::Update),
    ("remove", Op::Remove),
];

impl MatchDef for Recent {
    const NAME: &'static str = "recent";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::flag("set").inv(),
        OptSpec::flag("rcheck").inv(),
        OptSpec::flag("update").inv(),
        OptSpec::flag("remove").inv(),
        OptSpec::req("seconds"),
        OptSpec::flag("reap"),
        OptSpec::req("hitcount"),
        OptSpec::flag("rttl"),
        OptSpec::req("name"),
        OptSpec::flag("rsource"),
        OptSpec::flag("rdest"),
        OptSpec::req("mask"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let arg = call.arg();
        let range = |min: u64| {
            call.err(format!(
                "recent: bad value for option \"--{}\", or out of range ({min}-4294967295).",
                call.key
            ))
        };
        match call.key {
            "set" | "rcheck" | "update" | "remove" => {
                self.op = OPS.iter().find(|(k, _)| *k == call.key).map(|(_, o)| *o);
                self.invert |= call.invert;
            }
            "seconds" => {
                self.seconds = uint(arg, 1, u64::from(u32::MAX)).ok_or_else(|| range(1))? as u32
            }
            "hitcount" => {
                self.hitcount = uint(arg, 0, u64::from(u32::MAX)).ok_or_else(|| range(0))? as u32
            }
            "reap" => self.reap = true,
            "rttl" => self.rttl = true,
            "name" => {
                // XTOPT_PUT into a 200-byte buffer: longer names are cut.
                let mut end = arg.len().min(NAME_LEN - 1);
                while !arg.is_char_boundary(end) {
                    end -= 1;
                }
                self.name = arg.get(..end).unwrap_or(arg).to_string();
            }
            "rsource" => self.dest = false,
            "rdest" => self.dest = true,
            "mask" => {
                self.mask = inet_aton(arg)
                    .or_else(|| (arg == "localhost").then_some(0x7f00_0001))
                    .ok_or_else(|| call.err("getaddrinfo: Name or service not known"))?;
            }
            _ => unreachable_option(call)?,
        }
        self.given.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let has = |k: &str| self.given.contains(&k);
        let ops: Vec<&str> = OPS.iter().map(|(k, _)| *k).filter(|k| has(k)).collect();
        match ops.as_slice() {
            [] => {
                return Err(ExtError::new(
                    "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'",
                ))
            }
            [a, b, ..] => {
                return Err(ExtError::new(format!(
                    "recent: option \"--{a}\" cannot be used together with \"--{b}\"."
                )))
            }
            [_] => {}
        }
        if has("reap") && !has("seconds") {
            return Err(ExtError::new(
                "recent: option \"--reap\" also requires \"--seconds\".",
            ));
        }
        if has("rttl") {
            if let Some(op) = ["set", "remove"].into_iter().find(|o| has(o)) {
                return Err(ExtError::new(format!(
                    "recent: option \"--rttl\" cannot be used together with \"--{op}\"."
                )));
            }
        }
        Ok(())
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        let refuse = |why: &str| {
            Err(ExtError::new(format!(
                "the kernel refuses this recent match: {why}"
            )))
        };
        let modifies = matches!(self.op, Some(Op::Set | Op::Remove));
        if modifies && (self.seconds != 0 || self.hitcount != 0 || self.rttl || self.reap) {
            return refuse(
                "--seconds, --hitcount, --rttl and --reap only go with --rcheck or --update",
            );
        }
        if self.hitcount >= MAX_NSTAMPS {
            return refuse(&format!(
                "hitcount ({}) is larger than allowed maximum ({})",
                self.hitcount,
                MAX_NSTAMPS - 1
            ));
        }
        if let Err(why) = super::hashlimit::check_proc_name(&self.name) {
            return refuse(&why);
        }
        Ok(())
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.invert {
            out.push_str(" !");
        }
        if let Some((k, _)) = OPS.iter().find(|(_, o)| Some(*o) == self.op) {
            let _ = write!(out, " --{k}");
        }
        if self.seconds != 0 {
            let _ = write!(out, " --seconds {}", self.seconds as i32);
        }
        if self.reap {
            out.push_str(" --reap");
        }
        if self.hitcount != 0 {
            let _ = write!(out, " --hitcount {}", self.hitcount as i32);
        }
        if self.rttl {
            out.push_str(" --rttl");
        }
        let _ = write!(
            out,
            " --name {} --mask {}",
            self.name,
            Ipv4Addr::from(self.mask)
        );
        out.push_str(if self.dest { " --rdest" } else { " --rsource" });
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn defaults_and_refusals() {
        let rt = |r| roundtrip("filter", "INPUT", r);
        assert_eq!(
            rt("-m recent --update --rttl").unwrap(),
            "-m recent --update --rttl --name DEFAULT --mask 255.255.255.255 --rsource"
        );
        assert_eq!(
            rt("-m recent --update --reap --seconds 3 --rdest --mask 10").unwrap(),
            "-m recent --update --seconds 3 --reap --name DEFAULT --mask 0.0.0.10 --rdest"
        );
        assert!(rt("-m recent --set --rttl").is_err());
        assert!(rt("-m recent --set --seconds 5").is_err());
        assert!(rt("-m recent --rcheck --hitcount 65536").is_err());
        assert!(rt("-m recent --update --reap").is_err());
        assert!(rt("-m recent --set --name ..").is_err());
    }
}
