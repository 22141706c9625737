//! `-m policy` (libxt_policy.c, xt_policy.c): the IPsec policy that was
//! applied to (`--dir in`) or will be applied to (`--dir out`) the packet,
//! as up to four elements separated by `--next` (which needs `--strict`).
//!
//! The kernel refuses `--dir in` in rules reachable from POSTROUTING or
//! OUTPUT, and `--dir out` in ones reachable from PREROUTING or INPUT
//! (`policy_mt_check`). Tunnel addresses are saved unmasked with their
//! prefix length, as `print_entry` prints them. Not judged offline: a
//! capture does not carry the xfrm state.

use super::connlimit::parse_plen;
use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{xt_protocol, xt_uint};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::{Hook, HookMask};
use std::fmt::Write;
use std::net::Ipv4Addr;

/// XT_POLICY_MAX_ELEM.
pub const MAX_ELEM: usize = 4;

/// One `struct xt_policy_elem`: each test is `Some((value, inverted))`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyElem {
    pub reqid: Option<(u32, bool)>,
    pub spi: Option<(u32, bool)>,
    /// (address as given, prefix length), inverted.
    pub tunnel_src: Option<((u32, u8), bool)>,
    pub tunnel_dst: Option<((u32, u8), bool)>,
    pub proto: Option<(u8, bool)>,
    /// true = tunnel, false = transport.
    pub tunnel_mode: Option<(bool, bool)>,
}

impl PolicyElem {
    fn is_empty(&self) -> bool {
        *self == PolicyElem::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// XT_POLICY_MATCH_IN (else OUT; neither is refused by finalize).
    pub dir_in: bool,
    pub dir_out: bool,
    /// XT_POLICY_MATCH_NONE.
    pub pol_none: bool,
    pub strict: bool,
    /// The elements; after finalize exactly the kernel's `len` of them.
    pub elems: Vec<PolicyElem>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            dir_in: false,
            dir_out: false,
            pol_none: false,
            strict: false,
            elems: vec![PolicyElem::default()],
        }
    }
}

impl MatchDef for Policy {
    const NAME: &'static str = "policy";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("dir"),
        OptSpec::req("pol"),
        OptSpec::flag("strict"),
        OptSpec::req("reqid").inv().multi(),
        OptSpec::req("spi").inv().multi(),
        OptSpec::req("tunnel-src").inv().multi(),
        OptSpec::req("tunnel-dst").inv().multi(),
        OptSpec::req("proto").inv().multi(),
        OptSpec::req("mode").inv().multi(),
        OptSpec::flag("next").multi(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let arg = call.arg();
        match call.key {
            "dir" => match arg {
                "in" => self.dir_in = true,
                "out" => self.dir_out = true,
                _ => return Err(call.err(format!("policy_match: invalid dir \"{arg}\""))),
            },
            "pol" => match arg {
                "none" => self.pol_none = true,
                "ipsec" => {}
                _ => return Err(call.err(format!("policy match: invalid policy \"{arg}\""))),
            },
            "strict" => self.strict = true,
            "next" => {
                // `++info->len == XT_POLICY_MAX_ELEM`: a fourth --next is refused.
                if self.elems.len() >= MAX_ELEM {
                    return Err(
                        ExtError::new("policy match: maximum policy depth reached").at(call.span)
                    );
                }
                self.elems.push(PolicyElem::default());
            }
            _ => self.parse_elem(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.elems.len() > 1 && !self.strict {
            return Err(ExtError::new(
                "policy: option \"--next\" also requires \"--strict\".",
            ));
        }
        if !self.dir_in && !self.dir_out {
            return Err(ExtError::new(
                "policy match: neither --dir in nor --dir out specified",
            ));
        }
        if self.pol_none {
            if self.strict {
                return Err(ExtError::new(
                    "policy match: policy none but --strict given",
                ));
            }
            if self.elems.len() > 1 {
                return Err(ExtError::new("policy match: policy none but policy given"));
            }
            // len stays 0: element options given with `--pol none` vanish.
            self.elems.clear();
        }
        for (i, e) in self.elems.iter().enumerate() {
            if self.strict && e.is_empty() {
                return Err(ExtError::new(format!(
                    "policy match: empty policy element {i}. --strict is in effect, but at least one of reqid, spi, tunnel-src, tunnel-dst, proto or mode is required."
                )));
            }
            // An unset mode is transport (0), so tunnel addresses need
            // `--mode tunnel` or `! --mode transport`.
            let tunnel = matches!(e.tunnel_mode, Some((true, false)) | Some((false, true)));
            if (e.tunnel_src.is_some() || e.tunnel_dst.is_some()) && !tunnel {
                return Err(ExtError::new(
                    "policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode",
                ));
            }
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        let early = HookMask::of(&[Hook::Prerouting, Hook::Input]);
        let late = HookMask::of(&[Hook::Postrouting, Hook::Output]);
        let clash = |m: HookMask| HookMask(ctx.hooks.0 & m.0);
        // The kernel tests the IN flag; `--dir in` wins when both were given.
        let (bad, msg) = if self.dir_in {
            (
                clash(late),
                "input policy not valid in POSTROUTING and OUTPUT",
            )
        } else {
            (
                clash(early),
                "output policy not valid in PREROUTING and INPUT",
            )
        };
        if !bad.is_empty() {
            return Err(
                ExtError::new(format!("the kernel refuses this policy match: {msg}"))
                    .help(format!("the rule is reachable from {}", bad.names())),
            );
        }
        Ok(())
    }

    /// `policy4_print`: the flags, then each element (numbered ` [i]` when
    /// there are several) without dashes.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" policy match");
        out.push_str(if self.dir_in { " dir in" } else { " dir out" });
        out.push_str(if self.pol_none {
            " pol none"
        } else {
            " pol ipsec"
        });
        if self.strict {
            out.push_str(" strict");
        }
        for (i, e) in self.elems.iter().enumerate() {
            if self.elems.len() > 1 {
                let _ = write!(out, " [{i}]");
            }
            dump_elem(out, e, "");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(if self.dir_in {
            " --dir in"
        } else {
            " --dir out"
        });
        out.push_str(if self.pol_none {
            " --pol none"
        } else {
            " --pol ipsec"
        });
        if self.strict {
            out.push_str(" --strict");
        }
        for (i, e) in self.elems.iter().enumerate() {
            if i > 0 {
                out.push_str(" --next");
            }
            save_elem(out, e);
        }
    }
}

impl Policy {
    fn parse_elem(&mut self, call: &OptCall) -> ExtResult {
        let key = call.key;
        let Some(e) = self.elems.last_mut() else {
            return unreachable_option(call);
        };
        let double =
            || Err(ExtError::new(format!("policy match: double --{key} option")).at(call.span));
        let inv = call.invert;
        match key {
            "reqid" | "spi" => {
                let v = xt_uint(call, "policy", 0, u64::from(u32::MAX))? as u32;
                let slot = if key == "reqid" {
                    &mut e.reqid
                } else {
                    &mut e.spi
                };
                if slot.is_some() {
                    return double();
                }
                *slot = Some((v, inv));
            }
            "tunnel-src" | "tunnel-dst" => {
                let v = parse_hostmask(call.arg(), "policy", key).map_err(|m| call.err(m))?;
                let slot = if key == "tunnel-src" {
                    &mut e.tunnel_src
                } else {
                    &mut e.tunnel_dst
                };
                if slot.is_some() {
                    return double();
                }
                *slot = Some((v, inv));
            }
            "proto" => {
                if e.proto.is_some() {
                    return double();
                }
                let p = xt_protocol(call.arg()).map_err(|e| e.at(call.arg_span()))?;
                if !matches!(p, 50 | 51 | 108) {
                    return Err(call.err("policy match: protocol must be ah/esp/ipcomp"));
                }
                e.proto = Some((p, inv));
            }
            "mode" => {
                if e.tunnel_mode.is_some() {
                    return double();
                }
                let tunnel = match call.arg() {
                    "transport" => false,
                    "tunnel" => true,
                    m => return Err(call.err(format!("policy match: invalid mode \"{m}\""))),
                };
                e.tunnel_mode = Some((tunnel, inv));
            }
            _ => return unreachable_option(call),
        }
        Ok(())
    }
}

/// `XTTYPE_HOSTMASK`: a numeric host (or `localhost`) and an optional
/// prefix length or dotted mask (non-contiguous masks become /32); the
/// address stays unmasked. `ext` and `opt` name the option in messages.
pub fn parse_hostmask(s: &str, ext: &str, opt: &str) -> Result<(u32, u8), String> {
    let (host, mask) = match s.split_once('/') {
        Some((h, m)) => (h, Some(m)),
        None => (s, None),
    };
    let addr = match crate::ir::addr::numeric(host, false) {
        Some(a) => a,
        None if host == "localhost" => u32::from(Ipv4Addr::LOCALHOST),
        None => return Err("getaddrinfo: Name or service not known".to_string()),
    };
    let len = match mask {
        None => 32,
        Some(m) => parse_plen(m).ok_or_else(|| {
            format!(
                "{ext}: bad value for option \"--{opt}\", neither a valid network mask nor valid CIDR (0-32)."
            )
        })?,
    };
    Ok((addr, len))
}

/// `print_entry` with the `--` prefix.
fn save_elem(out: &mut String, e: &PolicyElem) {
    dump_elem(out, e, "--");
}

/// `print_entry`: save (`--`) names the protocol, print (no prefix, `-n`)
/// gives its number.
fn dump_elem(out: &mut String, e: &PolicyElem, pfx: &str) {
    let bang = |inv: bool| if inv { " !" } else { "" };
    if let Some((v, inv)) = e.reqid {
        let _ = write!(out, "{} {pfx}reqid {v}", bang(inv));
    }
    if let Some((v, inv)) = e.spi {
        let _ = write!(out, "{} {pfx}spi 0x{v:x}", bang(inv));
    }
    if let Some((p, inv)) = e.proto {
        let name = match crate::ext::netdb::protocol_name(p) {
            Some(n) if !pfx.is_empty() => n.to_string(),
            _ => p.to_string(),
        };
        let _ = write!(out, "{} {pfx}proto {name}", bang(inv));
    }
    if let Some((tunnel, inv)) = e.tunnel_mode {
        let m = if tunnel { "tunnel" } else { "transport" };
        let _ = write!(out, "{} {pfx}mode {m}", bang(inv));
    }
    for (name, v) in [("tunnel-dst", e.tunnel_dst), ("tunnel-src", e.tunnel_src)] {
        if let Some(((addr, len), inv)) = v {
            let _ = write!(out, "{} {pfx}{name} {}", bang(inv), Ipv4Addr::from(addr));
            if len != 32 {
                let _ = write!(out, "/{len}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{roundtrip, roundtrip_in};

    #[test]
    fn elements_and_save() {
        assert_eq!(
            roundtrip("-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 10.0.0.1/8 --tunnel-dst 1.2.3.4/255.0.255.0").unwrap(),
            "-m policy --dir in --pol ipsec --mode tunnel --tunnel-dst 1.2.3.4 --tunnel-src 10.0.0.1/8"
        );
        assert_eq!(
            roundtrip("-m policy --dir in --pol none --reqid 5").unwrap(),
            "-m policy --dir in --pol none"
        );
        assert_eq!(
            roundtrip("-m policy --dir in --pol ipsec --strict --proto 50 --next ! --spi 16")
                .unwrap(),
            "-m policy --dir in --pol ipsec --strict --proto esp --next ! --spi 0x10"
        );
        assert!(roundtrip("-m policy --dir in --pol ipsec --proto esp --next --spi 3").is_err());
        assert!(roundtrip("-m policy --dir in --pol ipsec --tunnel-src 1.2.3.4").is_err());
        assert!(roundtrip("-m policy --dir in --pol ipsec --strict --next --reqid 1").is_err());
        assert!(roundtrip("-m policy --dir in --proto tcp").is_err());
        assert!(roundtrip("-m policy --pol ipsec").is_err());
    }

    #[test]
    fn direction_and_hooks() {
        assert!(roundtrip_in("filter", "OUTPUT", "-m policy --dir in --pol ipsec").is_err());
        assert!(roundtrip("-m policy --dir out --pol ipsec").is_err());
        assert!(roundtrip_in("filter", "FORWARD", "-m policy --dir out --pol ipsec").is_ok());
    }
}
