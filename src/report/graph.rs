//! The chain graph as Graphviz DOT: one cluster per table, chains as nodes
//! (built-in chains show their policy), jumps (`-j`) as solid edges and gotos
//! (`-g`) as dashed ones, labelled with how many rules make that jump.

use crate::ir::{RuleTarget, Ruleset};
use std::collections::BTreeMap;
use std::fmt::Write;

/// DOT text for the ruleset. Output is deterministic: tables in ruleset
/// order, chains in table order, edges sorted.
pub fn dot(rs: &Ruleset) -> String {
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
        let mut edges: BTreeMap<(usize, usize, bool), usize> = BTreeMap::new();
        for (ci, c) in t.chains.iter().enumerate() {
            for r in &c.rules {
                let (name, goto) = match &r.target {
                    RuleTarget::Jump(n) => (n, false),
                    RuleTarget::Goto(n) => (n, true),
                    _ => continue,
                };
                if let Some(ti) = t.chain_index(name) {
                    *edges.entry((ci, ti, goto)).or_default() += 1;
                }
            }
        }
        for ((from, to, goto), n) in edges {
            let style = if goto { ", style=dashed" } else { "" };
            let label = if n > 1 {
                format!(" [label=\"{n}\"{style}]")
            } else if goto {
                " [style=dashed]".to_string()
            } else {
                String::new()
            };
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
}
