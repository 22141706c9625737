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
    let mut out = String::new();
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
pub fn rule_spec(out: &mut String, r: &Rule) {
    let bang = |inv: bool| if inv { " !" } else { "" };
    if !r.src.is_any() || r.src_inv {
        let _ = write!(out, "{} -s {}", bang(r.src_inv), r.src);
    }
    if !r.dst.is_any() || r.dst_inv {
        let _ = write!(out, "{} -d {}", bang(r.dst_inv), r.dst);
    }
    if !r.in_iface.is_any() {
        let _ = write!(out, "{} -i {}", bang(r.in_inv), r.in_iface);
    }
    if !r.out_iface.is_any() {
        let _ = write!(out, "{} -o {}", bang(r.out_inv), r.out_iface);
    }
    if r.proto != 0 || r.proto_inv {
        let _ = write!(out, "{} -p ", bang(r.proto_inv));
        match super::proto::name(r.proto) {
            Some(n) => out.push_str(n),
            None => {
                let _ = write!(out, "{}", r.proto);
            }
        }
    }
    if r.frag {
        let _ = write!(out, "{} -f", bang(r.frag_inv));
    }
    let ctx = r.ctx();
    for m in &r.matches {
        let _ = write!(out, " -m {}", m.m.save_name());
        m.m.save(&ctx, out);
    }
    match &r.target {
        RuleTarget::None => {}
        RuleTarget::Verdict(v) => {
            let _ = write!(out, " -j {}", v.name());
        }
        RuleTarget::Jump(c) => {
            let _ = write!(out, " -j {c}");
        }
        RuleTarget::Goto(c) => {
            let _ = write!(out, " -g {c}");
        }
        RuleTarget::Ext(t) => {
            let _ = write!(out, " -j {}", t.save_name());
            t.save(&ctx, out);
        }
    }
}
