//! `-m addrtype` (libxt_addrtype.c rev 1, kernel xt_addrtype.c): the route
//! type (`RTN_*`) of the source/destination address, optionally looked up
//! only on the packet's input or output interface.
//!
//! Type masks have bit `n` for `RTN_n`. The kernel refuses
//! `--limit-iface-out` in rules reachable from PREROUTING/INPUT and
//! `--limit-iface-in` from OUTPUT/POSTROUTING (`addrtype_mt_checkentry_v1`).

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::hook::{Hook, HookMask};
use std::fmt::Write;

/// `rtn_names`: index = RTN_* number.
pub const RTN_NAMES: &[&str] = &[
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addrtype {
    pub source: u16,
    pub invert_source: bool,
    pub dest: u16,
    pub invert_dest: bool,
    pub limit_iface_in: bool,
    pub limit_iface_out: bool,
}

impl MatchDef for Addrtype {
    const NAME: &'static str = "addrtype";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("src-type").inv(),
        OptSpec::req("dst-type").inv(),
        OptSpec::flag("limit-iface-in"),
        OptSpec::flag("limit-iface-out"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "src-type" => {
                self.source |= parse_types(call.arg()).map_err(|e| e.at(call.arg_span()))?;
                self.invert_source |= call.invert;
            }
            "dst-type" => {
                self.dest |= parse_types(call.arg()).map_err(|e| e.at(call.arg_span()))?;
                self.invert_dest |= call.invert;
            }
            "limit-iface-in" => self.limit_iface_in = true,
            "limit-iface-out" => self.limit_iface_out = true,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.source == 0 && self.dest == 0 {
            // A type list always sets a bit, so no bits = neither option.
            return Err(ExtError::new(
                "addrtype: you must specify --src-type or --dst-type",
            ));
        }
        if self.limit_iface_in && self.limit_iface_out {
            return Err(ExtError::new("addrtype: option \"--limit-iface-in\" cannot be used together with \"--limit-iface-out\"."));
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        let pre_in = HookMask::of(&[Hook::Prerouting, Hook::Input]);
        let out_post = HookMask::of(&[Hook::Output, Hook::Postrouting]);
        if self.limit_iface_out && ctx.hooks.0 & pre_in.0 != 0 {
            return Err(ExtError::new(
                "addrtype: output interface limitation not valid in PREROUTING and INPUT",
            )
            .help(
                "the kernel refuses --limit-iface-out in rules reachable from PREROUTING or INPUT",
            ));
        }
        if self.limit_iface_in && ctx.hooks.0 & out_post.0 != 0 {
            return Err(ExtError::new(
                "addrtype: input interface limitation not valid in POSTROUTING and OUTPUT",
            )
            .help(
                "the kernel refuses --limit-iface-in in rules reachable from OUTPUT or POSTROUTING",
            ));
        }
        Ok(())
    }

    /// `addrtype_mt_v1`: the route type of each address, looked up on the
    /// input or output interface with `--limit-iface-in/out`.
    fn eval(&self, f: &Facts) -> MatchResult {
        let dev = if self.limit_iface_in {
            Some(f.in_iface)
        } else if self.limit_iface_out {
            Some(f.out_iface)
        } else {
            None
        };
        let test = |mask: u16, inv: bool, addr: u32| {
            mask == 0 || ((f.host.addr_type(addr, dev) & mask != 0) != inv)
        };
        MatchResult::from_bool(
            test(self.source, self.invert_source, f.src)
                && test(self.dest, self.invert_dest, f.dst),
        )
    }

    /// `addrtype_print_v1`: the `!` sits right before the type list.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" ADDRTYPE match");
        for (word, mask, inv) in [
            ("src-type", self.source, self.invert_source),
            ("dst-type", self.dest, self.invert_dest),
        ] {
            if mask != 0 {
                let _ = write!(out, " {word} {}", if inv { "!" } else { "" });
                fmt_types(out, mask);
            }
        }
        if self.limit_iface_in {
            out.push_str(" limit-in");
        }
        if self.limit_iface_out {
            out.push_str(" limit-out");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.source != 0 {
            out.push_str(bang(self.invert_source));
            out.push_str(" --src-type ");
            fmt_types(out, self.source);
        }
        if self.dest != 0 {
            out.push_str(bang(self.invert_dest));
            out.push_str(" --dst-type ");
            fmt_types(out, self.dest);
        }
        if self.limit_iface_in {
            out.push_str(" --limit-iface-in");
        }
        if self.limit_iface_out {
            out.push_str(" --limit-iface-out");
        }
    }
}

/// `parse_types`: comma list; each word is a case-insensitive prefix of a
/// name, the first name in `RTN_NAMES` order wins.
fn parse_types(s: &str) -> ExtResult<u16> {
    let mut mask = 0u16;
    let mut rest = s;
    loop {
        let (word, next) = match rest.split_once(',') {
            Some((w, n)) => (w, Some(n)),
            None => (rest, None),
        };
        let hit = RTN_NAMES.iter().position(|n| {
            !word.is_empty()
                && n.get(..word.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(word))
        });
        let Some(i) = hit else {
            return Err(ExtError::new(match next {
                Some(_) => format!("addrtype: bad type `{rest}'"),
                None => format!("addrtype: bad type \"{rest}\""),
            }));
        };
        mask |= 1 << i;
        match next {
            Some(n) => rest = n,
            None => return Ok(mask),
        }
    }
}

fn fmt_types(out: &mut String, mask: u16) {
    let mut first = true;
    for (i, name) in RTN_NAMES.iter().enumerate() {
        if mask & (1 << i) != 0 {
            if !first {
                out.push(',');
            }
            out.push_str(name);
            first = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_pick_the_first_name() {
        let mut s = String::new();
        fmt_types(&mut s, parse_types("l,u").unwrap());
        assert_eq!(s, "UNSPEC,LOCAL");
        assert!(parse_types("wrong").is_err());
        assert!(parse_types("LOCAL,").is_err());
    }
}
