//! `-j NETMAP` (libipt_NETMAP.c, xt_NETMAP.c): maps a whole network 1:1 onto
//! another. Only in the nat table (any of its hooks).
//!
//! `--to` is read as `XTTYPE_HOSTMASK`: the address is masked on save, a
//! prefix length above 32 and a non-contiguous dotted mask both mean /32
//! (what 1.8.9 does), `/0` is allowed.

use super::dnat::must_have;
use super::scope::restrict;
use crate::ext::facts::{Effects, Facts, NatRequest};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::strtoul;
use crate::ext::{CheckCtx, RuleCtx, TargetDef, TargetResult};
use crate::ir::addr::{numeric, Ipv4Net};
use crate::ir::hook::Hook;
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netmap {
    /// The target network (address already masked); `None` until `--to`.
    pub to: Option<Ipv4Net>,
}

impl TargetDef for Netmap {
    const NAME: &'static str = "NETMAP";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("to")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "to" => self.to = Some(parse_hostmask(call.arg()).map_err(|e| e.at(call.arg_span()))?),
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(self.to.is_some(), "NETMAP", "to")
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        use Hook::*;
        restrict(
            ctx,
            "NETMAP",
            Some("nat"),
            &[Prerouting, Input, Output, Postrouting],
        )
    }

    /// `NETMAP_print`: ` to:` and the network (`/len`, or a dotted mask
    /// when not contiguous).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" to:");
        if let Some(n) = self.to {
            out.push_str(&n.to_string());
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(n) = self.to {
            let len = n.prefix_len().unwrap_or(32);
            let _ = write!(out, " --to {}/{len}", std::net::Ipv4Addr::from(n.addr));
        }
    }

    /// netmap_tg4: destination map in PREROUTING/OUTPUT, source map in POSTROUTING/INPUT;
    /// the engine keeps the host bits of the address (`new = (old & ~mask) | net`).
    fn run(&self, f: &Facts, fx: &mut Effects) -> TargetResult {
        let net = self.to.unwrap_or(Ipv4Net { addr: 0, mask: 0 });
        fx.nat = Some(NatRequest {
            dnat: matches!(f.hook, Hook::Prerouting | Hook::Output),
            addrs: Some((net.addr, net.addr | !net.mask)),
            ports: None,
            masquerade: false,
            redirect: false,
            netmap: true,
            random: false,
            random_fully: false,
            persistent: false,
        });
        TargetResult::Accept
    }

    fn terminal(&self) -> bool {
        true
    }
}

/// `ADDR[/LEN|/MASK]` as 1.8.9's NETMAP reads it.
fn parse_hostmask(s: &str) -> ExtResult<Ipv4Net> {
    let (host, mask) = match s.split_once('/') {
        Some((h, m)) => (h, Some(m)),
        None => (s, None),
    };
    let addr = super::nat_range::inet_aton(host).ok_or_else(|| {
        ExtError::new(format!("host/network `{host}' not found"))
            .help("iptwalk does not resolve host names; write the address")
    })?;
    let mask = match mask {
        None => u32::MAX,
        Some(m) if m.contains('.') => match numeric(m, false) {
            Some(v) if Ipv4Net::new(0, v).prefix_len().is_some() => v,
            Some(_) => u32::MAX,
            None => return Err(bad_mask()),
        },
        Some(m) => match strtoul(m, 0, u64::from(u32::MAX)) {
            Some(0) => 0,
            Some(n) if n < 32 => u32::MAX << (32 - n),
            Some(_) => u32::MAX,
            None => return Err(bad_mask()),
        },
    };
    Ok(Ipv4Net::new(addr, mask))
}

fn bad_mask() -> ExtError {
    ExtError::new(
        "NETMAP: bad value for option \"--to\", neither a valid network mask nor valid CIDR (0-32).",
    )
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn masks_like_1_8_9() {
        let f = |r| fmt_rule("nat", "POSTROUTING", r);
        assert_eq!(
            f("-j NETMAP --to 10.1.2.3/8").unwrap(),
            "-j NETMAP --to 10.0.0.0/8"
        );
        assert_eq!(
            f("-j NETMAP --to 1.2.3.4").unwrap(),
            "-j NETMAP --to 1.2.3.4/32"
        );
        assert_eq!(
            f("-j NETMAP --to 1.2.3.0/100").unwrap(),
            "-j NETMAP --to 1.2.3.0/32"
        );
        assert_eq!(
            f("-j NETMAP --to 1.2.3.0/0").unwrap(),
            "-j NETMAP --to 0.0.0.0/0"
        );
        assert_eq!(
            f("-j NETMAP --to 1.2.3.0/255.255.0.255").unwrap(),
            "-j NETMAP --to 1.2.3.0/32"
        );
        assert!(f("-j NETMAP --to 1.2.3.0/x").is_err());
        assert!(fmt_rule("mangle", "POSTROUTING", "-j NETMAP --to 1.2.3.0/24").is_err());
    }
}
