//! `-m multiport` (libxt_multiport.c rev 1, kernel xt_multiport.c): up to 15
//! ports or ranges (a range takes two of the 15 slots) on the source, the
//! destination, or either port.
//!
//! The protocol is checked while parsing, against the `-p` given *before* the
//! option, as iptables does (`check_proto`): tcp, udp, udplite, sctp or dccp,
//! without `!`. Ranges must be strictly increasing (`a:b` with a < b).

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, L4Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::port;
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::LoadErrorKind;
use std::fmt::Write;

/// `XT_MULTI_PORTS`.
pub const MAX_PORTS: usize = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Which {
    #[default]
    Source,
    Destination,
    Either,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multiport {
    pub which: Which,
    /// Inclusive ranges; a single port is `(p, p)` and takes one slot.
    pub ports: Vec<(u16, u16)>,
    pub invert: bool,
    /// Options given, in order (for the exclusivity check).
    given: Vec<&'static str>,
}

impl MatchDef for Multiport {
    const NAME: &'static str = "multiport";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("source-ports").inv(),
        OptSpec::req("sports").inv().alias("source-ports"),
        OptSpec::req("destination-ports").inv(),
        OptSpec::req("dports").inv().alias("destination-ports"),
        OptSpec::req("ports").inv(),
    ];

    fn parse(&mut self, call: &OptCall, ctx: &RuleCtx) -> ExtResult {
        let proto = proto_name(ctx).map_err(|e| e.at(call.span))?;
        self.which = match call.key {
            "source-ports" => Which::Source,
            "destination-ports" => Which::Destination,
            "ports" => Which::Either,
            _ => return unreachable_option(call),
        };
        self.ports = parse_ports(call.arg(), proto).map_err(|e| e.at(call.arg_span()))?;
        self.invert = call.invert;
        self.given.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        // .excl = F_ANY: xtables_options_fcheck names the options in table order.
        let order = ["source-ports", "destination-ports", "ports"];
        let mut set: Vec<&str> = order
            .iter()
            .copied()
            .filter(|o| self.given.contains(o))
            .collect();
        match set.len() {
            0 => Err(ExtError::new("multiport expection an option")),
            1 => Ok(()),
            _ => {
                let other = set.remove(1);
                Err(ExtError::new(format!(
                    "multiport: option \"--{}\" cannot be used together with \"--{other}\".",
                    set[0]
                )))
            }
        }
    }

    /// `multiport_mt_check`: the same protocol test as parsing.
    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        proto_name(&ctx.rule)
            .map(|_| ())
            .map_err(|e| e.help("add `-p tcp` (or udp, udplite, sctp, dccp) before `-m multiport`"))
    }

    /// `multiport_mt` / `ports_match_v1`: later fragments never match, a
    /// missing header drops the packet.
    fn eval(&self, f: &Facts) -> MatchResult {
        if f.frag_off != 0 {
            return MatchResult::No;
        }
        let (sport, dport) = match f.l4 {
            L4Facts::Tcp { sport, dport, .. }
            | L4Facts::Udp { sport, dport }
            | L4Facts::Ports { sport, dport } => (sport, dport),
            _ if f.l4_truncated => return MatchResult::Hotdrop,
            _ => return MatchResult::No,
        };
        let inside = |p: u16| self.ports.iter().any(|(lo, hi)| *lo <= p && p <= *hi);
        let hit = match self.which {
            Which::Source => inside(sport),
            Which::Destination => inside(dport),
            Which::Either => inside(sport) || inside(dport),
        };
        MatchResult::from_bool(hit != self.invert)
    }

    /// `__multiport_print_v1`: the `!` comes after the direction word, so an
    /// inverted list reads `dports  !80,443` (two spaces).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(match self.which {
            Which::Source => " multiport sports ",
            Which::Destination => " multiport dports ",
            Which::Either => " multiport ports ",
        });
        if self.invert {
            out.push_str(" !");
        }
        self.port_list(out);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(match self.which {
            Which::Source => " --sports ",
            Which::Destination => " --dports ",
            Which::Either => " --ports ",
        });
        self.port_list(out);
    }
}

impl Multiport {
    /// `80,1000:2000` as both save and print write it (numeric ports).
    fn port_list(&self, out: &mut String) {
        for (i, (lo, hi)) in self.ports.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            if lo == hi {
                let _ = write!(out, "{sep}{lo}");
            } else {
                let _ = write!(out, "{sep}{lo}:{hi}");
            }
        }
    }
}

/// `check_proto`: the protocol name used for service lookups.
fn proto_name(ctx: &RuleCtx) -> ExtResult<&'static str> {
    let only = "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP";
    if ctx.proto_inv {
        return Err(ExtError::new(only).kind(LoadErrorKind::NeedsProtocol));
    }
    match ctx.proto {
        6 => Ok("tcp"),
        17 => Ok("udp"),
        136 => Ok("udplite"),
        132 => Ok("sctp"),
        33 => Ok("dccp"),
        0 => Err(ExtError::new(
            "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'",
        )
        .kind(LoadErrorKind::NeedsProtocol)),
        _ => Err(ExtError::new(only).kind(LoadErrorKind::NeedsProtocol)),
    }
}

/// `parse_multi_ports_v1`: comma list of `port` or `lo:hi`.
fn parse_ports(s: &str, proto: &str) -> ExtResult<Vec<(u16, u16)>> {
    let too_many = || ExtError::new("too many ports specified");
    let mut out = Vec::new();
    let mut slots = 0;
    for item in s.split(',') {
        if slots >= MAX_PORTS {
            return Err(too_many());
        }
        match item.split_once(':') {
            Some((lo, hi)) => {
                if slots == MAX_PORTS - 1 {
                    return Err(too_many());
                }
                let (lo, hi) = (port(lo, proto)?, port(hi, proto)?);
                if lo >= hi {
                    return Err(ExtError::new("invalid portrange specified"));
                }
                out.push((lo, hi));
                slots += 2;
            }
            None => {
                let p = port(item, proto)?;
                out.push((p, p));
                slots += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_ranges() {
        let fifteen = (1..=15)
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(parse_ports(&fifteen, "tcp").unwrap().len(), 15);
        let sixteen = format!("{fifteen},16");
        assert!(parse_ports(&sixteen, "tcp").is_err());
        // A range in the last slot does not fit.
        let fourteen_and_range = format!(
            "{},20:30",
            (1..=14)
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(parse_ports(&fourteen_and_range, "tcp").is_err());
        assert!(parse_ports("5:5", "tcp").is_err());
        assert_eq!(
            parse_ports("ssh,1024:65535", "tcp").unwrap(),
            vec![(22, 22), (1024, 65535)]
        );
        assert!(parse_ports("1024:65536", "tcp").is_err());
    }
}
