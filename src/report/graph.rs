//! The chain graph as Graphviz DOT: one cluster per table, chains as nodes
//! (built-in chains show their policy), jumps (`-j`) as solid edges and gotos
//! (`-g`) as dashed ones, labelled with how many rules make that jump. With
//! counters (`graph --counters-from-replay`), each edge also carries the
//! packets its rules sent along it, and its width grows with them.

use crate::ir::{RuleTarget, Ruleset};
use std::collections::BTreeMap;
use std::fmt::Write;

/// DOT text for the ruleset. Output is deterministic: tables in ruleset
/// order, chains in table order, edges sorted.
pub fn dot(rs: &Ruleset) -> String {
    dot_with(rs, false)
}

/// As [`dot`]; with `packets`, edges show the rules' packet counters (a
/// replay's) as labels and line widths.
pub fn dot_with(rs: &Ruleset, packets: bool) -> String {
    let mut out = String::from(
        "digraph iptables {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for t in &rs.tables {
        let _ = writeln!(
            out,
            "  subgraph \"cluster_{}\" {{\n    label=\"{}\";",
            t.name(),
            t.name()
        );
        for c in &t.chains {
            let id = node_id(t.name(), &c.name);
            let rules = c.rules.len();
            let label = match c.policy {
                Some(p) => format!(
                    "{}\\n{} rule(s), policy {}",
                    escape(&c.name),
                    rules,
                    p.name()
                ),
                None => format!("{}\\n{} rule(s)", escape(&c.name), rules),
            };
            let style = if c.is_builtin() { ", style=bold" } else { "" };
            let _ = writeln!(out, "    {id} [label=\"{label}\"{style}];");
        }
        // (from, to, goto) → (rules, packets)
        let mut edges: BTreeMap<(usize, usize, bool), (usize, u64)> = BTreeMap::new();
        for (ci, c) in t.chains.iter().enumerate() {
            for r in &c.rules {
                let (name, goto) = match &r.target {
                    RuleTarget::Jump(n) => (n, false),
                    RuleTarget::Goto(n) => (n, true),
                    _ => continue,
                };
                if let Some(ti) = t.chain_index(name) {
                    let e = edges.entry((ci, ti, goto)).or_default();
                    e.0 += 1;
                    e.1 += r.counters.packets;
                }
            }
        }
        for ((from, to, goto), (n, pkts)) in edges {
            let label = edge_attrs(n, goto, packets.then_some(pkts));
            let _ = writeln!(
                out,
                "    {} -> {}{label};",
                node_id(t.name(), &t.chains[from].name),
                node_id(t.name(), &t.chains[to].name)
            );
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

/// ` [label=..., style=dashed, penwidth=...]`, or nothing for a plain jump
/// made by one rule.
fn edge_attrs(rules: usize, goto: bool, packets: Option<u64>) -> String {
    let mut attrs = Vec::new();
    match packets {
        Some(p) => {
            let rules = if rules > 1 {
                format!("{rules} rules\\n")
            } else {
                String::new()
            };
            attrs.push(format!("label=\"{rules}{p} pkts\""));
            // 1 at no packets, +1 per factor of ten.
            let width = 1 + p.checked_ilog10().unwrap_or(0) + u32::from(p > 0);
            attrs.push(format!("penwidth={width}"));
        }
        None if rules > 1 => attrs.push(format!("label=\"{rules}\"")),
        None => {}
    }
    if goto {
        attrs.push("style=dashed".to_string());
    }
    if attrs.is_empty() {
        String::new()
    } else {
        format!(" [{}]", attrs.join(", "))
    }
}

fn node_id(table: &str, chain: &str) -> String {
    format!("\"{}/{}\"", table, escape(chain))
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_and_gotos_become_edges() {
        let f = crate::source::SourceFile::new(
            "t",
            "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:a - [0:0]\n:b - [0:0]\n-A INPUT -j a\n-A INPUT -p tcp -j a\n-A INPUT -g b\nCOMMIT\n",
        );
        let rs = crate::ir::load(&f).ruleset;
        let d = dot(&rs);
        assert!(
            d.contains("\"filter/INPUT\" -> \"filter/a\" [label=\"2\"];"),
            "{d}"
        );
        assert!(
            d.contains("\"filter/INPUT\" -> \"filter/b\" [style=dashed];"),
            "{d}"
        );
        assert!(d.contains("policy DROP"));
    }

    #[test]
    fn replay_counters_weigh_the_edges() {
        let f = crate::source::SourceFile::new(
            "t",
            "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:a - [0:0]\n:b - [0:0]\n[120:9000] -A INPUT -j a\n[3:180] -A INPUT -p tcp -j a\n[0:0] -A INPUT -g b\nCOMMIT\n",
        );
        let rs = crate::ir::load(&f).ruleset;
        let d = dot_with(&rs, true);
        assert!(
            d.contains(
                "\"filter/INPUT\" -> \"filter/a\" [label=\"2 rules\\n123 pkts\", penwidth=4];"
            ),
            "{d}"
        );
        assert!(
            d.contains(
                "\"filter/INPUT\" -> \"filter/b\" [label=\"0 pkts\", penwidth=1, style=dashed];"
            ),
            "{d}"
        );
        assert_eq!(dot(&rs), dot_with(&rs, false));
    }
}
