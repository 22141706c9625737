//! `-j TPROXY` (libxt_TPROXY.c revision 1, xt_TPROXY.c): redirects to a local
//! socket without changing the packet. Mangle table, PREROUTING only, and
//! `-p tcp` or `-p udp` without `!`. Revision 1 saves all three fields.

use super::dnat::must_have;
use super::nat_range::inet_aton;
use super::scope::restrict;
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{markmask_opt, number};
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use crate::ir::hook::Hook;
use std::fmt::Write;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tproxy {
    pub port: Option<u16>,
    pub ip: u32,
    pub mark: u32,
    pub mask: u32,
}

impl TargetDef for Tproxy {
    const NAME: &'static str = "TPROXY";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("on-port"),
        OptSpec::req("on-ip"),
        OptSpec::req("tproxy-mark"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "on-port" => {
                // 1.8.9 reads a 32-bit number and keeps the low 16 bits
                // (65536 saves as 0); otherwise a service of any protocol.
                let p = match number(call.arg(), 0, u64::from(u32::MAX)) {
                    Some(v) => v as u16,
                    None => super::nat_range::service(call.arg()).ok_or_else(|| {
                        call.err(format!(
                            "Port \"{}\" does not resolve to anything.",
                            call.arg()
                        ))
                    })?,
                };
                self.port = Some(p);
            }
            "on-ip" => {
                self.ip = inet_aton(call.arg()).ok_or_else(|| {
                    call.err(format!("host `{}' not found", call.arg()))
                        .help("iptwalk does not resolve host names; write the address")
                })?;
            }
            "tproxy-mark" => {
                let (v, m) = markmask_opt(call.arg(), "TPROXY", "tproxy-mark")
                    .map_err(|e| e.at(call.arg_span()))?;
                self.mark = v;
                self.mask = m.unwrap_or(u32::MAX);
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(self.port.is_some(), "TPROXY", "on-port")
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "TPROXY", Some("mangle"), &[Hook::Prerouting])?;
        if !matches!(ctx.rule.proto(), Some(6 | 17)) {
            return Err(
                ExtError::new("xt_TPROXY: Can be used only with -p tcp or -p udp")
                    .help("add `-p tcp` or `-p udp` (without `!`)"),
            );
        }
        Ok(())
    }

    /// `tproxy_tg_print4`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(
            out,
            " TPROXY redirect {}:{} mark {:#x}/{:#x}",
            Ipv4Addr::from(self.ip),
            self.port.unwrap_or(0),
            self.mark,
            self.mask
        );
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(
            out,
            " --on-port {} --on-ip {} --tproxy-mark {:#x}/{:#x}",
            self.port.unwrap_or(0),
            Ipv4Addr::from(self.ip),
            self.mark,
            self.mask
        );
    }

    fn terminal(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn saves_all_fields() {
        let f = |c, r| fmt_rule("mangle", c, r);
        assert_eq!(
            f(
                "PREROUTING",
                "-p tcp -j TPROXY --on-port ssh --tproxy-mark 1"
            )
            .unwrap(),
            "-p tcp -j TPROXY --on-port 22 --on-ip 0.0.0.0 --tproxy-mark 0x1/0xffffffff"
        );
        assert!(f("PREROUTING", "-p icmp -j TPROXY --on-port 1").is_err());
        assert!(f("INPUT", "-p tcp -j TPROXY --on-port 1").is_err());
        assert!(f("PREROUTING", "-p tcp -j TPROXY --on-ip 1.1.1.1").is_err());
    }
}
