//! IPT201 shadowed-rule and IPT206 redundant-rule: rules that earlier rules
//! decide for, found exactly over the match sets of `lint::space`.

use super::util::{is_terminal, is_unconditional, line_of, rule_span, target_name};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::Rule;
use crate::lint::space::{bbox_disjoint, bbox_union, rule_set, BBox, Cube, Dim, TableView, DIMS};
use crate::lint::{Lint, LintInput, LintMeta};
use crate::source::Span;
use std::net::Ipv4Addr;

/// Fragments allowed while subtracting; beyond it the rule is left alone.
const LIMIT: usize = 4096;

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT201",
        name: "shadowed-rule",
        severity: Severity::Warning,
        summary: "earlier rules decide every packet this rule matches, with another verdict",
        docs: "\
What it does: for each rule, computes the exact set of packets it matches (addresses,
interfaces, protocol, ports, TCP flags, conntrack state, fragments, with negations) and
checks whether earlier rules of the same chain that end the walk (ACCEPT, DROP, REJECT,
RETURN, -g, ...) together already match all of them. Rules with matches the analysis
cannot reason about are never used to shadow another rule, so every finding is certain.

Why it matters: the rule can never fire; its verdict is dead. This is the classic ordering
bug: a broad DROP above a specific ACCEPT, or two port ranges that together swallow a later
exception.

Example:
    -A INPUT -p tcp --dport 1:1024 -j DROP
    -A INPUT -p tcp --dport 1025:65535 -j DROP
    -A INPUT -p tcp --dport 8080 -j ACCEPT     <- shadowed by the two rules above

Instead: move the specific rule above the broad ones, or narrow the broad ones. The help
line names a packet that shows it (`iptwalk trace` replays it).",
    },
    check: check_shadowed,
    whole_ruleset: false,
};

pub const REDUNDANT: Lint = Lint {
    meta: LintMeta {
        code: "IPT206",
        name: "redundant-rule",
        severity: Severity::Warning,
        summary: "earlier rules with the same verdict already match every packet of this rule",
        docs: "\
What it does: like IPT201, finds rules whose every packet is decided by earlier rules of the
same chain, where those earlier rules all have this rule's verdict.

Why it matters: the rule changes nothing and can be deleted; keeping it makes the ruleset
longer and suggests an intent (an exception, a narrower scope) that is not there.

Example:
    -A INPUT -s 10.0.0.0/8 -j ACCEPT
    -A INPUT -s 10.1.0.0/16 -p tcp --dport 22 -j ACCEPT   <- redundant

Instead: delete the later rule.",
    },
    check: check_redundant,
    whole_ruleset: false,
};

fn check_shadowed(input: &LintInput, out: &mut Vec<Diagnostic>) {
    out.extend(analyse(input, false).into_iter().map(|(d, _)| d));
}

fn check_redundant(input: &LintInput, out: &mut Vec<Diagnostic>) {
    out.extend(analyse(input, true).into_iter().map(|(d, _)| d));
}

/// A packet that shows a finding: the shadowed rule matches it, and the
/// walk of its chain decides it at an earlier rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    pub code: &'static str,
    /// The shadowed (or redundant) rule.
    pub span: Span,
    /// In the replay notation (`tcp 203.0.113.1:40000>192.0.2.1:22 S`).
    pub packet: String,
    /// Its conntrack state (`NEW`, `ESTABLISHED,DNAT, reply direction`) and
    /// the interfaces the rules ask for (`, in eth0, out tun+`).
    pub state: String,
    /// The deciding rule as the replay names it: `table/CHAIN/N`, 1-based.
    pub decided_by: String,
}

/// The witnesses of every IPT201 and IPT206 finding, in file order.
pub fn witnesses(input: &LintInput) -> Vec<Witness> {
    let mut all: Vec<Witness> = [false, true]
        .into_iter()
        .flat_map(|red| analyse(input, red))
        .map(|(_, w)| w)
        .collect();
    all.sort_by_key(|w| (w.span.start, w.code));
    all
}

fn analyse(input: &LintInput, redundant: bool) -> Vec<(Diagnostic, Witness)> {
    let mut out = Vec::new();
    for table in &input.ruleset.tables {
        let view = TableView::of(table);
        for chain in &table.chains {
            let at = |k: usize| format!("{}/{}/{}", table.kind.name(), chain.name, k + 1);
            for (d, k, p) in chain_findings(input, &chain.rules, &view, redundant) {
                let mut state = state_name(&p);
                for (dim, dir) in [(Dim::InIface, "in"), (Dim::OutIface, "out")] {
                    if let Some(name) = view.ifaces.atom_name(p[dim as usize]) {
                        state.push_str(&format!(", {dir} {name}"));
                    }
                }
                let w = Witness {
                    code: if redundant { "IPT206" } else { "IPT201" },
                    span: d.span,
                    packet: notation(&p),
                    state,
                    decided_by: at(k),
                };
                out.push((d, w));
            }
        }
    }
    out
}

/// How the earlier rules decide the packets of one rule.
struct Decided {
    /// Earlier rules that decide some of its packets, in order, each with a
    /// packet it decides.
    by: Vec<(usize, [u32; DIMS])>,
    /// The first of them whose verdict differs from the rule's.
    conflict: Option<usize>,
}

/// Walks the earlier deciders in order, as the kernel would, taking from the
/// rule's set the packets each one decides first. `None` unless every packet
/// is taken (or the work exceeded the limit).
fn decided_first(
    cubes: &[Cube],
    rule: &Rule,
    rules: &[Rule],
    deciders: &[(usize, Cube, BBox)],
) -> Option<Decided> {
    let bbox = bbox_union(cubes.iter().filter_map(Cube::bbox))?;
    // Pieces only shrink, so deciders outside the rule's box never take any.
    let relevant: Vec<&(usize, Cube, BBox)> = deciders
        .iter()
        .filter(|d| !bbox_disjoint(&bbox, &d.2))
        .collect();
    let mut remaining = cubes.to_vec();
    let mut d = Decided {
        by: Vec::new(),
        conflict: None,
    };
    for (t, (k, ck, _)) in relevant.iter().copied().enumerate() {
        let mut taken: Option<[u32; DIMS]> = None;
        let mut next = Vec::new();
        if remaining.iter().all(|p| p.disjoint(ck)) {
            continue;
        }
        for piece in &remaining {
            let inside = piece.intersect(ck);
            if !inside.is_empty() && taken.is_none() {
                taken = inside.witness();
            }
            next.extend(piece.subtract(ck));
            if next.len() > LIMIT {
                return None;
            }
        }
        remaining = next;
        // A piece that no later decider meets is never decided: give up now
        // instead of fragmenting the rest.
        let escapes = remaining.iter().any(|p| {
            p.bbox()
                .is_some_and(|pb| relevant[t + 1..].iter().all(|d| bbox_disjoint(&pb, &d.2)))
        });
        if escapes {
            return None;
        }
        // A rule split into several cubes (multiport --ports) is listed once.
        if let Some(w) = taken.filter(|_| d.by.last().map(|b| b.0) != Some(*k)) {
            if d.conflict.is_none() && rules[*k].target != rule.target {
                d.conflict = Some(d.by.len());
            }
            d.by.push((*k, w));
        }
        if remaining.is_empty() {
            return Some(d);
        }
    }
    None
}

fn chain_findings(
    input: &LintInput,
    rules: &[Rule],
    view: &TableView,
    redundant: bool,
) -> Vec<(Diagnostic, usize, [u32; DIMS])> {
    let mut out = Vec::new();
    // Earlier rules that end the walk and whose match set is exact.
    let mut deciders: Vec<(usize, Cube, BBox)> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let set = rule_set(r, view);
        // IPT202 and IPT205 already report rules after a catch-all and copies.
        let reported = || {
            rules[..i]
                .iter()
                .any(|e| (is_unconditional(e) && is_terminal(e)) || e.same_spec(r))
        };
        if !set.is_empty() {
            if let Some(d) = decided_first(&set.cubes, r, rules, &deciders) {
                if d.conflict.is_none() == redundant && !reported() {
                    let (k, p) = d.by[d.conflict.unwrap_or(0)];
                    out.push((finding(input, rules, r, &d, redundant), k, p));
                }
            }
        }
        if set.exact && is_terminal(r) {
            deciders.extend(
                set.cubes
                    .into_iter()
                    .filter_map(|c| c.bbox().map(|b| (i, c, b))),
            );
        }
    }
    out
}

fn finding(
    input: &LintInput,
    rules: &[Rule],
    r: &Rule,
    d: &Decided,
    redundant: bool,
) -> Diagnostic {
    let line = |k: usize| line_of(input.file, rule_span(&rules[k]));
    let lines: Vec<String> = d.by.iter().map(|(k, _)| line(*k).to_string()).collect();
    let (shown, witness) = match d.conflict {
        Some(c) => d.by[c],
        None => d.by[0],
    };
    let message = if redundant {
        format!(
            "redundant: line(s) {} already {} every packet this rule matches",
            lines.join(", "),
            target_name(r)
        )
    } else {
        format!(
            "shadowed: this rule never decides a packet; line(s) {} decide them first",
            lines.join(", ")
        )
    };
    let mut diag = Diagnostic::warning(input.file, rule_span(r), message);
    let mut labelled: Vec<usize> = vec![shown];
    labelled.extend(d.by.iter().map(|(k, _)| *k).filter(|k| *k != shown).take(2));
    labelled.sort_unstable();
    for k in labelled {
        diag = diag.with_label(
            rule_span(&rules[k]),
            format!("decides first ({})", target_name(&rules[k])),
        );
    }
    let example = describe(&witness);
    diag.with_help(if redundant {
        format!("delete this rule; for example {example} is decided at line {} already", line(shown))
    } else {
        format!(
            "move this rule above line {}, or narrow the earlier rule(s); for example {example} gets {} from line {} instead of {}",
            line(shown),
            target_name(&rules[shown]),
            line(shown),
            target_name(r)
        )
    })
}

/// A witness point in the replay's packet notation, with its conntrack state.
fn describe(p: &[u32; DIMS]) -> String {
    format!("`{}` ({})", notation(p), state_name(p))
}

/// The conntrack state of a witness point.
fn state_name(p: &[u32; DIMS]) -> String {
    let states = ["INVALID", "ESTABLISHED", "RELATED", "NEW", "UNTRACKED"];
    let atom = p[Dim::CtState as usize];
    let mut state = states[(atom / 8).min(4) as usize].to_string();
    if atom & 4 != 0 {
        state.push_str(",SNAT");
    }
    if atom & 2 != 0 {
        state.push_str(",DNAT");
    }
    if atom & 1 != 0 {
        state.push_str(", reply direction");
    }
    state
}

/// A witness point in the replay's packet notation (packet::parse_summary
/// reads it back).
pub fn notation(p: &[u32; DIMS]) -> String {
    let proto = p[Dim::Proto as usize];
    let src = Ipv4Addr::from(p[Dim::Src as usize]);
    let dst = Ipv4Addr::from(p[Dim::Dst as usize]);
    let body = match proto {
        6 | 17 => {
            let name = if proto == 6 { "tcp" } else { "udp" };
            let mut s = format!(
                "{name} {src}:{}>{dst}:{}",
                p[Dim::Sport as usize],
                p[Dim::Dport as usize]
            );
            if proto == 6 {
                // Flag letters as the replay summary prints them (FIN first).
                let flags = p[Dim::TcpFlags as usize];
                s.push(' ');
                s.extend(
                    b"FSRPAUEC"
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| flags & (1 << i) != 0)
                        .map(|(_, c)| *c as char),
                );
            }
            s
        }
        1 => {
            let tc = p[Dim::Icmp as usize];
            format!("icmp {src}>{dst} type={} code={}", tc >> 8, tc & 0xff)
        }
        n => format!("proto{n} {src}>{dst}"),
    };
    body
}
