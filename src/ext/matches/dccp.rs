//! `-m dccp` (libxt_dccp.c, kernel xt_dccp.c): DCCP ports, packet types and
//! an option number. The kernel requires `-p dccp` without `!`.
//!
//! Ports use XTTYPE_PORTRC (no order check, saved whenever given, even as
//! `0:65535`). Naming INVALID also sets the bits of types 11-15
//! (`INVALID_OTHER_TYPE_MASK`), which are never printed.

use super::tcp::{bang, require_proto, unreachable_option};
use crate::ext::facts::{Facts, L4Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{mport, uint};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

/// `dccp_pkt_types`: index = DCCP packet type.
pub const TYPES: &[&str] = &[
    "REQUEST", "RESPONSE", "DATA", "ACK", "DATAACK", "CLOSEREQ", "CLOSE", "RESET", "SYNC",
    "SYNCACK", "INVALID",
];
const PKT_INVALID: u16 = 10;
const INVALID_OTHER_TYPE_MASK: u16 = 0xf800;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dccp {
    /// `(range, invert)` of each given option.
    pub sport: Option<((u16, u16), bool)>,
    pub dport: Option<((u16, u16), bool)>,
    /// Bit `n` = packet type `n`.
    pub types: Option<(u16, bool)>,
    pub option: Option<(u8, bool)>,
}

impl MatchDef for Dccp {
    const NAME: &'static str = "dccp";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("source-port").inv().alias("sport"),
        OptSpec::req("sport").inv(),
        OptSpec::req("destination-port").inv().alias("dport"),
        OptSpec::req("dport").inv(),
        OptSpec::req("dccp-types").inv(),
        OptSpec::req("dccp-option").inv(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let arg = call.arg();
        let inv = call.invert;
        let at = |e: ExtError| e.at(call.arg_span());
        match call.key {
            "sport" => self.sport = Some((mport(arg, "dccp", call.name).map_err(at)?, inv)),
            "dport" => self.dport = Some((mport(arg, "dccp", call.name).map_err(at)?, inv)),
            "dccp-types" => self.types = Some((parse_types(arg).map_err(at)?, inv)),
            "dccp-option" => {
                let v = uint(arg, 1, 255).ok_or_else(|| {
                    call.err(
                        "dccp: bad value for option \"--dccp-option\", or out of range (1-255).",
                    )
                })?;
                self.option = Some((v as u8, inv));
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        require_proto(ctx, 33, "dccp")
    }

    /// `dccp_mt`: later fragments never match, a missing header drops the
    /// packet. `--dccp-option` needs the option walk of `dccp_find_option`,
    /// which iptwalk does not do: such rules are reported as unknown.
    fn eval(&self, f: &Facts) -> MatchResult {
        if f.frag_off != 0 {
            return MatchResult::No;
        }
        let ihl = usize::from(f.ihl);
        let (sport, dport, kind) = match (f.l4, f.bytes.get(ihl + 8)) {
            (L4Facts::Ports { sport, dport }, Some(b)) if f.proto == 33 => {
                (sport, dport, (b >> 1) & 0x0f)
            }
            _ if f.l4_truncated || f.proto == 33 => return MatchResult::Hotdrop,
            _ => return MatchResult::No,
        };
        let port_ok = |p: Option<((u16, u16), bool)>, v: u16| {
            p.is_none_or(|((lo, hi), inv)| (lo <= v && v <= hi) != inv)
        };
        let type_ok = self
            .types
            .is_none_or(|(mask, inv)| (mask & (1 << kind) != 0) != inv);
        if !(port_ok(self.sport, sport) && port_ok(self.dport, dport) && type_ok) {
            return MatchResult::No;
        }
        if self.option.is_some() {
            return MatchResult::Unknown(Self::NAME);
        }
        MatchResult::Yes
    }

    /// `dccp_print`: ports as libxt_tcp.c, types as numbers (numeric), the
    /// option as ` option=N`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" dccp");
        for (name, p) in [("spt", self.sport), ("dpt", self.dport)] {
            if let Some((range, inv)) = p {
                super::tcp::list_ports(out, name, range, inv);
            }
        }
        if let Some((mask, inv)) = self.types {
            out.push_str(bang(inv));
            out.push(' ');
            let types: Vec<String> = (0..16)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| i.to_string())
                .collect();
            out.push_str(&types.join(","));
        }
        if let Some((opt, inv)) = self.option {
            if opt != 0 || inv {
                let _ = write!(out, " option={}{opt}", if inv { "!" } else { "" });
            }
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        for (name, p) in [("sport", self.sport), ("dport", self.dport)] {
            if let Some(((lo, hi), inv)) = p {
                let _ = write!(out, "{} --{name} {lo}", bang(inv));
                if lo != hi {
                    let _ = write!(out, ":{hi}");
                }
            }
        }
        if let Some((mask, inv)) = self.types {
            let _ = write!(out, "{} --dccp-types ", bang(inv));
            let mut first = true;
            for (i, name) in TYPES.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    out.push_str(if first { "" } else { "," });
                    out.push_str(name);
                    first = false;
                }
            }
        }
        if let Some((opt, inv)) = self.option {
            let _ = write!(out, "{} --dccp-option {opt}", bang(inv));
        }
    }
}

/// `parse_dccp_types`: comma list of names (case-insensitive, empty items
/// skipped as strtok does).
fn parse_types(s: &str) -> ExtResult<u16> {
    let mut mask = 0u16;
    for word in s.split(',').filter(|w| !w.is_empty()) {
        let i = TYPES
            .iter()
            .position(|t| t.eq_ignore_ascii_case(word))
            .ok_or_else(|| ExtError::new(format!("Unknown DCCP type `{word}'")))?;
        mask |= 1 << i;
    }
    if mask & (1 << PKT_INVALID) != 0 {
        mask |= INVALID_OTHER_TYPE_MASK;
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_covers_unknown_types() {
        assert_eq!(parse_types("INVALID").unwrap(), 0xfc00);
        assert_eq!(parse_types("request,,ack").unwrap(), 0b1001);
        assert!(parse_types("foo").is_err());
    }
}
