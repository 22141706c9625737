//! The canonical printer: a ruleset as `iptables-save` (legacy, 1.8.9) prints
//! it after `iptables-restore`, minus the date comments.
//!
//! Rule layout follows `print_rule4` in iptables.c: `-A CHAIN`, then `-s`,
//! `-d`, `-i`, `-o`, `-p`, `-f`, then each match as `-m NAME` and its save
//! text, then `-j`/`-g` and the target's save text.

use super::rule::{Rule, RuleTarget};
use super::ruleset::{Chain, Ruleset, Table};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, Default)]
pub struct SaveOptions {
    /// `iptables-save -c`: `[p:b]` before each rule, and the policy counters.
    pub counters: bool,
}

pub fn save(rs: &Ruleset, opts: SaveOptions) -> String {
    // Room for the whole text up front (rules of real files print in well
    // under 128 bytes each): growing by doubling copies it all again.
    let size: usize = rs
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .map(|c| 64 + 128 * c.rules.len())
        .sum();
    let mut out = String::with_capacity(size + 64 * rs.tables.len());
    for t in &rs.tables {
        save_table(&mut out, t, opts);
    }
    out
}

pub fn save_table(out: &mut String, t: &Table, opts: SaveOptions) {
    let _ = writeln!(out, "*{}", t.name());
    for c in &t.chains {
        let policy = c.policy.map_or("-", |p| p.name());
        // Legacy iptables-save prints policy counters even without -c; after
        // a restore without --counters they are zero.
        let (p, b) = if opts.counters {
            (c.counters.packets, c.counters.bytes)
        } else {
            (0, 0)
        };
        let _ = writeln!(out, ":{} {} [{}:{}]", c.name, policy, p, b);
    }
    for c in &t.chains {
        save_chain_rules(out, c, opts);
    }
    out.push_str("COMMIT\n");
}

fn save_chain_rules(out: &mut String, c: &Chain, opts: SaveOptions) {
    for r in &c.rules {
        if opts.counters {
            let _ = write!(out, "[{}:{}] ", r.counters.packets, r.counters.bytes);
        }
        out.push_str("-A ");
        out.push_str(&c.name);
        rule_spec(out, r);
        out.push('\n');
    }
}

/// Everything after `-A CHAIN` (with a leading space), as iptables prints it.
/// Plain pushes rather than `write!`: this runs once per rule of every fmt.
pub fn rule_spec(out: &mut String, r: &Rule) {
    let opt = |out: &mut String, inv: bool, flag: &str| {
        if inv {
            out.push_str(" !");
        }
        out.push_str(flag);
    };
    if !r.src.is_any() || r.src_inv {
        opt(out, r.src_inv, " -s ");
        r.src.push_to(out);
    }
    if !r.dst.is_any() || r.dst_inv {
        opt(out, r.dst_inv, " -d ");
        r.dst.push_to(out);
    }
    if !r.in_iface.is_any() {
        opt(out, r.in_inv, " -i ");
        r.in_iface.push_to(out);
    }
    if !r.out_iface.is_any() {
        opt(out, r.out_inv, " -o ");
        r.out_iface.push_to(out);
    }
    if r.proto != 0 || r.proto_inv {
        opt(out, r.proto_inv, " -p ");
        match super::proto::name(r.proto) {
            Some(n) => out.push_str(n),
            None => super::addr::push_u8(out, r.proto),
        }
    }
    if r.frag {
        opt(out, r.frag_inv, " -f");
    }
    let ctx = r.ctx();
    for m in &r.matches {
        out.push_str(" -m ");
        out.push_str(m.m.save_name());
        m.m.save(&ctx, out);
    }
    let (flag, name) = match &r.target {
        RuleTarget::None => return,
        RuleTarget::Verdict(v) => (" -j ", v.name()),
        RuleTarget::Jump(c) => (" -j ", c.as_str()),
        RuleTarget::Goto(c) => (" -g ", c.as_str()),
        RuleTarget::Ext(t) => (" -j ", t.save_name()),
    };
    out.push_str(flag);
    out.push_str(name);
    if let RuleTarget::Ext(t) = &r.target {
        t.save(&ctx, out);
    }
}
