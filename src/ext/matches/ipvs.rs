//! `-m ipvs` (libxt_ipvs.c, xt_ipvs.c): properties of IPVS (load balancer)
//! connections: virtual protocol, address, port, direction, forwarding
//! method and control port.
//!
//! Kept as the kernel's `bitmask`/`invert` bits (`XT_IPVS_*`, bit N for the
//! Nth option). Any option other than `--ipvs` implies the IPVS property
//! (`ipvs_mt_check`), so save prints `--ipvs` only when it stands alone.
//! Not judged offline: IPVS state is not modelled.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::xt_protocol;
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;
use std::net::Ipv4Addr;

pub const IPVS_PROPERTY: u8 = 1 << 0;
pub const PROTO: u8 = 1 << 1;
pub const VADDR: u8 = 1 << 2;
pub const VPORT: u8 = 1 << 3;
pub const DIR: u8 = 1 << 4;
pub const METHOD: u8 = 1 << 5;
pub const VPORTCTL: u8 = 1 << 6;
/// Option names by bit, in table order.
const OPTS: [&str; 7] = [
    "ipvs", "vproto", "vaddr", "vport", "vdir", "vmethod", "vportctl",
];
/// `IP_VS_CONN_F_*` forwarding methods by name.
const METHODS: [(&str, u32); 3] = [("GATE", 0x0003), ("IPIP", 0x0002), ("MASQ", 0x0000)];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ipvs {
    pub bitmask: u8,
    pub invert: u8,
    pub l4proto: u8,
    pub vaddr: u32,
    /// Prefix length of `vmask`.
    pub vmask_len: u8,
    pub vport: u16,
    pub vportctl: u16,
    pub fwd_method: u32,
}

impl MatchDef for Ipvs {
    const NAME: &'static str = "ipvs";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::flag("ipvs").inv(),
        OptSpec::req("vproto").inv(),
        OptSpec::req("vaddr").inv(),
        OptSpec::req("vport").inv(),
        OptSpec::req("vdir"),
        OptSpec::req("vmethod").inv(),
        OptSpec::req("vportctl").inv(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let arg = call.arg();
        let bad = || {
            call.err(format!(
                "ipvs: Bad value for \"--{}\" option: \"{arg}\"",
                call.key
            ))
        };
        match call.key {
            "ipvs" => {}
            "vproto" => self.l4proto = xt_protocol(arg).map_err(|e| e.at(call.arg_span()))?,
            "vaddr" => {
                (self.vaddr, self.vmask_len) =
                    super::policy::parse_hostmask(arg, "ipvs", "vaddr").map_err(|m| call.err(m))?
            }
            "vport" | "vportctl" => {
                let p = service_port(arg).ok_or_else(|| {
                    call.err(format!("Port \"{arg}\" does not resolve to anything."))
                })?;
                if call.key == "vport" {
                    self.vport = p;
                } else {
                    self.vportctl = p;
                }
            }
            "vdir" => {
                if arg.eq_ignore_ascii_case("ORIGINAL") {
                    self.invert &= !DIR;
                } else if arg.eq_ignore_ascii_case("REPLY") {
                    self.invert |= DIR;
                } else {
                    return Err(bad());
                }
            }
            "vmethod" => {
                self.fwd_method = METHODS
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(arg))
                    .map(|(_, m)| *m)
                    .ok_or_else(bad)?
            }
            _ => return unreachable_option(call),
        }
        let bit = OPTS
            .iter()
            .position(|o| *o == call.key)
            .map_or(0, |i| 1u8 << i);
        self.bitmask |= bit;
        if call.invert {
            self.invert |= bit;
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.bitmask == 0 {
            return Err(ExtError::new("IPVS: At least one option is required"));
        }
        if self.bitmask & !IPVS_PROPERTY != 0 {
            if self.invert & IPVS_PROPERTY != 0 {
                return Err(ExtError::new(
                    "! --ipvs cannot be together with other options",
                ));
            }
            self.bitmask |= IPVS_PROPERTY;
        }
        Ok(())
    }

    /// `ipvs_mt_dump` with the empty prefix of `ipvs_mt4_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        self.dump(out, "");
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        self.dump(out, "--");
    }
}

impl Ipvs {
    /// `ipvs_mt_dump`: save and print differ only in the option prefix.
    fn dump(&self, out: &mut String, pfx: &str) {
        let bang = |bit: u8| if self.invert & bit != 0 { " !" } else { "" };
        if self.bitmask == IPVS_PROPERTY {
            let _ = write!(out, "{} {pfx}ipvs", bang(IPVS_PROPERTY));
        }
        if self.bitmask & PROTO != 0 {
            let _ = write!(out, "{} {pfx}vproto {}", bang(PROTO), self.l4proto);
        }
        if self.bitmask & VADDR != 0 {
            let _ = write!(
                out,
                "{} {pfx}vaddr {}",
                bang(VADDR),
                Ipv4Addr::from(self.vaddr)
            );
            if self.vmask_len != 32 {
                let _ = write!(out, "/{}", self.vmask_len);
            }
        }
        if self.bitmask & VPORT != 0 {
            let _ = write!(out, "{} {pfx}vport {}", bang(VPORT), self.vport);
        }
        if self.bitmask & DIR != 0 {
            let dir = if self.invert & DIR != 0 {
                "REPLY"
            } else {
                "ORIGINAL"
            };
            let _ = write!(out, " {pfx}vdir {dir}");
        }
        if self.bitmask & METHOD != 0 {
            let name = METHODS
                .iter()
                .find(|(_, m)| *m == self.fwd_method)
                .map_or("UNKNOWN", |(n, _)| n);
            let _ = write!(out, "{} {pfx}vmethod {name}", bang(METHOD));
        }
        if self.bitmask & VPORTCTL != 0 {
            let _ = write!(out, "{} {pfx}vportctl {}", bang(VPORTCTL), self.vportctl);
        }
    }
}

/// `xtables_getportbyname`: a decimal port or a service name of any
/// protocol (what getaddrinfo's service lookup accepts).
fn service_port(s: &str) -> Option<u16> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u16>().ok();
    }
    ["tcp", "udp", "sctp"]
        .iter()
        .find_map(|p| crate::ext::netdb::service_port(s, p))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn property_and_options() {
        assert_eq!(roundtrip("-m ipvs ! --ipvs").unwrap(), "-m ipvs ! --ipvs");
        assert_eq!(
            roundtrip("-m ipvs --ipvs --vproto tcp ! --vaddr 1.2.3.4/255.255.255.0 --vport http --vdir reply").unwrap(),
            "-m ipvs --vproto 6 ! --vaddr 1.2.3.4/24 --vport 80 --vdir REPLY"
        );
        assert!(roundtrip("-m ipvs ! --ipvs --vport 22").is_err());
        assert!(roundtrip("-m ipvs --vmethod FOO").is_err());
        assert!(roundtrip("-m ipvs").is_err());
    }
}
