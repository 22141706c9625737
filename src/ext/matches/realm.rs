//! `-m realm [!] --realm VALUE[/MASK]` (libipt_realm.c, xt_realm.c): the
//! routing realm of the packet's route. The kernel allows it at INPUT,
//! FORWARD, OUTPUT and POSTROUTING (`.hooks`), where a route exists. Not
//! judged offline: realms come from the host's routing table.
//!
//! Also home of `xtables_parse_val_mask`/`xtables_print_val_mask` with the
//! iproute2 name maps (`xtables_lmap`), shared with `-m devgroup`.

use super::tcp::{bang, unreachable_option};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{strtoul_prefix, xt_mandatory};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::{Hook, HookMask};
use std::fmt::Write;

/// /etc/iproute2/rt_realms of the reference machine (iproute2's default:
/// only `0 cosmos` is not commented out). Embedded so output does not
/// depend on the machine, like `ext::netdb`.
pub const RT_REALMS: &[(u32, &str)] = &[(0, "cosmos")];
/// /etc/iproute2/group of the reference machine.
pub const DEV_GROUPS: &[(u32, &str)] = &[(0, "default")];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Realm {
    pub id: u32,
    pub mask: u32,
    pub invert: bool,
    given: bool,
}

impl MatchDef for Realm {
    const NAME: &'static str = "realm";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("realm").inv()];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        if call.key != "realm" {
            return unreachable_option(call);
        }
        (self.id, self.mask) = parse_val_mask(call, "realm", RT_REALMS)?;
        self.invert = call.invert;
        self.given = true;
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.given {
            Ok(())
        } else {
            Err(xt_mandatory("realm", "realm"))
        }
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        let allowed = HookMask::of(&[Hook::Input, Hook::Forward, Hook::Output, Hook::Postrouting]);
        let bad = ctx.hooks.outside(allowed);
        if !bad.is_empty() {
            return Err(ExtError::new(format!(
                "the realm match is not valid in {}",
                bad.names()
            ))
            .help("xt_realm allows only INPUT, FORWARD, OUTPUT and POSTROUTING: the realm comes from the route"));
        }
        Ok(())
    }

    /// `realm_print` (numeric: no realm names).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(" realm");
        print_val_mask(out, self.id, self.mask, &[]);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(bang(self.invert));
        out.push_str(" --realm");
        print_val_mask(out, self.id, self.mask, RT_REALMS);
    }
}

/// `xtables_parse_val_mask`: `value[/mask]` (base-0 numbers, mask defaults
/// to all ones) or a name from `lmap`.
pub fn parse_val_mask(call: &OptCall, ext: &str, lmap: &[(u32, &str)]) -> ExtResult<(u32, u32)> {
    let s = call.arg();
    let opt = call.key;
    let by_name = || {
        lmap.iter()
            .find(|(_, n)| *n == s)
            .map(|(id, _)| (*id, u32::MAX))
            .ok_or_else(|| {
                call.err(format!(
                    "{ext}: could not map name {s} to an integer value for option \"--{opt}\"."
                ))
            })
    };
    let bad = || {
        call.err(format!(
            "{ext}: bad integer value for option \"--{opt}\", or out of range."
        ))
    };
    let Some((v, rest)) = strtoul_prefix(s, u64::MAX).filter(|(v, _)| *v <= u64::from(u32::MAX))
    else {
        return by_name();
    };
    if rest.is_empty() {
        return Ok((v as u32, u32::MAX));
    }
    let Some(m) = rest.strip_prefix('/') else {
        return by_name();
    };
    match strtoul_prefix(m, u64::MAX) {
        Some((mask, "")) if mask <= u64::from(u32::MAX) => Ok((v as u32, mask as u32)),
        Some((mask, _)) if mask <= u64::from(u32::MAX) => Err(call.err(format!(
            "{ext}: trailing garbage after value for option \"--{opt}\"."
        ))),
        _ => Err(bad()),
    }
}

/// `xtables_print_val_mask`: `0xV/0xM`, or the name of V, or `0xV`.
pub fn print_val_mask(out: &mut String, val: u32, mask: u32, lmap: &[(u32, &str)]) {
    if mask != u32::MAX {
        let _ = write!(out, " 0x{val:x}/0x{mask:x}");
    } else if let Some((_, name)) = lmap.iter().find(|(id, _)| *id == val) {
        let _ = write!(out, " {name}");
    } else {
        let _ = write!(out, " 0x{val:x}");
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{roundtrip, roundtrip_in};

    #[test]
    fn values_names_masks() {
        assert_eq!(
            roundtrip("-m realm ! --realm 42").unwrap(),
            "-m realm ! --realm 0x2a"
        );
        assert_eq!(
            roundtrip("-m realm --realm cosmos").unwrap(),
            "-m realm --realm cosmos"
        );
        assert_eq!(
            roundtrip("-m realm --realm 1/0x2a").unwrap(),
            "-m realm --realm 0x1/0x2a"
        );
        assert!(roundtrip("-m realm --realm 1/2x").is_err());
        assert!(roundtrip("-m realm --realm nope").is_err());
        assert!(roundtrip_in("mangle", "PREROUTING", "-m realm --realm 1").is_err());
    }
}
