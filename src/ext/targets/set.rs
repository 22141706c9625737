//! `-j SET` (libxt_SET.c revision 3, xt_set.c): adds/deletes the packet's
//! address/port tuple to/from an ipset, or maps set data (mark, priority,
//! queue) onto the packet.
//!
//! Sets are runtime objects: iptables asks the kernel for the set's index
//! while parsing ("Set foo doesn't exist."), which cannot be known offline,
//! so any set name is accepted here. At replay (`set_target_v3`) the add and
//! delete go to the `--ipset` sets, errors ignored as the kernel ignores
//! them (the target always continues); `--map-set --map-mark` applies the
//! matching element's skbmark. Priority and queue mappings change nothing
//! netfilter looks at later, so they are not modelled. Kernel checks (`set_target_v3_checkentry`):
//! `--map-set` only in mangle, and `--map-prio`/`--map-queue` only from
//! OUTPUT, FORWARD and POSTROUTING.

use crate::ext::matches::set::ipset_pkt;
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::state::State;
use crate::ext::value::number;
use crate::ext::{CheckCtx, Effects, Facts, RuleCtx, TargetDef, TargetResult};
use crate::ipset::{Flags, SkbInfo};
use crate::ir::hook::{Hook, HookMask};
use std::fmt::Write;

/// IPSET_DIM_MAX.
const DIM_MAX: usize = 6;

/// A set reference: name and the src/dst direction of each dimension
/// (`true` = src).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetRef {
    pub name: String,
    pub dirs: Vec<bool>,
}

/// The set references are boxed: inline they would make this the largest
/// target by far, and every rule's target as large (`ir::RuleTarget`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    pub add: Option<Box<SetRef>>,
    pub del: Option<Box<SetRef>>,
    pub map: Option<Box<SetRef>>,
    /// `None` = UINT32_MAX (no timeout given).
    pub timeout: Option<u32>,
    pub exist: bool,
    pub map_mark: bool,
    pub map_prio: bool,
    pub map_queue: bool,
}

/// `parse_target`: NAME and a comma list of src/dst.
fn set_ref(call: &OptCall) -> ExtResult<SetRef> {
    let Some(flags) = call.extra.first() else {
        return Err(ExtError::new(format!("--{} requires two args.", call.key)).at(call.span));
    };
    let parts: Vec<&str> = flags.text.split(',').collect();
    if parts.len() > DIM_MAX {
        return Err(
            ExtError::new(format!("Can't be more src/dst options than {DIM_MAX}.")).at(flags.span),
        );
    }
    let mut dirs = Vec::new();
    for p in parts {
        match p {
            "src" => dirs.push(true),
            "dst" => dirs.push(false),
            _ => {
                return Err(ExtError::new(
                    "You must spefify (the comma separated list of) 'src' or 'dst'.",
                )
                .at(flags.span))
            }
        }
    }
    Ok(SetRef {
        name: call.arg().to_string(),
        dirs,
    })
}

/// `print_target`: ` add-set NAME src,dst`.
fn list_ref(out: &mut String, opt: &str, r: Option<&SetRef>) {
    if let Some(r) = r {
        let _ = write!(out, " {opt} {}", r.name);
        for (i, src) in r.dirs.iter().enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            out.push_str(if *src { "src" } else { "dst" });
        }
    }
}

fn fmt_ref(out: &mut String, opt: &str, r: Option<&SetRef>) {
    if let Some(r) = r {
        let dirs: Vec<&str> = r
            .dirs
            .iter()
            .map(|s| if *s { "src" } else { "dst" })
            .collect();
        let _ = write!(out, " --{opt} {} {}", r.name, dirs.join(","));
    }
}

impl TargetDef for Set {
    const NAME: &'static str = "SET";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::two("add-set").multi(),
        OptSpec::two("del-set").multi(),
        OptSpec::two("map-set").multi(),
        OptSpec::req("timeout"),
        OptSpec::flag("exist"),
        OptSpec::flag("map-mark"),
        OptSpec::flag("map-prio"),
        OptSpec::flag("map-queue"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let slot = match call.key {
            "add-set" => &mut self.add,
            "del-set" => &mut self.del,
            "map-set" => &mut self.map,
            "timeout" => {
                let t = number(call.arg(), 0, u64::from(u32::MAX) - 1).ok_or_else(|| {
                    call.err("Invalid value for option --timeout or out of range 0-4294967294")
                })?;
                self.timeout = Some(t as u32);
                return Ok(());
            }
            "exist" => {
                self.exist = true;
                return Ok(());
            }
            "map-mark" => {
                self.map_mark = true;
                return Ok(());
            }
            "map-prio" => {
                self.map_prio = true;
                return Ok(());
            }
            "map-queue" => {
                self.map_queue = true;
                return Ok(());
            }
            _ => return unreachable_option(call),
        };
        if slot.is_some() {
            return Err(
                ExtError::new(format!("--{} can be specified only once", call.key)).at(call.span),
            );
        }
        *slot = Some(Box::new(set_ref(call)?));
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.add.is_none() && self.del.is_none() && self.map.is_none() {
            return Err(ExtError::new(
                "You must specify either `--add-set' or `--del-set' or `--map-set'",
            ));
        }
        if self.add.is_none() {
            if self.exist {
                return Err(ExtError::new(
                    "Flag `--exist' can be used with `--add-set' only",
                ));
            }
            if self.timeout.is_some() {
                return Err(ExtError::new(
                    "Option `--timeout' can be used with `--add-set' only",
                ));
            }
        }
        if self.map.is_some() && !(self.map_mark || self.map_prio || self.map_queue) {
            return Err(ExtError::new(
                "You must specify flags `--map-mark' or '--map-prio` or `--map-queue'",
            ));
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        if self.map.is_none() {
            return Ok(());
        }
        if ctx.table != "mangle" {
            return Err(ExtError::new("--map-set only usable from mangle table"));
        }
        let allowed = HookMask::of(&[Hook::Output, Hook::Forward, Hook::Postrouting]);
        if (self.map_prio || self.map_queue) && !ctx.hooks.outside(allowed).is_empty() {
            return Err(ExtError::new(
                "mapping of prio or/and queue is allowed only from OUTPUT/FORWARD/POSTROUTING chains",
            ));
        }
        Ok(())
    }

    /// `set_target_print_v3`: exist and timeout come right after add-set.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        list_ref(out, "add-set", self.add.as_deref());
        if self.exist {
            out.push_str(" exist");
        }
        if let Some(t) = self.timeout {
            let _ = write!(out, " timeout {t}");
        }
        list_ref(out, "del-set", self.del.as_deref());
        list_ref(out, "map-set", self.map.as_deref());
        for (on, name) in [
            (self.map_mark, " map-mark"),
            (self.map_prio, " map-prio"),
            (self.map_queue, " map-queue"),
        ] {
            if on {
                out.push_str(name);
            }
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        fmt_ref(out, "add-set", self.add.as_deref());
        fmt_ref(out, "del-set", self.del.as_deref());
        if self.exist {
            out.push_str(" --exist");
        }
        if let Some(t) = self.timeout {
            let _ = write!(out, " --timeout {t}");
        }
        fmt_ref(out, "map-set", self.map.as_deref());
        for (on, name) in [
            (self.map_mark, " --map-mark"),
            (self.map_prio, " --map-prio"),
            (self.map_queue, " --map-queue"),
        ] {
            if on {
                out.push_str(name);
            }
        }
    }

    fn run_state(&self, facts: &Facts, fx: &mut Effects, st: &mut State) -> TargetResult {
        let Some(sets) = st.ipsets() else {
            return TargetResult::Unknown(Self::NAME);
        };
        let named = [&self.add, &self.del, &self.map];
        if named
            .into_iter()
            .flatten()
            .any(|r| sets.index_of(&r.name).is_some_and(|i| !sets.judged(i)))
        {
            return TargetResult::Unknown(Self::NAME);
        }
        let p = ipset_pkt(facts);
        // set_target_v3: a timeout is normalised to fit into jiffies.
        let timeout = self.timeout.map(|t| t.min(u32::MAX / 1000));
        if let Some(r) = &self.add {
            if let Some(i) = sets.index_of(&r.name) {
                sets.add(i, &p, &r.dirs, timeout, self.exist);
            }
        }
        if let Some(r) = &self.del {
            if let Some(i) = sets.index_of(&r.name) {
                sets.del(i, &p, &r.dirs);
            }
        }
        if let (Some(r), true) = (&self.map, self.map_mark) {
            let mut info = SkbInfo::default();
            let hit = sets
                .index_of(&r.name)
                .is_some_and(|i| sets.test_info(i, &p, &r.dirs, &Flags::default(), &mut info));
            if let (true, Some((mark, mask))) = (hit, info.mark) {
                fx.mark = Some((facts.mark & !mask) ^ mark);
            }
        }
        TargetResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn forms_and_checks() {
        let f = |t, c, r| fmt_rule(t, c, r);
        assert_eq!(
            f(
                "filter",
                "INPUT",
                "-j SET --del-set foo src --add-set foo dst --timeout 5 --exist"
            )
            .unwrap(),
            "-j SET --add-set foo dst --del-set foo src --exist --timeout 5"
        );
        assert!(f("filter", "INPUT", "-j SET --del-set foo dst --exist").is_err());
        assert!(f("filter", "INPUT", "-j SET --add-set foo SRC").is_err());
        assert!(f("filter", "INPUT", "-j SET --map-set foo src --map-mark").is_err());
        assert!(f("mangle", "INPUT", "-j SET --map-set foo src --map-mark").is_ok());
        assert!(f("mangle", "INPUT", "-j SET --map-set foo src --map-prio").is_err());
        assert!(f("filter", "INPUT", "-j SET").is_err());
    }
}
