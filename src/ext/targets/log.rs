//! `-j LOG` (libxt_LOG.c, xt_LOG.c): writes a kernel log line and continues.

use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::comment::save_string;
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::number;
use crate::ext::{RuleCtx, TargetDef, TargetResult};
use crate::ir::Hook;
use std::fmt::Write;

/// `Facts::pkttype` of a locally generated packet.
const PACKET_OUTGOING: u8 = 4;

/// syslog levels by name (`log_names` in libxt_LOG.c); numbers 0-7 also work.
const LEVELS: &[(&str, u8)] = &[
    ("alert", 1),
    ("crit", 2),
    ("debug", 7),
    ("emerg", 0),
    ("error", 3),
    ("info", 6),
    ("notice", 5),
    ("panic", 0),
    ("warning", 4),
];
/// LOG_WARNING, not printed on save.
const DEFAULT_LEVEL: u8 = 4;
/// `sizeof(xt_log_info.prefix)` is 30 with the NUL.
const MAX_PREFIX: usize = 29;

pub const TCPSEQ: u8 = 0x01;
pub const TCPOPT: u8 = 0x02;
pub const IPOPT: u8 = 0x04;
pub const UID: u8 = 0x08;
pub const MACDECODE: u8 = 0x20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    pub level: u8,
    pub prefix: String,
    pub flags: u8,
}

impl Default for Log {
    fn default() -> Log {
        Log {
            level: DEFAULT_LEVEL,
            prefix: String::new(),
            flags: 0,
        }
    }
}

impl TargetDef for Log {
    const NAME: &'static str = "LOG";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("log-level"),
        OptSpec::req("log-prefix"),
        OptSpec::flag("log-tcp-sequence"),
        OptSpec::flag("log-tcp-options"),
        OptSpec::flag("log-ip-options"),
        OptSpec::flag("log-uid"),
        OptSpec::flag("log-macdecode"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "log-level" => {
                self.level = parse_level(call.arg()).map_err(|e| e.at(call.arg_span()))?
            }
            "log-prefix" => {
                let p = call.arg();
                if p.len() > MAX_PREFIX {
                    return Err(call.err(format!(
                        "Maximum prefix length {MAX_PREFIX} for --log-prefix"
                    )));
                }
                if p.contains('\n') {
                    return Err(call.err("Newlines not allowed in --log-prefix"));
                }
                self.prefix = p.to_string();
            }
            "log-tcp-sequence" => self.flags |= TCPSEQ,
            "log-tcp-options" => self.flags |= TCPOPT,
            "log-ip-options" => self.flags |= IPOPT,
            "log-uid" => self.flags |= UID,
            "log-macdecode" => self.flags |= MACDECODE,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    /// Logging has no effect on the packet: XT_CONTINUE. The line is the one
    /// `nf_log_ip_packet()` writes (see `log_line`); replay prints it with `--log`.
    fn run(&self, f: &Facts, fx: &mut Effects) -> TargetResult {
        if fx.want_log {
            fx.log
                .push(super::log_line::line(&self.prefix, self.flags, f));
        }
        // `--log-uid` prints `UID= GID=` of skb->sk (nf_log_dump_sk_uid_gid): a locally
        // generated packet has its sender's socket, and in INPUT early demux may have
        // attached an established socket. Neither is in a capture; forwarded and
        // PREROUTING packets have no socket, so nothing is printed there (kernel-checked).
        if self.flags & UID != 0 && (f.hook == Hook::Input || f.pkttype == PACKET_OUTGOING) {
            return TargetResult::Unknown("LOG --log-uid");
        }
        TargetResult::Continue
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if !self.prefix.is_empty() {
            out.push_str(" --log-prefix ");
            save_string(out, &self.prefix);
        }
        if self.level != DEFAULT_LEVEL {
            let _ = write!(out, " --log-level {}", self.level);
        }
        for (bit, name) in [
            (TCPSEQ, "log-tcp-sequence"),
            (TCPOPT, "log-tcp-options"),
            (IPOPT, "log-ip-options"),
            (UID, "log-uid"),
            (MACDECODE, "log-macdecode"),
        ] {
            if self.flags & bit != 0 {
                let _ = write!(out, " --{name}");
            }
        }
    }
}

/// The `--log-level` of libxt_LOG.c (1.8.9, XTTYPE_SYSLOGLEVEL): a number
/// 0-7 or a syslog level name, lowercase only (`DEBUG`, `warn` and `8` are
/// refused, as iptables-legacy 1.8.9 does).
pub fn parse_level(s: &str) -> ExtResult<u8> {
    if let Some(n) = number(s, 0, 7) {
        return Ok(n as u8);
    }
    LEVELS
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, l)| *l)
        .ok_or_else(|| ExtError::new(format!("log level \"{s}\" unknown")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::facts::L4Facts;
    use crate::ext::matches::testutil::facts;

    fn udp() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p.extend_from_slice(&[0, 1, 0, 2, 0, 8, 0, 0]);
        p
    }

    #[test]
    fn log_uid_depends_on_a_socket_only_where_one_can_exist() {
        let p = udp();
        let l4 = L4Facts::Udp { sport: 1, dport: 2 };
        let log = Log {
            flags: UID,
            ..Log::default()
        };
        let mut fx = Effects {
            want_log: true,
            ..Effects::default()
        };
        // INPUT: early demux may have attached an established socket.
        let f = facts(&p, 0, 64, l4, 0);
        assert_eq!(log.run(&f, &mut fx), TargetResult::Unknown("LOG --log-uid"));
        // Forwarded: no socket, nothing to print, nothing unknown.
        let mut f = facts(&p, 0, 64, l4, 0);
        f.hook = Hook::Forward;
        f.out_iface = "eth1";
        assert_eq!(log.run(&f, &mut fx), TargetResult::Continue);
        // Locally generated: the sender's socket.
        f.hook = Hook::Postrouting;
        f.in_iface = "";
        f.pkttype = PACKET_OUTGOING;
        assert_eq!(log.run(&f, &mut fx), TargetResult::Unknown("LOG --log-uid"));
        // Without --log-uid nothing depends on sockets; every call wrote its line.
        assert_eq!(Log::default().run(&f, &mut fx), TargetResult::Continue);
        assert_eq!(fx.log.len(), 4);
        assert!(fx.log[1].starts_with("IN=eth0 OUT=eth1 MAC= SRC=10.0.0.1 DST=10.0.0.2 LEN=28 "));
        assert!(fx.log[3].starts_with("IN= OUT=eth1 SRC=10.0.0.1 "));
        // Nobody asked for the lines: none are built.
        let mut quiet = Effects::default();
        assert_eq!(Log::default().run(&f, &mut quiet), TargetResult::Continue);
        assert!(quiet.log.is_empty());
    }
}
