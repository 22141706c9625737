//! `-j REDIRECT` (libxt_NAT.c, xt_REDIRECT.c): DNAT to the host itself. Only
//! in the nat table's PREROUTING and OUTPUT hooks.
//!
//! Revision 0 has no base port, and 1.8.9 refuses a shifted map outright.

use super::nat_range::{fmt_ports, parse_ports, NatRange};
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts, NatRequest};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, RuleCtx, TargetDef, TargetResult};
use crate::ir::hook::Hook;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redirect {
    /// Only `ports` is used.
    pub range: NatRange,
    pub random: bool,
}

impl TargetDef for Redirect {
    const NAME: &'static str = "REDIRECT";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("to-ports"), OptSpec::flag("random")];

    fn parse(&mut self, call: &OptCall, ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "to-ports" => {
                parse_ports(call.arg(), ctx, &mut self.range).map_err(|e| e.at(call.arg_span()))?;
                if self.range.base.is_some() {
                    return Err(call.err("Shifted portmap ranges not supported with this kernel"));
                }
            }
            "random" => self.random = true,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(
            ctx,
            "REDIRECT",
            Some("nat"),
            &[Hook::Prerouting, Hook::Output],
        )
    }

    /// `REDIRECT_print` (`__NAT_print` in libxt_NAT.c, colon skipped).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some((lo, hi)) = self.range.ports {
            out.push_str(" redir ports ");
            fmt_ports(out, &self.range, lo, hi);
        }
        if self.random {
            out.push_str(" random");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some((lo, hi)) = self.range.ports {
            out.push_str(" --to-ports ");
            fmt_ports(out, &self.range, lo, hi);
        }
        if self.random {
            out.push_str(" --random");
        }
    }

    /// redirect_tg4: DNAT to the incoming interface's address (`nf_nat_redirect_ipv4`,
    /// resolved by the engine).
    fn run(&self, _f: &Facts, fx: &mut Effects) -> TargetResult {
        fx.nat = Some(NatRequest {
            dnat: true,
            addrs: None,
            ports: self.range.ports,
            masquerade: false,
            redirect: true,
            netmap: false,
            random: self.random,
            random_fully: false,
            persistent: false,
        });
        TargetResult::Accept
    }

    fn terminal(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn ports() {
        let f = |r| fmt_rule("nat", "OUTPUT", r);
        assert_eq!(
            f("-p udp -j REDIRECT --to-ports 512-512").unwrap(),
            "-p udp -j REDIRECT --to-ports 512"
        );
        assert_eq!(
            f("-p tcp -j REDIRECT --to-ports 42-1234/567").unwrap_err(),
            "Shifted portmap ranges not supported with this kernel"
        );
        assert_eq!(
            f("-p tcp -j REDIRECT --to-ports 10-ssh").unwrap_err(),
            "Port `ssh' not valid"
        );
    }
}
