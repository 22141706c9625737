//! `-m owner` (libxt_owner.c rev 1, kernel xt_owner.c): the sending socket's
//! uid/gid ranges, whether a socket exists, and supplementary groups.
//!
//! Only locally generated packets have a socket: the kernel allows the match
//! in OUTPUT and POSTROUTING only (`.hooks` in xt_owner.c). User and group
//! names resolve through a built-in copy of Debian's base-passwd entries
//! (iptwalk reads no host database); other names are refused as iptables
//! refuses unknown ones.

use super::tcp::unreachable_option;
use crate::ext::facts::{Facts, MatchResult};
use crate::ext::matches::mac::check_hooks;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::uint_prefix;
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::hook::{Hook, HookMask};
use std::fmt::Write;

/// Debian base-passwd users (/usr/share/base-passwd/passwd.master).
const USERS: &[(&str, u32)] = &[
    ("root", 0),
    ("daemon", 1),
    ("bin", 2),
    ("sys", 3),
    ("sync", 4),
    ("games", 5),
    ("man", 6),
    ("lp", 7),
    ("mail", 8),
    ("news", 9),
    ("uucp", 10),
    ("proxy", 13),
    ("www-data", 33),
    ("backup", 34),
    ("list", 38),
    ("irc", 39),
    ("_apt", 42),
    ("nobody", 65534),
];
/// Debian base-passwd groups (/usr/share/base-passwd/group.master).
const GROUPS: &[(&str, u32)] = &[
    ("root", 0),
    ("daemon", 1),
    ("bin", 2),
    ("sys", 3),
    ("adm", 4),
    ("tty", 5),
    ("disk", 6),
    ("lp", 7),
    ("mail", 8),
    ("news", 9),
    ("uucp", 10),
    ("man", 12),
    ("proxy", 13),
    ("kmem", 15),
    ("dialout", 20),
    ("fax", 21),
    ("voice", 22),
    ("cdrom", 24),
    ("floppy", 25),
    ("tape", 26),
    ("sudo", 27),
    ("audio", 29),
    ("dip", 30),
    ("www-data", 33),
    ("backup", 34),
    ("operator", 37),
    ("list", 38),
    ("irc", 39),
    ("src", 40),
    ("shadow", 42),
    ("utmp", 43),
    ("video", 44),
    ("sasl", 45),
    ("plugdev", 46),
    ("staff", 50),
    ("games", 60),
    ("users", 100),
    ("nogroup", 65534),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub min: u32,
    pub max: u32,
    pub invert: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    pub uid: Option<IdRange>,
    pub gid: Option<IdRange>,
    /// `--socket-exists`: `Some(invert)`.
    pub socket_exists: Option<bool>,
    pub suppl_groups: bool,
}

impl MatchDef for Owner {
    const NAME: &'static str = "owner";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("uid-owner").inv(),
        OptSpec::req("gid-owner").inv(),
        OptSpec::flag("socket-exists").inv(),
        OptSpec::flag("suppl-groups"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "uid-owner" => self.uid = Some(parse_id(call, USERS)?),
            "gid-owner" => self.gid = Some(parse_id(call, GROUPS)?),
            "socket-exists" => self.socket_exists = Some(call.invert),
            "suppl-groups" => {
                if self.gid.is_none() {
                    return Err(ExtError::new("owner: Bad value for \"--suppl-groups\" option: \"you need to use --gid-owner first\"").at(call.span));
                }
                self.suppl_groups = true;
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if *self == Owner::default() {
            return Err(ExtError::new(
                "owner: At least one of --uid-owner, --gid-owner or --socket-exists is required",
            ));
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        check_hooks(
            ctx,
            HookMask::of(&[Hook::Output, Hook::Postrouting]),
            "owner",
        )
    }

    /// `owner_mt`: a forwarded packet (it has an input interface) has no
    /// socket, and then matches only if every given option is negated. The
    /// sockets of locally generated packets are not modelled: unknown.
    fn eval(&self, f: &Facts) -> MatchResult {
        if f.in_iface.is_empty() {
            return MatchResult::Unknown(Self::NAME);
        }
        let all_negated = self.uid.is_none_or(|r| r.invert)
            && self.gid.is_none_or(|r| r.invert)
            && self.socket_exists.is_none_or(|inv| inv)
            && !self.suppl_groups;
        MatchResult::from_bool(all_negated)
    }

    /// `owner_mt_print` (numeric): labelled items, `!` before the label.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(inv) = self.socket_exists {
            out.push_str(if inv { " !" } else { "" });
            out.push_str(" owner socket exists");
        }
        for (label, r) in [("owner UID match", self.uid), ("owner GID match", self.gid)] {
            if let Some(r) = r {
                let inv = if r.invert { " !" } else { "" };
                let _ = write!(out, "{inv} {label} {}", r.min);
                if r.min != r.max {
                    let _ = write!(out, "-{}", r.max);
                }
            }
        }
        if self.suppl_groups {
            out.push_str(" incl. suppl. groups");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(inv) = self.socket_exists {
            out.push_str(if inv {
                " ! --socket-exists"
            } else {
                " --socket-exists"
            });
        }
        for (name, r) in [("uid-owner", self.uid), ("gid-owner", self.gid)] {
            if let Some(r) = r {
                let _ = write!(
                    out,
                    "{} --{name} {}",
                    if r.invert { " !" } else { "" },
                    r.min
                );
                if r.min != r.max {
                    let _ = write!(out, "-{}", r.max);
                }
            }
        }
        if self.suppl_groups {
            out.push_str(" --suppl-groups");
        }
    }
}

/// A name, or `owner_parse_range`: `N`, `N-M` or `N:M`, each ≤ 2^32-2.
fn parse_id(call: &OptCall, names: &[(&str, u32)]) -> ExtResult<IdRange> {
    let s = call.arg();
    let bad = || {
        call.err(format!(
            "owner: Bad value for \"--{}\" option: \"{s}\"",
            call.key
        ))
    };
    let (min, max) = match names.iter().find(|(n, _)| *n == s) {
        Some((_, id)) => (*id, *id),
        None => {
            let max_id = u64::from(u32::MAX - 1);
            let (lo, rest) = uint_prefix(s, 0, max_id).ok_or_else(bad)?;
            let (hi, rest) = match rest.strip_prefix(['-', ':']) {
                Some(r) => uint_prefix(r, 0, max_id).ok_or_else(bad)?,
                None => (lo, rest),
            };
            if !rest.is_empty() {
                return Err(bad());
            }
            (lo as u32, hi as u32)
        }
    };
    Ok(IdRange {
        min,
        max,
        invert: call.invert,
    })
}

#[cfg(test)]
mod tests {
    use crate::ext::matches::roundtrip;

    #[test]
    fn names_ranges_and_hooks() {
        let out = |r| roundtrip("mangle", "OUTPUT", r);
        assert_eq!(
            out("-m owner --uid-owner root").unwrap(),
            "-m owner --uid-owner 0"
        );
        assert_eq!(
            out("-m owner --uid-owner 5:7").unwrap(),
            "-m owner --uid-owner 5-7"
        );
        assert_eq!(
            out("-m owner --gid-owner 0-10 --suppl-groups ! --socket-exists").unwrap(),
            "-m owner ! --socket-exists --gid-owner 0-10 --suppl-groups"
        );
        assert!(out("-m owner --uid-owner 4294967295").is_err());
        assert!(out("-m owner --suppl-groups --gid-owner 1").is_err());
        assert!(roundtrip("filter", "INPUT", "-m owner --uid-owner 0").is_err());
    }
}
