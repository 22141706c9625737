//! `-m udp`: source and destination ports of UDP datagrams (libxt_udp.c,
//! xt_tcpudp.c). The kernel requires `-p udp` (`udp_mt_check`).
//!
//! 1.8.9 reads the ports as XTTYPE_PORTRC (`xtopt_parse_mport`): decimal
//! numbers or service names, no order check (`4:3` loads and never matches).

use super::tcp::{non_first_fragment, port_match, require_proto, save_ports, unreachable_option};
use crate::ext::facts::{Facts, L4Facts, MatchResult};
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::mport;
use crate::ext::{CheckCtx, MatchDef, RuleCtx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Udp {
    pub sport: (u16, u16),
    pub sport_inv: bool,
    pub dport: (u16, u16),
    pub dport_inv: bool,
}

impl Default for Udp {
    fn default() -> Udp {
        Udp {
            sport: (0, u16::MAX),
            sport_inv: false,
            dport: (0, u16::MAX),
            dport_inv: false,
        }
    }
}

impl MatchDef for Udp {
    const NAME: &'static str = "udp";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("source-port").inv().alias("sport"),
        OptSpec::req("sport").inv(),
        OptSpec::req("destination-port").inv().alias("dport"),
        OptSpec::req("dport").inv(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let range = || mport(call.arg(), "udp", call.name).map_err(|e| e.at(call.arg_span()));
        match call.key {
            "sport" => (self.sport, self.sport_inv) = (range()?, call.invert),
            "dport" => (self.dport, self.dport_inv) = (range()?, call.invert),
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        require_proto(ctx, 17, "udp")
    }

    /// `udp_mt` in xt_tcpudp.c.
    fn eval(&self, f: &Facts) -> MatchResult {
        if let Some(r) = non_first_fragment(f) {
            return r;
        }
        match f.l4 {
            L4Facts::Udp { sport, dport } => MatchResult::from_bool(
                port_match(self.sport, sport, self.sport_inv)
                    && port_match(self.dport, dport, self.dport_inv),
            ),
            _ if f.l4_truncated => MatchResult::Hotdrop,
            _ => MatchResult::No,
        }
    }

    /// `udp_print`: ` udp` and the ports as libxt_tcp.c prints them.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" udp");
        super::tcp::list_ports(out, "spt", self.sport, self.sport_inv);
        super::tcp::list_ports(out, "dpt", self.dport, self.dport_inv);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        save_ports(out, "sport", self.sport, self.sport_inv);
        save_ports(out, "dport", self.dport, self.dport_inv);
    }
}
