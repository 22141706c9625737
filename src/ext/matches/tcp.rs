//! `-m tcp`: ports, flags and options of TCP segments (libxt_tcp.c, xt_tcpudp.c).
//!
//! Loaded implicitly by `-p tcp` when a tcp option appears. The kernel refuses
//! the match unless the rule says `-p tcp` without `!` (`tcp_mt_check` via
//! `.proto = IPPROTO_TCP` in xt_tcpudp.c).

use crate::ext::facts::{Facts, L4Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{fmt_port_range, number, port_range};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

/// TCP flag bits in the order iptables prints them (`tcp_flag_names`).
pub const FLAG_NAMES: &[(&str, u8)] = &[
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
    ("ALL", 0x3F),
    ("NONE", 0),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tcp {
    pub sport: (u16, u16),
    pub sport_inv: bool,
    pub dport: (u16, u16),
    pub dport_inv: bool,
    /// `--tcp-flags MASK COMP`: (mask, comp).
    pub flags: Option<(u8, u8)>,
    pub flags_inv: bool,
    /// `--tcp-option N`.
    pub option: Option<u8>,
    pub option_inv: bool,
}

impl Default for Tcp {
    fn default() -> Tcp {
        Tcp {
            sport: (0, u16::MAX),
            sport_inv: false,
            dport: (0, u16::MAX),
            dport_inv: false,
            flags: None,
            flags_inv: false,
            option: None,
            option_inv: false,
        }
    }
}

impl MatchDef for Tcp {
    const NAME: &'static str = "tcp";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("source-port").inv().alias("sport"),
        OptSpec::req("sport").inv(),
        OptSpec::req("destination-port").inv().alias("dport"),
        OptSpec::req("dport").inv(),
        OptSpec::flag("syn").inv(),
        OptSpec::two("tcp-flags").inv(),
        OptSpec::req("tcp-option").inv(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "sport" => {
                self.sport = port_range(call.arg(), "tcp").map_err(|e| e.at(call.arg_span()))?;
                self.sport_inv = call.invert;
            }
            "dport" => {
                self.dport = port_range(call.arg(), "tcp").map_err(|e| e.at(call.arg_span()))?;
                self.dport_inv = call.invert;
            }
            "syn" => {
                self.set_flags(call, 0x17, 0x02)?;
            }
            "tcp-flags" => {
                let mask = parse_flags(call.arg()).map_err(|e| e.at(call.arg_span()))?;
                let Some(comp) = call.extra.first() else {
                    return Err(ExtError::new("--tcp-flags requires two args.").at(call.span));
                };
                let comp = parse_flags(&comp.text).map_err(|e| e.at(comp.span))?;
                self.set_flags(call, mask, comp)?;
            }
            "tcp-option" => {
                let v = number(call.arg(), 1, 255)
                    .ok_or_else(|| call.err(format!("Bad TCP option \"{}\"", call.arg())))?;
                self.option = Some(v as u8);
                self.option_inv = call.invert;
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        require_proto(ctx, 6, "tcp")
    }

    /// `tcp_mt` in xt_tcpudp.c.
    fn eval(&self, f: &Facts) -> MatchResult {
        if let Some(r) = non_first_fragment(f) {
            return r;
        }
        let L4Facts::Tcp {
            sport,
            dport,
            flags,
            options,
            header_len,
            ..
        } = f.l4
        else {
            // "Dropping evil TCP offset=0 tinygram": the header is not there.
            return if f.l4_truncated {
                MatchResult::Hotdrop
            } else {
                MatchResult::No
            };
        };
        let ok = port_match(self.sport, sport, self.sport_inv)
            && port_match(self.dport, dport, self.dport_inv)
            && self
                .flags
                .is_none_or(|(mask, comp)| ((flags & mask) == comp) != self.flags_inv);
        if !ok {
            return MatchResult::No;
        }
        match self.option {
            None => MatchResult::Yes,
            Some(_) if header_len < 20 => MatchResult::Hotdrop,
            Some(kind) => MatchResult::from_bool(has_option(options, kind) != self.option_inv),
        }
    }

    /// `tcp_print`: ports, then the option, then the flags as hex (numeric).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" tcp");
        list_ports(out, "spt", self.sport, self.sport_inv);
        list_ports(out, "dpt", self.dport, self.dport_inv);
        if self.option.is_some() || self.option_inv {
            let inv = if self.option_inv { "!" } else { "" };
            let _ = write!(out, " option={inv}{}", self.option.unwrap_or(0));
        }
        if let Some((mask, comp)) = self.flags {
            if mask != 0 || self.flags_inv {
                let inv = if self.flags_inv { "!" } else { "" };
                let _ = write!(out, " flags:{inv}0x{mask:02X}/0x{comp:02X}");
            }
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        save_ports(out, "sport", self.sport, self.sport_inv);
        save_ports(out, "dport", self.dport, self.dport_inv);
        if let Some(opt) = self.option {
            let _ = write!(out, "{} --tcp-option {opt}", bang(self.option_inv));
        }
        if let Some((mask, comp)) = self.flags {
            let _ = write!(out, "{} --tcp-flags ", bang(self.flags_inv));
            fmt_flags(out, mask);
            out.push(' ');
            fmt_flags(out, comp);
        }
    }
}

impl Tcp {
    fn set_flags(&mut self, call: &OptCall, mask: u8, comp: u8) -> ExtResult {
        // --syn and --tcp-flags set the same field: libxt_tcp refuses both
        // ("Only one of `--syn' or `--tcp-flags' allowed").
        if self.flags.is_some() {
            return Err(
                ExtError::new("Only one of `--syn' or `--tcp-flags'  allowed").at(call.span),
            );
        }
        self.flags = Some((mask, comp));
        self.flags_inv = call.invert;
        Ok(())
    }
}

/// `port_match`: inside the range, or outside it when inverted.
pub fn port_match((lo, hi): (u16, u16), port: u16, inv: bool) -> bool {
    (lo <= port && port <= hi) != inv
}

/// Port matches never match later fragments; the kernel drops a TCP/UDP
/// fragment at offset 1 outright, as an attempt to overwrite the header.
pub fn non_first_fragment(f: &Facts) -> Option<MatchResult> {
    match f.frag_off {
        0 => None,
        1 if f.proto == 6 => Some(MatchResult::Hotdrop),
        _ => Some(MatchResult::No),
    }
}

/// `tcp_find_option`: walks the options (kinds 0 and 1 are one byte long).
fn has_option(options: &[u8], kind: u8) -> bool {
    let mut i = 0;
    while let Some(&k) = options.get(i) {
        if k == kind {
            return true;
        }
        if k < 2 {
            i += 1;
            continue;
        }
        match options.get(i + 1) {
            Some(&len) if len >= 2 => i += usize::from(len),
            _ => return false,
        }
    }
    false
}

/// `print_ports` in libxt_tcp.c/libxt_udp.c: ` spt:N`, ` spts:LO:HI`, with
/// `!` after the colon; nothing for the full range unless negated.
pub fn list_ports(out: &mut String, name: &str, (lo, hi): (u16, u16), inv: bool) {
    if (lo, hi) == (0, u16::MAX) && !inv {
        return;
    }
    let inv = if inv { "!" } else { "" };
    if lo == hi {
        let _ = write!(out, " {name}:{inv}{lo}");
    } else {
        let _ = write!(out, " {name}s:{inv}{lo}:{hi}");
    }
}

/// `--sport`/`--dport` as `tcp_save`/`udp_save` print them: omitted when the
/// range is the full one and not negated.
pub fn save_ports(out: &mut String, name: &str, range: (u16, u16), inv: bool) {
    // 1.8.9 tests only the range, so `! --sport :` (never matches) saves as
    // nothing at all.
    if range == (0, u16::MAX) {
        return;
    }
    let _ = write!(out, "{} --{name} ", bang(inv));
    fmt_port_range(out, range);
}

pub fn bang(inv: bool) -> &'static str {
    if inv {
        " !"
    } else {
        ""
    }
}

/// The kernel's `.proto` check: the rule must say `-p PROTO` without `!`.
pub fn require_proto(ctx: &CheckCtx, proto: u8, name: &str) -> ExtResult {
    if ctx.rule.proto() == Some(proto) {
        Ok(())
    } else {
        Err(
            // xt_check_match's log line for a `.proto` mismatch.
            ExtError::new(format!("{name} match: only valid for protocol {proto}")).help(format!(
                "add `-p {name}` before `-m {name}`; the kernel refuses the rule otherwise"
            )),
        )
    }
}

/// Comma-separated flag names (`parse_tcp_flag`), case-insensitive.
pub fn parse_flags(s: &str) -> ExtResult<u8> {
    let mut bits = 0;
    for name in s.split(',') {
        let (_, bit) = FLAG_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| ExtError::new(format!("Unknown TCP flag `{name}'")))?;
        bits |= bit;
    }
    Ok(bits)
}

/// `print_tcpf`: names of the set bits in FIN..URG order, `NONE` for none.
pub fn fmt_flags(out: &mut String, mut flags: u8) {
    if flags == 0 {
        out.push_str("NONE");
        return;
    }
    let mut first = true;
    while flags != 0 {
        let Some((name, bit)) = FLAG_NAMES.iter().find(|(_, b)| flags & b != 0) else {
            break;
        };
        if !first {
            out.push(',');
        }
        out.push_str(name);
        first = false;
        flags &= !bit;
    }
}

/// For `match call.key` arms that cannot happen: the command parser only hands
/// an extension keys from its own option table.
pub fn unreachable_option(call: &OptCall) -> ExtResult {
    Err(ExtError::new(format!("internal error: unexpected option --{}", call.name)).at(call.span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_print_in_kernel_order() {
        let mut s = String::new();
        fmt_flags(&mut s, parse_flags("ALL").unwrap());
        assert_eq!(s, "FIN,SYN,RST,PSH,ACK,URG");
        s.clear();
        fmt_flags(&mut s, parse_flags("syn,fin").unwrap());
        assert_eq!(s, "FIN,SYN");
    }

    #[test]
    fn full_range_is_not_saved() {
        let mut s = String::new();
        save_ports(&mut s, "sport", (0, 65535), false);
        assert_eq!(s, "");
        save_ports(&mut s, "sport", (0, 65535), true);
        assert_eq!(s, "");
        save_ports(&mut s, "sport", (1, 65535), true);
        assert_eq!(s, " ! --sport 1:65535");
    }
}
