//! Where the kernel lets a target run: the `.table`, `.hooks` and `.proto`
//! fields of a `struct xt_target`, checked by `xt_check_target` (x_tables.c)
//! when a table is loaded, plus the `-p` tests many `checkentry` functions make.
//!
//! Messages follow the kernel's log lines (`"DNAT target: only valid in nat
//! table, not mangle"`), which is the only explanation the kernel gives:
//! `iptables-restore` itself only says `line N failed`.

use crate::ext::spec::{ExtError, ExtResult};
use crate::ext::CheckCtx;
use crate::ir::hook::{Hook, HookMask};

/// `xt_check_target`'s table and hook tests, in its order (table first).
/// `table: None` and `hooks: &[]` mean "no restriction".
pub fn restrict(ctx: &CheckCtx, name: &str, table: Option<&str>, hooks: &[Hook]) -> ExtResult {
    if let Some(t) = table {
        if ctx.table != t {
            return Err(ExtError::new(format!(
                "{name} target: only valid in {t} table, not {}",
                ctx.table
            ))
            .help(format!(
                "the kernel only accepts -j {name} in the {t} table"
            )));
        }
    }
    if !hooks.is_empty() {
        let allowed = HookMask::of(hooks);
        let bad = ctx.hooks.outside(allowed);
        if !bad.is_empty() {
            // The kernel names the whole hook mask, not only the bad hooks.
            return Err(ExtError::new(format!(
                "{name} target: used from hooks {}, but only usable from {}",
                ctx.hooks.names(),
                allowed.names()
            ))
            .help(format!(
                "a chain holding -j {name} may only be reached from {}",
                allowed.names()
            )));
        }
    }
    Ok(())
}

/// The kernel's `.proto` (and the equivalent tests in `checkentry`): the rule
/// must say `-p NAME` without `!`.
pub fn need_proto(ctx: &CheckCtx, name: &str, protos: &[(u8, &str)]) -> ExtResult {
    if protos.iter().any(|(p, _)| ctx.rule.proto() == Some(*p)) {
        return Ok(());
    }
    let list: Vec<String> = protos.iter().map(|(_, n)| format!("-p {n}")).collect();
    let list = list.join(" or ");
    // One protocol is the `.proto` test of xt_check_target and its message.
    let message = match protos {
        [(p, _)] => format!("{name} target: only valid for protocol {p}"),
        _ => format!("{name} target: only valid with {list}"),
    };
    Err(ExtError::new(message).help(format!(
        "add {list} (without `!`); the kernel refuses the rule otherwise"
    )))
}

pub const TCP: (u8, &str) = (6, "tcp");
pub const UDP: (u8, &str) = (17, "udp");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::RuleCtx;

    fn ctx(table: &'static str, hooks: &[Hook], proto: u8) -> CheckCtx<'static> {
        CheckCtx {
            table,
            hooks: HookMask::of(hooks),
            rule: RuleCtx {
                proto,
                proto_inv: false,
            },
        }
    }

    #[test]
    fn table_then_hooks() {
        let dnat = [Hook::Prerouting, Hook::Output];
        let c = ctx("mangle", &[Hook::Postrouting], 0);
        let e = restrict(&c, "DNAT", Some("nat"), &dnat).unwrap_err();
        assert_eq!(
            e.message,
            "DNAT target: only valid in nat table, not mangle"
        );
        let c = ctx("nat", &[Hook::Postrouting, Hook::Output], 0);
        let e = restrict(&c, "DNAT", Some("nat"), &dnat).unwrap_err();
        assert_eq!(
            e.message,
            "DNAT target: used from hooks OUTPUT/POSTROUTING, but only usable from PREROUTING/OUTPUT"
        );
        // A chain no built-in chain reaches has no hooks: the kernel accepts it.
        assert!(restrict(&ctx("nat", &[], 0), "DNAT", Some("nat"), &dnat).is_ok());
    }

    #[test]
    fn proto_needs_no_inversion() {
        assert!(need_proto(&ctx("mangle", &[], 6), "X", &[TCP]).is_ok());
        let mut c = ctx("mangle", &[], 6);
        c.rule.proto_inv = true;
        assert!(need_proto(&c, "X", &[TCP, UDP]).is_err());
    }
}
