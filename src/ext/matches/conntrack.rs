//! `-m conntrack` (libxt_conntrack.c revision 3, the one 1.8.9 loads on a
//! current kernel; kernel xt_conntrack.c `conntrack_mt`).
//!
//! Each option is `Option<Inv<T>>`: absent, or the value with its `!` bit, as
//! the kernel's `match_flags`/`invert_flags`. Addresses keep the address and
//! mask exactly as given (iptables does not AND them; the kernel compares
//! both sides under the mask). Port ranges are host order, `(low, high)`;
//! rev 3 does not check `low <= high`, nor does the kernel.

use super::tcp::unreachable_option;
use crate::ext::facts::{CtFacts, Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{fmt_addr_mask, inet_aton, mint, mport, uint};
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

/// `XT_CONNTRACK_STATE_*` bits (xt_conntrack.h): INVALID is bit 0, then
/// `1 << (ctinfo + 1)`, then SNAT, DNAT and UNTRACKED above IP_CT_NUMBER.
pub const ST_INVALID: u16 = 1 << 0;
pub const ST_ESTABLISHED: u16 = 1 << 1;
pub const ST_RELATED: u16 = 1 << 2;
pub const ST_NEW: u16 = 1 << 3;
pub const ST_SNAT: u16 = 1 << 6;
pub const ST_DNAT: u16 = 1 << 7;
pub const ST_UNTRACKED: u16 = 1 << 8;

impl Conntrack {
    fn matches_ct(&self, ct: &CtFacts) -> bool {
        let no_entry =
            ct.state == 0 || ct.state & (super::state::INVALID | super::state::UNTRACKED) != 0;
        if let Some(st) = self.state {
            let mut bits = from_state_bits(ct.state);
            if !no_entry && ct.snat {
                bits |= ST_SNAT;
            }
            if !no_entry && ct.dnat {
                bits |= ST_DNAT;
            }
            if (st.value & bits != 0) == st.invert {
                return false;
            }
        }
        if no_entry {
            return self.state.is_some();
        }
        if let Some(dir) = self.dir {
            if (dir == Dir::Reply) != ct.reply {
                return false;
            }
        }
        let holds = |opt: Option<Inv<AddrMask>>, ip: u32| {
            opt.is_none_or(|a| a.value.contains(ip) != a.invert)
        };
        let in_range = |opt: Option<Inv<(u16, u16)>>, port: u16| {
            opt.is_none_or(|p| (p.value.0 <= port && port <= p.value.1) != p.invert)
        };
        let (osrc, odst, osp, odp) = ct.orig;
        let (rsrc, rdst, rsp, rdp) = ct.repl;
        holds(self.origsrc, osrc)
            && holds(self.origdst, odst)
            && holds(self.replsrc, rsrc)
            && holds(self.repldst, rdst)
            && self.proto.is_none_or(|p| (ct.proto == p.value) != p.invert)
            && in_range(self.origsrc_port, osp)
            && in_range(self.origdst_port, odp)
            && in_range(self.replsrc_port, rsp)
            && in_range(self.repldst_port, rdp)
            && self
                .status
                .is_none_or(|s| ((u32::from(s.value) & ct.status) != 0) != s.invert)
            && self
                .expires
                .is_none_or(|e| (e.value.0 <= ct.expires && ct.expires <= e.value.1) != e.invert)
    }
}

/// Converts `-m state` bits (xt_state.h) to conntrack's: the four ctinfo
/// states share their bits, UNTRACKED moves from bit 6 to bit 8.
pub fn from_state_bits(state: u8) -> u16 {
    let low = u16::from(state) & 0x0f;
    if state & super::state::UNTRACKED != 0 {
        low | ST_UNTRACKED
    } else {
        low
    }
}

/// State names in parse order (`conntrack_ps_state` tries them in this
/// order with a prefix compare).
const STATE_PARSE: &[(&str, u16)] = &[
    ("INVALID", ST_INVALID),
    ("NEW", ST_NEW),
    ("ESTABLISHED", ST_ESTABLISHED),
    ("RELATED", ST_RELATED),
    ("UNTRACKED", ST_UNTRACKED),
    ("SNAT", ST_SNAT),
    ("DNAT", ST_DNAT),
];
/// Print order (`print_state`).
const STATE_PRINT: &[(&str, u16)] = &[
    ("INVALID", ST_INVALID),
    ("NEW", ST_NEW),
    ("RELATED", ST_RELATED),
    ("ESTABLISHED", ST_ESTABLISHED),
    ("UNTRACKED", ST_UNTRACKED),
    ("SNAT", ST_SNAT),
    ("DNAT", ST_DNAT),
];

/// `IPS_*` status bits (nf_conntrack_common.h).
pub const IPS_EXPECTED: u16 = 1 << 0;
pub const IPS_SEEN_REPLY: u16 = 1 << 1;
pub const IPS_ASSURED: u16 = 1 << 2;
pub const IPS_CONFIRMED: u16 = 1 << 3;
const STATUS_NAMES: &[(&str, u16)] = &[
    ("NONE", 0),
    ("EXPECTED", IPS_EXPECTED),
    ("SEEN_REPLY", IPS_SEEN_REPLY),
    ("ASSURED", IPS_ASSURED),
    ("CONFIRMED", IPS_CONFIRMED),
];

/// A value and whether the option was negated with `!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inv<T> {
    pub value: T,
    pub invert: bool,
}

/// An address as `--ctorigsrc` holds it: not pre-masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrMask {
    pub addr: u32,
    pub mask: u32,
}

impl AddrMask {
    pub fn contains(self, ip: u32) -> bool {
        (ip ^ self.addr) & self.mask == 0
    }
}

/// Packet direction relative to the connection (`--ctdir`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Original,
    Reply,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conntrack {
    pub state: Option<Inv<u16>>,
    pub proto: Option<Inv<u8>>,
    pub origsrc: Option<Inv<AddrMask>>,
    pub origdst: Option<Inv<AddrMask>>,
    pub replsrc: Option<Inv<AddrMask>>,
    pub repldst: Option<Inv<AddrMask>>,
    pub origsrc_port: Option<Inv<(u16, u16)>>,
    pub origdst_port: Option<Inv<(u16, u16)>>,
    pub replsrc_port: Option<Inv<(u16, u16)>>,
    pub repldst_port: Option<Inv<(u16, u16)>>,
    pub status: Option<Inv<u16>>,
    /// Remaining lifetime in seconds, inclusive range.
    pub expires: Option<Inv<(u32, u32)>>,
    pub dir: Option<Dir>,
}

impl MatchDef for Conntrack {
    const NAME: &'static str = "conntrack";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("ctstate").inv(),
        OptSpec::req("ctproto").inv(),
        OptSpec::req("ctorigsrc").inv(),
        OptSpec::req("ctorigdst").inv(),
        OptSpec::req("ctreplsrc").inv(),
        OptSpec::req("ctrepldst").inv(),
        OptSpec::req("ctstatus").inv(),
        OptSpec::req("ctexpire").inv(),
        OptSpec::req("ctorigsrcport").inv(),
        OptSpec::req("ctorigdstport").inv(),
        OptSpec::req("ctreplsrcport").inv(),
        OptSpec::req("ctrepldstport").inv(),
        OptSpec::req("ctdir"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let arg = call.arg();
        let at = |e: ExtError| e.at(call.arg_span());
        let i = call.invert;
        match call.key {
            "ctstate" => self.state = inv(parse_list(arg, STATE_PARSE, "ctstate").map_err(at)?, i),
            "ctstatus" => {
                self.status = inv(parse_list(arg, STATUS_NAMES, "ctstatus").map_err(at)?, i)
            }
            "ctproto" => {
                let p = crate::ir::proto::parse(arg).ok_or_else(|| {
                    at(ExtError::new(format!(
                        "unknown protocol \"{arg}\" specified"
                    )))
                })?;
                // 1.8.9 tests `! --ctproto 0` before it records the `!`, so
                // both `--ctproto 0` and `! --ctproto 0` load.
                self.proto = Some(Inv {
                    value: p,
                    invert: call.invert,
                });
            }
            "ctorigsrc" => self.origsrc = inv(host_mask(arg, call.key).map_err(at)?, i),
            "ctorigdst" => self.origdst = inv(host_mask(arg, call.key).map_err(at)?, i),
            "ctreplsrc" => self.replsrc = inv(host_mask(arg, call.key).map_err(at)?, i),
            "ctrepldst" => self.repldst = inv(host_mask(arg, call.key).map_err(at)?, i),
            "ctorigsrcport" => {
                self.origsrc_port = inv(mport(arg, "conntrack", call.key).map_err(at)?, i)
            }
            "ctorigdstport" => {
                self.origdst_port = inv(mport(arg, "conntrack", call.key).map_err(at)?, i)
            }
            "ctreplsrcport" => {
                self.replsrc_port = inv(mport(arg, "conntrack", call.key).map_err(at)?, i)
            }
            "ctrepldstport" => {
                self.repldst_port = inv(mport(arg, "conntrack", call.key).map_err(at)?, i)
            }
            "ctexpire" => {
                let v = mint(arg, u64::from(u32::MAX), 2, "conntrack", "ctexpire").map_err(at)?;
                let lo = v.first().copied().unwrap_or(0) as u32;
                let hi = v.get(1).map_or(lo, |h| *h as u32);
                self.expires = inv((lo, hi), i);
            }
            "ctdir" => {
                self.dir = Some(if arg.eq_ignore_ascii_case("ORIGINAL") {
                    Dir::Original
                } else if arg.eq_ignore_ascii_case("REPLY") {
                    Dir::Reply
                } else {
                    return Err(call.err(format!(
                        "conntrack: Bad value for \"--ctdir\" option: \"{arg}\""
                    )));
                })
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if *self == Conntrack::default() {
            return Err(ExtError::new("conntrack: At least one option is required"));
        }
        Ok(())
    }

    /// `conntrack_mt` (xt_conntrack.c, rev 3): each given option must hold
    /// XOR its `!`. Without a conntrack entry (INVALID, UNTRACKED) only
    /// `--ctstate` can match. `--ctstatus NONE` tests an empty mask and so
    /// never matches unless negated, as in the kernel.
    fn eval(&self, f: &Facts) -> MatchResult {
        MatchResult::from_bool(self.matches_ct(&f.ct))
    }

    /// `conntrack_dump(.., "--", NFPROTO_IPV4, numeric, v3)`.
    /// `conntrack_dump` with the `""` prefix of `conntrack3_mt_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        self.dump(out, "");
    }

    /// `conntrack_dump` with the `--` prefix of `conntrack3_mt_save`.
    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        self.dump(out, "--");
    }
}

impl Conntrack {
    /// Save and list print the same words; only the option prefix differs.
    fn dump(&self, out: &mut String, pfx: &str) {
        if let Some(s) = self.state {
            open(out, s.invert, pfx, "ctstate");
            fmt_bits(out, s.value, STATE_PRINT);
        }
        if let Some(p) = self.proto {
            open(out, p.invert, pfx, "ctproto");
            let _ = write!(out, " {}", p.value);
        }
        for (name, a) in [
            ("ctorigsrc", self.origsrc),
            ("ctorigdst", self.origdst),
            ("ctreplsrc", self.replsrc),
            ("ctrepldst", self.repldst),
        ] {
            if let Some(a) = a {
                open(out, a.invert, pfx, name);
                out.push(' ');
                fmt_addr_mask(out, a.value.addr, a.value.mask);
            }
        }
        for (name, p) in [
            ("ctorigsrcport", self.origsrc_port),
            ("ctorigdstport", self.origdst_port),
            ("ctreplsrcport", self.replsrc_port),
            ("ctrepldstport", self.repldst_port),
        ] {
            if let Some(Inv {
                value: (lo, hi),
                invert,
            }) = p
            {
                open(out, invert, pfx, name);
                // conntrack_dump_ports: a zero high end prints the low one only.
                if hi == 0 || lo == hi {
                    let _ = write!(out, " {lo}");
                } else {
                    let _ = write!(out, " {lo}:{hi}");
                }
            }
        }
        if let Some(s) = self.status {
            open(out, s.invert, pfx, "ctstatus");
            if s.value == 0 {
                out.push_str(" NONE");
            } else {
                fmt_bits(out, s.value, &STATUS_NAMES[1..]);
            }
        }
        if let Some(Inv {
            value: (lo, hi),
            invert,
        }) = self.expires
        {
            open(out, invert, pfx, "ctexpire");
            if lo == hi {
                let _ = write!(out, " {lo}");
            } else {
                let _ = write!(out, " {lo}:{hi}");
            }
        }
        match self.dir {
            Some(Dir::Original) => {
                let _ = write!(out, " {pfx}ctdir ORIGINAL");
            }
            Some(Dir::Reply) => {
                let _ = write!(out, " {pfx}ctdir REPLY");
            }
            None => {}
        }
    }
}

fn inv<T>(value: T, invert: bool) -> Option<Inv<T>> {
    Some(Inv { value, invert })
}

fn open(out: &mut String, invert: bool, pfx: &str, name: &str) {
    if invert {
        out.push_str(" !");
    }
    let _ = write!(out, " {pfx}{name}");
}

fn fmt_bits(out: &mut String, mask: u16, names: &[(&str, u16)]) {
    let mut sep = ' ';
    for (name, bit) in names {
        if mask & bit != 0 {
            out.push(sep);
            out.push_str(name);
            sep = ',';
        }
    }
}

/// `conntrack_ps_states` / `conntrack_ps_statuses`: comma list; each word is
/// compared case-insensitively as a prefix of the names, first hit wins.
fn parse_list(s: &str, names: &[(&str, u16)], what: &str) -> ExtResult<u16> {
    let mut mask = 0;
    let mut rest = s;
    loop {
        let (word, next) = match rest.split_once(',') {
            Some((w, n)) => (w, Some(n)),
            None => (rest, None),
        };
        let hit = (!word.is_empty())
            .then(|| {
                names.iter().find(|(n, _)| {
                    n.get(..word.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(word))
                })
            })
            .flatten();
        let Some((_, bit)) = hit else {
            return Err(ExtError::new(format!("Bad {what} \"{rest}\"")));
        };
        mask |= bit;
        match next {
            Some(n) => rest = n,
            None => return Ok(mask),
        }
    }
}

/// XTTYPE_HOSTMASK (`xtopt_parse_hostmask`): a host as getaddrinfo reads it
/// (inet_aton numbers, `localhost`; iptwalk asks no DNS) and an optional
/// `/prefix` (base 0, ≤ 32) or `/mask`; a mask that is not contiguous
/// becomes /32, as the prefix computation overflows in 1.8.9.
pub fn host_mask(s: &str, opt: &str) -> ExtResult<AddrMask> {
    let (host, plen) = match s.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let addr = inet_aton(host)
        .or_else(|| (host == "localhost").then_some(0x7f00_0001))
        .ok_or_else(|| ExtError::new("getaddrinfo: Name or service not known"))?;
    let mask = match plen {
        None => u32::MAX,
        Some(p) => {
            let len = match uint(p, 0, 32) {
                Some(len) => len as u32,
                None => {
                    let m = inet_aton(p).ok_or_else(|| {
                        ExtError::new(format!(
                            "conntrack: bad value for option \"--{opt}\", neither a valid network mask nor valid CIDR (0-32)."
                        ))
                    })?;
                    let ones = m.leading_ones();
                    if m.checked_shl(ones).unwrap_or(0) == 0 {
                        ones
                    } else {
                        32
                    }
                }
            };
            u32::MAX.checked_shl(32 - len).unwrap_or(0)
        }
    };
    Ok(AddrMask { addr, mask })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_take_prefixes_and_print_in_kernel_order() {
        let m = parse_list("n,e,rel", STATE_PARSE, "ctstate").unwrap();
        let mut s = String::new();
        fmt_bits(&mut s, m, STATE_PRINT);
        assert_eq!(s, " NEW,RELATED,ESTABLISHED");
        assert_eq!(
            parse_list("NEW,", STATE_PARSE, "ctstate")
                .unwrap_err()
                .message,
            "Bad ctstate \"\""
        );
        assert_eq!(
            parse_list("none,assured", STATUS_NAMES, "ctstatus"),
            Ok(IPS_ASSURED)
        );
    }

    #[test]
    fn host_masks_as_1_8_9() {
        let a = host_mask("10/8", "ctorigsrc").unwrap();
        let mut s = String::new();
        fmt_addr_mask(&mut s, a.addr, a.mask);
        assert_eq!(s, "0.0.0.10/8");
        assert_eq!(
            host_mask("1.1.1.1/255.0.255.0", "x").unwrap().mask,
            u32::MAX
        );
        assert_eq!(host_mask("1.1.1.1/0x10", "x").unwrap().mask, 0xffff_0000);
        assert_eq!(host_mask("1.1.1.1/0", "x").unwrap().mask, 0);
        assert!(host_mask("1.1.1.1/foo", "x").is_err());
    }

    #[test]
    fn eval_like_conntrack_mt() {
        let ct = CtFacts {
            state: crate::ext::matches::state::ESTABLISHED,
            reply: true,
            status: u32::from(IPS_ASSURED),
            orig: (0x0a00_0001, 0x0a00_0002, 40000, 22),
            repl: (0x0a00_0002, 0x0a00_0001, 22, 40000),
            proto: 6,
            expires: 100,
            ..Default::default()
        };
        let mut m = Conntrack {
            state: inv(ST_ESTABLISHED | ST_RELATED, false),
            dir: Some(Dir::Reply),
            origdst_port: inv((22, 22), false),
            status: inv(IPS_ASSURED, false),
            expires: inv((50, 200), false),
            ..Default::default()
        };
        assert!(m.matches_ct(&ct));
        m.dir = Some(Dir::Original);
        assert!(!m.matches_ct(&ct));
        let none = Conntrack {
            status: inv(0, false),
            ..Default::default()
        };
        assert!(!none.matches_ct(&ct));
        let invalid = CtFacts {
            state: crate::ext::matches::state::INVALID,
            ..ct
        };
        let only_status = Conntrack {
            status: inv(IPS_ASSURED, true),
            ..Default::default()
        };
        assert!(!only_status.matches_ct(&invalid));
        let not_new = Conntrack {
            state: inv(ST_NEW, true),
            ..Default::default()
        };
        assert!(not_new.matches_ct(&invalid));
    }

    #[test]
    fn port_high_zero_prints_low() {
        let m = Conntrack {
            origsrc_port: Some(Inv {
                value: (5, 0),
                invert: false,
            }),
            ..Default::default()
        };
        let mut s = String::new();
        m.save(&RuleCtx::default(), &mut s);
        assert_eq!(s, " --ctorigsrcport 5");
    }
}
