//! `-j LOG` (libxt_LOG.c, xt_LOG.c): writes a kernel log line and continues.

use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::comment::save_string;
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::number;
use crate::ext::{RuleCtx, TargetDef, TargetResult};
use std::fmt::Write;

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

    /// Logging has no effect on the packet: XT_CONTINUE. (Replay can print
    /// the log line; the oracle's namespace logs nothing, see its README.)
    fn run(&self, f: &Facts, fx: &mut Effects) -> TargetResult {
        fx.log.push(format!(
            "{}IN={} OUT={} SRC={} DST={} LEN={} TTL={} PROTO={}",
            self.prefix,
            f.in_iface,
            f.out_iface,
            std::net::Ipv4Addr::from(f.src),
            std::net::Ipv4Addr::from(f.dst),
            f.len,
            f.ttl,
            f.proto
        ));
        TargetResult::Continue
    }

    /// `LOG_print` (numeric): flags and level as numbers, the prefix quoted
    /// but not escaped.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let _ = write!(out, " LOG flags {} level {}", self.flags, self.level);
        if !self.prefix.is_empty() {
            let _ = write!(out, " prefix \"{}\"", self.prefix);
        }
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
