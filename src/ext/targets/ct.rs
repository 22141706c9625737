//! `-j CT` (libxt_CT.c revision 2, xt_CT.c): sets up the conntrack entry of a
//! packet before conntrack sees it: no tracking, a helper, event masks, a
//! zone, a timeout policy. Only in the raw table.
//!
//! Kernel checks (`xt_ct_tg_check`): `--notrack` skips everything else; a
//! helper or timeout needs `-p PROTO` without `!`, then the helper must exist
//! for that protocol. Timeout policies are runtime objects (`nfct timeout
//! add`), so they cannot be checked offline.

use super::scope::restrict;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::number;
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use crate::ir::hook::Hook;
use std::fmt::Write;

/// `ct_event_tbl`: names by IPCT_* bit.
const CT_EVENTS: &[&str] = &[
    "new",
    "related",
    "destroy",
    "reply",
    "assured",
    "protoinfo",
    "helper",
    "mark",
    "natseqinfo",
    "secmark",
];
/// `exp_event_tbl`: IPEXP_NEW only.
const EXP_EVENTS: &[&str] = &["new"];

/// Helpers built into the reference kernel: (name, protocol).
const HELPERS: &[(&str, u8)] = &[
    ("ftp", 6),
    ("tftp", 17),
    ("irc", 6),
    ("sip", 17),
    ("sip", 6),
    ("pptp", 6),
    ("RAS", 17),
    ("Q.931", 6),
    ("netbios-ns", 17),
    ("snmp", 17),
    ("snmp_trap", 17),
    ("sane", 6),
    ("amanda", 17),
];

/// Which directions a zone applies to (XT_CT_ZONE_DIR_ORIG/REPL bits).
pub const ZONE_ORIG: u8 = 1;
pub const ZONE_REPLY: u8 = 2;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ct {
    pub notrack: bool,
    pub helper: String,
    pub timeout: String,
    pub ct_events: u32,
    pub exp_events: u32,
    pub zone: u16,
    /// XT_CT_ZONE_MARK: the zone is taken from the packet mark.
    pub zone_mark: bool,
    /// ZONE_ORIG | ZONE_REPLY bits; none (or both) means both directions.
    pub zone_dir: u8,
}

impl TargetDef for Ct {
    const NAME: &'static str = "CT";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::flag("notrack"),
        OptSpec::req("helper"),
        OptSpec::req("timeout"),
        OptSpec::req("zone"),
        OptSpec::req("zone-orig"),
        OptSpec::req("zone-reply"),
        OptSpec::req("ctevents"),
        OptSpec::req("expevents"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let arg = call.arg();
        match call.key {
            "notrack" => self.notrack = true,
            // XTTYPE_STRING into char[16]: longer names are cut.
            "helper" => self.helper = truncate(arg, 15),
            "timeout" => self.timeout = truncate(arg, 31),
            "zone" | "zone-orig" | "zone-reply" => {
                if arg.eq_ignore_ascii_case("mark") {
                    self.zone_mark = true;
                } else {
                    self.zone = number(arg, 0, 65535)
                        .ok_or_else(|| call.err(format!("Cannot parse {arg} as a zone ID")))?
                        as u16;
                }
                self.zone_dir |= match call.key {
                    "zone-orig" => ZONE_ORIG,
                    "zone-reply" => ZONE_REPLY,
                    _ => 0,
                };
            }
            "ctevents" => {
                self.ct_events = events(arg, CT_EVENTS).map_err(|e| e.at(call.arg_span()))?
            }
            "expevents" => {
                self.exp_events = events(arg, EXP_EVENTS).map_err(|e| e.at(call.arg_span()))?
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        restrict(ctx, "CT", Some("raw"), &[Hook::Prerouting, Hook::Output])?;
        if self.notrack {
            return Ok(());
        }
        if !self.helper.is_empty() || !self.timeout.is_empty() {
            let Some(proto) = ctx.rule.proto() else {
                return Err(ExtError::new(
                    "xt_CT: You must specify a L4 protocol and not use inversions on it",
                )
                .help("a CT helper or timeout needs `-p tcp`, `-p udp`, ... (without `!`)"));
            };
            if !self.helper.is_empty() && !HELPERS.contains(&(self.helper.as_str(), proto)) {
                let known: Vec<String> = HELPERS
                    .iter()
                    .filter(|(_, p)| *p == proto)
                    .map(|(n, _)| n.to_string())
                    .collect();
                return Err(
                    ExtError::new(format!("xt_CT: No such helper \"{}\"", self.helper)).help(
                        format!(
                            "kernel helpers for this protocol: {} (names are case-sensitive; \
                         user-space helpers need `nfct helper add` first)",
                            known.join(", ")
                        ),
                    ),
                );
            }
        }
        Ok(())
    }

    /// `xt_ct_target`: attaches the template (helper) or marks the packet
    /// untracked; zones and timeout policies are not modelled.
    fn run(&self, _f: &Facts, fx: &mut Effects) -> TargetResult {
        if self.notrack {
            fx.notrack = true;
            return TargetResult::Continue;
        }
        if self.zone != 0 || self.zone_mark {
            return TargetResult::Unknown("CT --zone");
        }
        if !self.timeout.is_empty() {
            return TargetResult::Unknown("CT --timeout");
        }
        if !self.helper.is_empty() {
            fx.helper = Some(match self.helper.as_str() {
                "ftp" => "ftp",
                "tftp" => "tftp",
                _ => return TargetResult::Unknown("CT --helper"),
            });
        }
        TargetResult::Continue
    }

    /// `ct_print_v1` (revision 2): the options in the order notrack, helper,
    /// timeout, events, zone, without dashes.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" CT");
        if self.notrack {
            out.push_str(" notrack");
        }
        if !self.helper.is_empty() {
            let _ = write!(out, " helper {}", self.helper);
        }
        if !self.timeout.is_empty() {
            let _ = write!(out, " timeout {}", self.timeout);
        }
        let mut ev = String::new();
        fmt_events(&mut ev, "ctevents", self.ct_events, CT_EVENTS);
        fmt_events(&mut ev, "expevents", self.exp_events, EXP_EVENTS);
        out.push_str(&ev.replace(" --", " "));
        let dir = match self.zone_dir {
            ZONE_ORIG => "-orig",
            ZONE_REPLY => "-reply",
            _ => "",
        };
        if self.zone_mark {
            let _ = write!(out, " zone{dir} mark");
        } else if self.zone != 0 {
            let _ = write!(out, " zone{dir} {}", self.zone);
        }
    }

    /// `ct_save_v1` (revision 2): notrack, helper, timeout, events, zone. Checked
    /// against iptables-legacy-save 1.8.9 with a timeout policy made by `nfct
    /// timeout add`: `-j CT --helper ftp --timeout test --ctevents new,related
    /// --expevents new --zone-orig 5`.
    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if self.notrack {
            out.push_str(" --notrack");
        }
        if !self.helper.is_empty() {
            let _ = write!(out, " --helper {}", self.helper);
        }
        if !self.timeout.is_empty() {
            let _ = write!(out, " --timeout {}", self.timeout);
        }
        fmt_events(out, "ctevents", self.ct_events, CT_EVENTS);
        fmt_events(out, "expevents", self.exp_events, EXP_EVENTS);
        let dir = match self.zone_dir {
            ZONE_ORIG => "-orig",
            ZONE_REPLY => "-reply",
            _ => "",
        };
        if self.zone_mark {
            let _ = write!(out, " --zone{dir} mark");
        } else if self.zone != 0 {
            let _ = write!(out, " --zone{dir} {}", self.zone);
        }
    }
}

/// Cuts `s` to at most `max` bytes, as `strncpy` into a fixed buffer.
pub fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("").to_string()
}

/// `ct_parse_events`: comma-separated, case-sensitive names.
fn events(s: &str, table: &[&str]) -> ExtResult<u32> {
    let mut mask = 0u32;
    for name in s.split(',') {
        let bit = table
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| ExtError::new(format!("Unknown event type \"{name}\"")))?;
        mask |= 1 << bit;
    }
    Ok(mask)
}

fn fmt_events(out: &mut String, opt: &str, mask: u32, table: &[&str]) {
    if mask == 0 {
        return;
    }
    let names: Vec<&str> = table
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    let _ = write!(out, " --{opt} {}", names.join(","));
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn zones_and_events() {
        let f = |r| fmt_rule("raw", "PREROUTING", r);
        assert_eq!(
            f("-j CT --zone 5 --zone-orig 6").unwrap(),
            "-j CT --zone-orig 6"
        );
        assert_eq!(
            f("-j CT --zone-orig 5 --zone-reply 6").unwrap(),
            "-j CT --zone 6"
        );
        assert_eq!(f("-j CT --zone 0").unwrap(), "-j CT");
        assert_eq!(f("-j CT --zone MARK").unwrap(), "-j CT --zone mark");
        assert_eq!(
            f("-j CT --notrack --zone 3 --ctevents new,new,related --expevents new").unwrap(),
            "-j CT --notrack --ctevents new,related --expevents new --zone 3"
        );
        assert!(f("-j CT --ctevents NEW").is_err());
        assert!(f("-j CT --zone 65536").is_err());
    }

    #[test]
    fn timeout_saves_after_the_helper_as_iptables_save_does() {
        // iptables-legacy-save 1.8.9's line for this rule, loaded with the options in
        // another order (the timeout policy made by `nfct timeout add test inet tcp ...`).
        let f = |r| fmt_rule("raw", "PREROUTING", r);
        assert_eq!(
            f("-p tcp -j CT --timeout test --helper ftp --zone-orig 5 --ctevents new,related --expevents new")
                .unwrap(),
            "-p tcp -j CT --helper ftp --timeout test --ctevents new,related --expevents new --zone-orig 5"
        );
        assert_eq!(
            f("-p tcp -j CT --notrack --timeout test").unwrap(),
            "-p tcp -j CT --notrack --timeout test"
        );
    }

    #[test]
    fn helpers_need_a_protocol() {
        let f = |r| fmt_rule("raw", "PREROUTING", r);
        assert!(f("-p tcp -j CT --helper ftp").is_ok());
        assert!(f("-j CT --notrack --helper ftp").is_ok());
        assert!(f("-j CT --helper ftp").is_err());
        assert!(f("-p udp -j CT --helper ftp").is_err());
        assert!(f("-j CT --timeout t").is_err());
        assert!(fmt_rule("mangle", "PREROUTING", "-j CT").is_err());
    }
}
