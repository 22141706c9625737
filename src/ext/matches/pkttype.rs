//! `-m pkttype --pkt-type TYPE` (libxt_pkttype.c, kernel xt_pkttype.c): the
//! link-layer class of the packet (`skb->pkt_type`; for IPv4 the kernel
//! classifies loopback-device packets by the destination address instead).

use super::tcp::{bang, unreachable_option};
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{MatchDef, RuleCtx};

/// `PACKET_*` values (linux/if_packet.h).
pub const PACKET_HOST: u8 = 0;
pub const PACKET_BROADCAST: u8 = 1;
pub const PACKET_MULTICAST: u8 = 2;
pub const PACKET_OTHERHOST: u8 = 3;

/// `supported_types`: names first (printed), then aliases.
const TYPES: &[(&str, u8)] = &[
    ("unicast", PACKET_HOST),
    ("broadcast", PACKET_BROADCAST),
    ("multicast", PACKET_MULTICAST),
    ("otherhost", PACKET_OTHERHOST),
    ("bcast", PACKET_BROADCAST),
    ("mcast", PACKET_MULTICAST),
    ("host", PACKET_HOST),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkttype {
    pub pkttype: u8,
    pub invert: bool,
    given: bool,
}

impl MatchDef for Pkttype {
    const NAME: &'static str = "pkttype";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("pkt-type").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "pkt-type" => {
                let arg = call.arg();
                let (_, t) = TYPES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(arg))
                    .ok_or_else(|| call.err(format!("Bad packet type '{arg}'")))?;
                self.pkttype = *t;
                self.invert = call.invert;
                self.given = true;
                Ok(())
            }
            _ => unreachable_option(call),
        }
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(ExtError::new(
                "pkttype: option \"--pkt-type\" must be specified",
            ))
        }
    }

    /// `pkttype_mt`: loopback packets (PACKET_LOOPBACK, 5) count as
    /// multicast when sent to a multicast address, else as broadcast.
    fn eval(&self, f: &Facts) -> MatchResult {
        let kind = if f.pkttype != 5 {
            f.pkttype
        } else if f.dst >> 28 == 0xE {
            PACKET_MULTICAST
        } else {
            PACKET_BROADCAST
        };
        MatchResult::from_bool((kind == self.pkttype) != self.invert)
    }

    /// `pkttype_print`: ` PKTTYPE = name` or ` PKTTYPE != name`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(if self.invert {
            " PKTTYPE != "
        } else {
            " PKTTYPE = "
        });
        match TYPES.iter().find(|(_, t)| *t == self.pkttype) {
            Some((name, _)) => out.push_str(name),
            None => out.push_str(&self.pkttype.to_string()),
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(" --pkt-type ");
        match TYPES.iter().find(|(_, t)| *t == self.pkttype) {
            Some((name, _)) => out.push_str(name),
            None => out.push_str(&self.pkttype.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn aliases_save_as_names() {
        let rt = |r| roundtrip("filter", "INPUT", r);
        assert_eq!(
            rt("-m pkttype --pkt-type BCAST").unwrap(),
            "-m pkttype --pkt-type broadcast"
        );
        assert_eq!(
            rt("-m pkttype ! --pkt-type host").unwrap(),
            "-m pkttype ! --pkt-type unicast"
        );
        assert_eq!(
            rt("-m pkttype --pkt-type wrong").unwrap_err(),
            "Bad packet type 'wrong'"
        );
    }
}
