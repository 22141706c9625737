//! `-j TEE` (libxt_TEE.c, xt_TEE.c): sends a copy of the packet to a gateway
//! and continues. `--gateway` is mandatory (an IPv4 address as libxtables
//! reads hosts: `1.1.1` is `1.1.0.1`); `--oif` optional. The kernel refuses
//! the all-zero gateway. `--oif` is cut to 15 bytes.

use super::dnat::must_have;
use super::nat_range::inet_aton;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tee {
    pub gateway: Option<u32>,
    pub oif: String,
}

impl TargetDef for Tee {
    const NAME: &'static str = "TEE";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("gateway"), OptSpec::req("oif")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "gateway" => {
                let a = inet_aton(call.arg()).ok_or_else(|| {
                    call.err(format!("host `{}' not found", call.arg()))
                        .help("iptwalk does not resolve host names; write the address")
                })?;
                self.gateway = Some(a);
            }
            // char oif[16]: longer names are cut.
            "oif" => self.oif = super::ct::truncate(call.arg(), 15),
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(self.gateway.is_some(), "TEE", "gateway")
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        if self.gateway == Some(0) {
            return Err(ExtError::new(
                "TEE target: gateway 0.0.0.0 is refused by the kernel",
            ));
        }
        Ok(())
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `tee_tg_print` (numeric).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, " TEE gw:{}", Ipv4Addr::from(self.gateway.unwrap_or(0)));
        if !self.oif.is_empty() {
            let _ = write!(out, " oif={}", self.oif);
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(g) = self.gateway {
            let _ = write!(out, " --gateway {}", Ipv4Addr::from(g));
        }
        if !self.oif.is_empty() {
            let _ = write!(out, " --oif {}", self.oif);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn gateway() {
        let f = |r| fmt_rule("filter", "INPUT", r);
        assert_eq!(
            f("-j TEE --gateway 1.1.1 --oif eth0").unwrap(),
            "-j TEE --gateway 1.1.0.1 --oif eth0"
        );
        assert!(f("-j TEE --oif eth0").is_err());
        assert!(f("-j TEE --gateway 0.0.0.0").is_err());
    }
}
