//! `-j NFQUEUE` (libxt_NFQUEUE.c revision 3, xt_NFQUEUE.c): hands the packet
//! to a userspace queue; the verdict comes from there (terminal).
//!
//! `--queue-balance A:B` is an `XTTYPE_UINT16RC` range (`:B`, `A:`, `:` fill
//! in 0 and 65535) that must have two values with A < B; it is stored as
//! first queue + count, a u16, so `0:65535` wraps to 0 queues and the kernel
//! refuses it ("number of total queues is 0").

use super::excl::{self, Excl};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{strtoul_prefix, uint_opt};
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;

const EXCL: &[Excl] = &[
    Excl {
        name: "queue-num",
        id: 0,
        excludes: &[1],
    },
    Excl {
        name: "queue-balance",
        id: 1,
        excludes: &[0],
    },
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfqueue {
    pub queue: u16,
    /// `queues_total` (u16 as in the kernel structure).
    pub total: u16,
    pub bypass: bool,
    pub cpu_fanout: bool,
    seen: Vec<&'static str>,
}

impl Default for Nfqueue {
    fn default() -> Nfqueue {
        Nfqueue {
            queue: 0,
            total: 1,
            bypass: false,
            cpu_fanout: false,
            seen: Vec::new(),
        }
    }
}

/// `xtopt_parse_mint` for a two-element u16 range.
fn u16_range(arg: &str, opt: &str) -> ExtResult<Vec<u16>> {
    let mut vals = Vec::new();
    let mut rest = arg;
    loop {
        if vals.len() == 2 {
            return Err(ExtError::new(format!(
                "NFQUEUE: Too many elements in array near \"{rest}\""
            )));
        }
        let (v, end) = if rest.is_empty() || rest.starts_with(':') {
            (if vals.len() == 1 { 65535 } else { 0 }, rest)
        } else {
            let (v, end) = strtoul_prefix(rest, 65535).ok_or_else(|| {
                ExtError::new(format!(
                    "NFQUEUE: bad value for option \"--{opt}\" near \"{rest}\", or out of range (0-65535)."
                ))
            })?;
            if !end.is_empty() && !end.starts_with(':') {
                return Err(ExtError::new(format!(
                    "NFQUEUE: Argument to \"--{opt}\" has unexpected characters near \"{end}\"."
                )));
            }
            (v as u16, end)
        };
        vals.push(v);
        match end.strip_prefix(':') {
            Some(r) => rest = r,
            None => return Ok(vals),
        }
    }
}

impl TargetDef for Nfqueue {
    const NAME: &'static str = "NFQUEUE";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("queue-num"),
        OptSpec::req("queue-balance"),
        OptSpec::flag("queue-bypass"),
        OptSpec::flag("queue-cpu-fanout"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "queue-num" => {
                self.queue = uint_opt(call.arg(), "NFQUEUE", "queue-num", 0, 65535)
                    .map_err(|e| e.at(call.arg_span()))? as u16;
            }
            "queue-balance" => {
                let v = u16_range(call.arg(), call.key).map_err(|e| e.at(call.arg_span()))?;
                let [lo, hi] = v[..] else {
                    return Err(call.err(format!("Bad range \"{}\"", call.arg())));
                };
                if lo >= hi {
                    return Err(call.err(format!("{lo} should be less than {hi}")));
                }
                self.queue = lo;
                self.total = (hi - lo).wrapping_add(1);
            }
            "queue-bypass" => self.bypass = true,
            "queue-cpu-fanout" => self.cpu_fanout = true,
            _ => unreachable_option(call)?,
        }
        self.seen.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let seen = std::mem::take(&mut self.seen);
        excl::check("NFQUEUE", EXCL, &seen)?;
        if self.cpu_fanout && !seen.contains(&"queue-balance") {
            return Err(ExtError::new(
                "NFQUEUE: option \"--queue-cpu-fanout\" also requires \"--queue-balance\".",
            ));
        }
        Ok(())
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        // nfqueue_tg_check.
        if self.total == 0 {
            return Err(ExtError::new("xt_NFQUEUE: number of total queues is 0")
                .help("--queue-balance 0:65535 is 65536 queues, which wraps to 0"));
        }
        Ok(())
    }

    /// `NFQUEUE_print_v3`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.total > 1 {
            let last = u32::from(self.queue) + u32::from(self.total) - 1;
            let _ = write!(out, " NFQUEUE balance {}:{last}", self.queue);
        } else {
            let _ = write!(out, " NFQUEUE num {}", self.queue);
        }
        if self.bypass {
            out.push_str(" bypass");
        }
        if self.cpu_fanout {
            out.push_str(" cpu-fanout");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.total > 1 {
            let last = u32::from(self.queue) + u32::from(self.total) - 1;
            let _ = write!(out, " --queue-balance {}:{last}", self.queue);
        } else {
            let _ = write!(out, " --queue-num {}", self.queue);
        }
        if self.bypass {
            out.push_str(" --queue-bypass");
        }
        if self.cpu_fanout {
            out.push_str(" --queue-cpu-fanout");
        }
    }

    fn terminal(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn balance_ranges() {
        let f = |r| fmt_rule("filter", "INPUT", r);
        assert_eq!(f("-j NFQUEUE").unwrap(), "-j NFQUEUE --queue-num 0");
        assert_eq!(
            f("-j NFQUEUE --queue-balance :4").unwrap(),
            "-j NFQUEUE --queue-balance 0:4"
        );
        assert_eq!(
            f("-j NFQUEUE --queue-bypass --queue-balance 0:6 --queue-cpu-fanout").unwrap(),
            "-j NFQUEUE --queue-balance 0:6 --queue-bypass --queue-cpu-fanout"
        );
        assert_eq!(
            f("-j NFQUEUE --queue-balance 4").unwrap_err(),
            "Bad range \"4\""
        );
        assert_eq!(
            f("-j NFQUEUE --queue-balance 4:4").unwrap_err(),
            "4 should be less than 4"
        );
        assert!(f("-j NFQUEUE --queue-balance 0:65535").is_err());
        assert!(f("-j NFQUEUE --queue-cpu-fanout").is_err());
    }
}
