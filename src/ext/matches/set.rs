//! `-m set` (libxt_set.c revision 4, xt_set.c): membership of the packet's
//! addresses/ports in an ipset, optionally testing the element's counters.
//!
//! iptables resolves the set name to an index through the kernel when it
//! parses the rule ("Set NAME doesn't exist."); a file cannot show which
//! sets the live system has, so any name is accepted here. At replay the
//! sets come from `--ipset FILE` (the CLI refuses rules naming a set the
//! file lacks); without it the rule is flagged `depends_on: ["set"]`
//! instead of judged. Judging is `set_match_v4`: `ip_set_test` under the
//! rule's src/dst flags and cmdflags, inverted by `!`.
//! The parser is the old getopt style: every option may carry `!` and the
//! extension itself refuses the ones that cannot be inverted.

use super::tcp::unreachable_option;
use crate::ext::facts::L4Facts;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::state::{jiffies, State};
use crate::ext::value::strtoul;
use crate::ext::{Facts, MatchDef, MatchResult, RuleCtx};
use crate::ipset;
use std::fmt::Write;

/// IPSET_DIM_MAX: at most six src/dst flags.
pub const DIM_MAX: usize = 6;
/// IPSET_MAXNAMELEN - 1.
pub const MAX_NAME: usize = 31;

/// `IPSET_COUNTER_*` comparisons of `struct ip_set_counter_match`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CounterOp {
    #[default]
    None,
    Eq,
    Ne,
    Lt,
    Gt,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    pub name: String,
    /// One entry per dimension: true = `src`, false = `dst`.
    pub dirs: Vec<bool>,
    /// IPSET_INV_MATCH.
    pub invert: bool,
    /// IPSET_FLAG_RETURN_NOMATCH.
    pub return_nomatch: bool,
    /// `! --update-counters` (IPSET_FLAG_SKIP_COUNTER_UPDATE).
    pub skip_counter_update: bool,
    /// `! --update-subcounters` (IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE).
    pub skip_subcounter_update: bool,
    pub packets: (CounterOp, u64),
    pub bytes: (CounterOp, u64),
}

impl MatchDef for Set {
    const NAME: &'static str = "set";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::two("match-set").inv().multi(),
        OptSpec::two("set").inv().multi(),
        OptSpec::flag("return-nomatch").inv().multi(),
        OptSpec::flag("update-counters").inv().multi(),
        OptSpec::req("packets-eq").inv().multi(),
        OptSpec::req("packets-lt").inv().multi(),
        OptSpec::req("packets-gt").inv().multi(),
        OptSpec::req("bytes-eq").inv().multi(),
        OptSpec::req("bytes-lt").inv().multi(),
        OptSpec::req("bytes-gt").inv().multi(),
        OptSpec::flag("update-subcounters").inv().multi(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "match-set" | "set" => self.parse_match_set(call)?,
            "return-nomatch" => {
                if call.invert {
                    return Err(
                        ExtError::new("--return-nomatch flag cannot be inverted").at(call.span)
                    );
                }
                self.return_nomatch = true;
            }
            "update-counters" => self.skip_counter_update |= call.invert,
            "update-subcounters" => self.skip_subcounter_update |= call.invert,
            key => {
                let (what, op) = key.split_once('-').unwrap_or((key, ""));
                let slot = if what == "packets" {
                    &mut self.packets
                } else {
                    &mut self.bytes
                };
                if slot.0 != CounterOp::None {
                    return Err(ExtError::new(format!(
                        "only one of the --{what}-[eq|lt|gt] is allowed"
                    ))
                    .at(call.span));
                }
                let op = match (op, call.invert) {
                    ("eq", false) => CounterOp::Eq,
                    ("eq", true) => CounterOp::Ne,
                    ("lt", false) => CounterOp::Lt,
                    ("gt", false) => CounterOp::Gt,
                    (_, true) => {
                        return Err(ExtError::new(format!("--{key} option cannot be inverted"))
                            .at(call.span))
                    }
                    _ => return unreachable_option(call),
                };
                let value = strtoul(call.arg(), 0, u64::MAX).ok_or_else(|| {
                    call.err(format!("Cannot parse {} as a counter value", call.arg()))
                })?;
                *slot = (op, value);
            }
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.dirs.is_empty() {
            return Err(ExtError::new(
                "You must specify `--match-set' with proper arguments",
            ));
        }
        Ok(())
    }

    /// `set_print_v4_matchinfo(info, "match-set", "")`: save's words
    /// without dashes.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        self.dump(out, "");
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        self.dump(out, "--");
    }

    fn eval_state(&self, facts: &Facts, st: &mut State) -> MatchResult {
        let Some(sets) = st.ipsets() else {
            return MatchResult::Unknown(Self::NAME);
        };
        let Some(idx) = sets.index_of(&self.name).filter(|i| sets.judged(*i)) else {
            return MatchResult::Unknown(Self::NAME);
        };
        let flags = ipset::Flags {
            return_nomatch: self.return_nomatch,
            skip_counter_update: self.skip_counter_update,
            skip_subcounter_update: self.skip_subcounter_update,
            packets: counter_op(self.packets),
            bytes: counter_op(self.bytes),
        };
        let hit = sets.test(idx, &ipset_pkt(facts), &self.dirs, &flags);
        MatchResult::from_bool(hit != self.invert)
    }
}

impl Set {
    /// `set_print_v4_matchinfo`: save (`--`) and print (``) differ only in
    /// the option prefix.
    fn dump(&self, out: &mut String, pfx: &str) {
        let bang = if self.invert { " !" } else { "" };
        let _ = write!(out, "{bang} {pfx}match-set {} ", self.name);
        let dirs: Vec<&str> = self
            .dirs
            .iter()
            .map(|s| if *s { "src" } else { "dst" })
            .collect();
        out.push_str(&dirs.join(","));
        if self.return_nomatch {
            let _ = write!(out, " {pfx}return-nomatch");
        }
        if self.skip_counter_update {
            let _ = write!(out, " ! {pfx}update-counters");
        }
        if self.skip_subcounter_update {
            let _ = write!(out, " ! {pfx}update-subcounters");
        }
        save_counter(out, pfx, "packets", self.packets);
        save_counter(out, pfx, "bytes", self.bytes);
    }
}

fn counter_op((op, v): (CounterOp, u64)) -> Option<ipset::CounterOp> {
    match op {
        CounterOp::None => None,
        CounterOp::Eq => Some(ipset::CounterOp::Eq(v)),
        CounterOp::Ne => Some(ipset::CounterOp::Ne(v)),
        CounterOp::Lt => Some(ipset::CounterOp::Lt(v)),
        CounterOp::Gt => Some(ipset::CounterOp::Gt(v)),
    }
}

/// The packet as ipset's `kadt` functions read it. Ports follow
/// `ip_set_get_ip4_port` (ip_set_getport.c): TCP, UDP, SCTP and UDP-Lite
/// ports, ICMP `type << 8 | code`; other protocols have port 0; a later
/// fragment of a protocol with ports, or a header cut short, has none.
pub fn ipset_pkt(f: &Facts) -> ipset::Pkt {
    let with_ports = matches!(f.proto, 1 | 6 | 17 | 132 | 136);
    let ports = match f.l4 {
        _ if f.proto == 0 => None,
        _ if f.frag_off != 0 => (!with_ports).then_some((0, 0)),
        L4Facts::Tcp { sport, dport, .. } if f.proto == 6 => Some((sport, dport)),
        L4Facts::Udp { sport, dport } if f.proto == 17 => Some((sport, dport)),
        L4Facts::Ports { sport, dport } if matches!(f.proto, 132 | 136) => Some((sport, dport)),
        L4Facts::Icmp { kind, code } if f.proto == 1 => {
            let v = u16::from(kind) << 8 | u16::from(code);
            Some((v, v))
        }
        _ if with_ports => None,
        _ => Some((0, 0)),
    };
    ipset::Pkt {
        src: f.src,
        dst: f.dst,
        proto: f.proto,
        ports,
        len: f.len,
        now: jiffies(f.now_ns),
    }
}

impl Set {
    /// `--match-set NAME FLAGS` (case '1' of `set_parse_v4`).
    fn parse_match_set(&mut self, call: &OptCall) -> ExtResult {
        if !self.dirs.is_empty() {
            return Err(ExtError::new("--match-set can be specified only once").at(call.span));
        }
        let Some(flags) = call.extra.first() else {
            return Err(ExtError::new("--match-set requires two args.").at(call.span));
        };
        let name = call.arg();
        if name.len() > MAX_NAME {
            return Err(call.err(format!(
                "setname `{name}' too long, max {MAX_NAME} characters."
            )));
        }
        self.invert = call.invert;
        self.name = name.to_string();
        self.dirs = parse_dirs(&flags.text).map_err(|e| e.at(flags.span))?;
        Ok(())
    }
}

/// `parse_dirs`: up to six comma-separated words starting `src` or `dst`.
pub fn parse_dirs(s: &str) -> ExtResult<Vec<bool>> {
    let parts: Vec<&str> = s.split(',').collect();
    let mut dirs = Vec::new();
    for p in parts.iter().take(DIM_MAX) {
        if p.starts_with("src") {
            dirs.push(true);
        } else if p.starts_with("dst") {
            dirs.push(false);
        } else {
            return Err(ExtError::new(
                "You must spefify (the comma separated list of) 'src' or 'dst'.",
            ));
        }
    }
    if parts.len() > DIM_MAX {
        return Err(ExtError::new(format!(
            "Can't be more src/dst options than {DIM_MAX}."
        )));
    }
    Ok(dirs)
}

/// `set_printv4_counter`.
fn save_counter(out: &mut String, pfx: &str, name: &str, (op, value): (CounterOp, u64)) {
    let (bang, suffix) = match op {
        CounterOp::None => return,
        CounterOp::Eq => ("", "eq"),
        CounterOp::Ne => (" !", "eq"),
        CounterOp::Lt => ("", "lt"),
        CounterOp::Gt => ("", "gt"),
    };
    let _ = write!(out, "{bang} {pfx}{name}-{suffix} {value}");
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{facts, first_match, roundtrip};
    use super::*;
    use crate::ext::state::{MatchKey, NoConns, Store};

    #[test]
    fn flags_and_counters() {
        assert_eq!(
            roundtrip("-m set ! --match-set foo src,dstx ! --packets-eq 3 --bytes-gt 0x10 ! --update-counters --return-nomatch").unwrap(),
            "-m set ! --match-set foo src,dst --return-nomatch ! --update-counters ! --packets-eq 3 --bytes-gt 16"
        );
        assert_eq!(
            roundtrip("-m set --set bar dst").unwrap(),
            "-m set --match-set bar dst"
        );
        assert!(roundtrip("-m set --match-set foo").is_err());
        assert!(roundtrip("-m set --match-set foo src --match-set foo dst").is_err());
        assert!(roundtrip("-m set --match-set foo src,src,src,src,src,src,src").is_err());
        assert!(roundtrip("-m set --match-set foo sr").is_err());
        assert!(roundtrip("-m set --match-set foo src ! --packets-lt 2").is_err());
        assert!(roundtrip("-m set --match-set foo src --bytes-lt 1 --bytes-eq 2").is_err());
        assert!(roundtrip("-m set").is_err());
    }

    #[test]
    fn packet_ports_as_ipset_reads_them() {
        let tcp = L4Facts::Tcp {
            sport: 1,
            dport: 2,
            flags: 2,
            seq: 0,
            ack: 0,
            window: 0,
            options: &[],
            header_len: 20,
        };
        let mut f = facts(&[0; 40], 0, 64, tcp, 0);
        assert_eq!(ipset_pkt(&f).ports, Some((1, 2)));
        f.frag_off = 10;
        assert_eq!(ipset_pkt(&f).ports, None);
        f.proto = 47;
        assert_eq!(ipset_pkt(&f).ports, Some((0, 0)));
        f.frag_off = 0;
        f.proto = 33; // DCCP: ipset reads no port
        f.l4 = L4Facts::Ports { sport: 5, dport: 6 };
        assert_eq!(ipset_pkt(&f).ports, Some((0, 0)));
        f.proto = 1;
        f.l4 = L4Facts::Icmp { kind: 3, code: 3 };
        assert_eq!(ipset_pkt(&f).ports, Some((0x0303, 0x0303)));
    }

    #[test]
    fn judged_with_sets_flagged_without() {
        let m = first_match("-m set ! --match-set s src");
        let f = facts(&[0; 40], 0, 64, L4Facts::None, 0);
        let key = MatchKey {
            table: 0,
            chain: 0,
            rule: 0,
            idx: 0,
        };
        let mut store = Store::default();
        let mut st = State::new(&mut store, key, &NoConns);
        assert_eq!(m.eval_state(&f, &mut st), MatchResult::Unknown("set"));
        store.ipsets = Some(crate::ipset::parse("create s hash:ip\nadd s 10.0.0.1\n").unwrap());
        let mut st = State::new(&mut store, key, &NoConns);
        assert_eq!(m.eval_state(&f, &mut st), MatchResult::No);
    }
}
