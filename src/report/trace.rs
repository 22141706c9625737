//! `iptwalk trace` output: one packet's walk through every table, each rule
//! it was tested against with the part that did not match, jumps, returns,
//! policies, the conntrack state and the verdict. [`TraceReport`] is the JSON
//! form; [`render_text`] prints the same content for people, rule text as
//! `iptables-save` writes it.

use crate::eval::explain::{Miss, TableWalk, WalkEvent};
use crate::eval::outcome::{Outcome, Record};
use crate::eval::single::Traced;
use crate::eval::walk::{TableVerdict, TraceStep};
use crate::ir::{Rule, Ruleset, Table};
use serde::Serialize;
use std::fmt::Write as _;

/// The whole trace, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct TraceReport {
    /// Packets replayed through an accept-everything ruleset to set up `--ctstate`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub setup: Vec<String>,
    pub walks: Vec<WalkReport>,
    /// The replay record of the packet (the `replay --format jsonl` object).
    pub outcome: Record,
}

#[derive(Debug, Clone, Serialize)]
pub struct WalkReport {
    pub table: &'static str,
    pub chain: &'static str,
    pub verdict: &'static str,
    /// `table/CHAIN/N` of the deciding rule; null for the policy.
    pub rule: Option<String>,
    pub steps: Vec<StepReport>,
}

/// One rule test, return or policy.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum StepReport {
    Rule {
        rule: String,
        text: String,
        matched: bool,
        /// The first condition that failed (rule text), when not matched.
        #[serde(skip_serializing_if = "Option::is_none")]
        why: Option<String>,
    },
    Return {
        #[serde(rename = "return")]
        from: String,
    },
    Policy {
        policy: String,
        verdict: &'static str,
    },
}

fn verdict_name(v: TableVerdict) -> &'static str {
    match v {
        TableVerdict::Accept => "ACCEPT",
        TableVerdict::Drop => "DROP",
        TableVerdict::Queue => "QUEUE",
        TableVerdict::Stolen => "STOLEN",
    }
}

/// The failing header option of a rule, written as in the rule.
fn header_text(r: &Rule, opt: &str) -> String {
    let bang = |inv: bool| if inv { "! " } else { "" };
    match opt {
        "-s" => format!("{}-s {}", bang(r.src_inv), r.src),
        "-d" => format!("{}-d {}", bang(r.dst_inv), r.dst),
        "-i" => format!("{}-i {}", bang(r.in_inv), r.in_iface),
        "-o" => format!("{}-o {}", bang(r.out_inv), r.out_iface),
        "-p" => {
            let name = crate::ir::proto::name(r.proto).map_or(r.proto.to_string(), String::from);
            format!("{}-p {name}", bang(r.proto_inv))
        }
        _ => format!("{}-f", bang(r.frag_inv)),
    }
}

fn match_text(r: &Rule, i: usize) -> String {
    let Some(m) = r.matches.get(i) else {
        return String::new();
    };
    let mut s = format!("-m {}", m.m.save_name());
    m.m.save(&r.ctx(), &mut s);
    s
}

fn why(r: &Rule, miss: Miss) -> String {
    match miss {
        Miss::Header(opt) => header_text(r, opt),
        Miss::Match(i) => match_text(r, i),
        Miss::Unknown(i, name) => {
            format!("{} (`{name}` cannot be judged offline)", match_text(r, i))
        }
        Miss::Hotdrop(i) => format!("{} (dropped the packet: hotdrop)", match_text(r, i)),
    }
}

fn walk_report(table: &Table, w: &TableWalk) -> WalkReport {
    let base = w.hook.chain_name();
    let rule_id =
        |chain: usize, n: usize| format!("{}/{}/{}", table.name(), table.chains[chain].name, n + 1);
    let mut steps = Vec::new();
    for ev in &w.events {
        match *ev {
            WalkEvent::Tested { pos, matched, miss } => {
                let chain = &table.chains[pos.chain];
                let Some(r) = chain.rules.get(pos.rule) else {
                    continue;
                };
                let mut text = format!("-A {}", chain.name);
                crate::ir::save::rule_spec(&mut text, r);
                steps.push(StepReport::Rule {
                    rule: rule_id(pos.chain, pos.rule),
                    text,
                    matched,
                    why: miss.map(|m| why(r, m)),
                });
            }
            WalkEvent::Step(TraceStep::Return { chain }) => steps.push(StepReport::Return {
                from: table.chains[chain].name.clone(),
            }),
            WalkEvent::Step(TraceStep::Policy { chain }) => steps.push(StepReport::Policy {
                policy: table.chains[chain].name.clone(),
                verdict: verdict_name(w.verdict),
            }),
            WalkEvent::Step(TraceStep::Rule { .. }) => {}
        }
    }
    WalkReport {
        table: table.name(),
        chain: base,
        verdict: verdict_name(w.verdict),
        rule: w.decided_by.map(|p| rule_id(p.chain, p.rule)),
        steps,
    }
}

impl TraceReport {
    pub fn new(rs: &Ruleset, traced: Traced) -> TraceReport {
        let walks = traced
            .walks
            .iter()
            .filter_map(|w| rs.table(w.table).map(|t| walk_report(t, w)))
            .collect();
        TraceReport {
            setup: traced.primed,
            walks,
            outcome: traced.record,
        }
    }

    /// The replay outcome, unless the record was skipped.
    pub fn packet(&self) -> Option<&Outcome> {
        match &self.outcome {
            Record::Packet(o) => Some(o),
            Record::Skipped(_) => None,
        }
    }
}

/// The trace for people.
pub fn render_text(t: &TraceReport) -> String {
    let mut s = String::new();
    let o = match &t.outcome {
        Record::Packet(o) => o,
        Record::Skipped(k) => {
            let why = k.skipped.as_deref().or(k.error.as_deref()).unwrap_or("");
            let _ = writeln!(s, "record {} skipped: {why}", k.index);
            return s;
        }
    };
    let _ = writeln!(s, "packet   {}", o.summary);
    let ifaces = match (&o.iface.input, &o.iface.output) {
        (Some(i), Some(out)) => format!(" (in {i}, out {out})"),
        (Some(i), None) => format!(" (in {i})"),
        (None, Some(out)) => format!(" (out {out})"),
        (None, None) => String::new(),
    };
    let _ = writeln!(s, "path     {}{ifaces}", o.path);
    if !t.setup.is_empty() {
        let _ = writeln!(s, "setup    {}", t.setup.join(", "));
    }
    for w in &t.walks {
        let decided = w
            .rule
            .as_deref()
            .map_or("policy".to_string(), |r| format!("rule {r}"));
        let _ = writeln!(s, "\n{} {}: {} ({decided})", w.table, w.chain, w.verdict);
        for step in &w.steps {
            let _ = match step {
                StepReport::Rule {
                    rule,
                    text,
                    matched,
                    why,
                } => {
                    let verdict = if *matched { "match" } else { "no" };
                    let reason = why.as_deref().map_or(String::new(), |w| format!("  ✗ {w}"));
                    writeln!(s, "  {:<22} {verdict:<5} {text}{reason}", short_id(rule))
                }
                StepReport::Return { from } => {
                    writeln!(s, "  {:<22} return to the calling chain", from)
                }
                StepReport::Policy { policy, verdict } => {
                    writeln!(s, "  {:<22} policy {verdict}", policy)
                }
            };
        }
    }
    let _ = writeln!(s);
    write_result(&mut s, o);
    s
}

/// `CHAIN:N` from `table/CHAIN/N`.
fn short_id(rule: &str) -> String {
    let mut parts = rule.splitn(3, '/').skip(1);
    match (parts.next(), parts.next()) {
        (Some(c), Some(n)) => format!("{c}:{n}"),
        _ => rule.to_string(),
    }
}

fn write_result(s: &mut String, o: &Outcome) {
    let ct = match (o.ctstate, &o.ct_after) {
        (None, _) => "not tracked (dropped before conntrack)".to_string(),
        (Some(st), Some(c)) => {
            let tcp = c.tcp_state.map_or(String::new(), |t| format!(" {t}"));
            format!(
                "{st} {}{tcp}, orig {} reply {} [{}]",
                o.ctdir.unwrap_or("-"),
                c.orig,
                c.reply,
                c.status.names().collect::<Vec<_>>().join(",")
            )
        }
        (Some(st), None) => format!("{st} (no entry kept after the packet)"),
    };
    let _ = writeln!(s, "conntrack {ct}");
    let hook = o.hook.unwrap_or("-");
    let by = o.rule.as_deref().unwrap_or("policy");
    let _ = write!(s, "verdict   {} at {hook} by {by}", o.verdict.name());
    if let Some(r) = o.reject_with {
        let _ = write!(s, " ({r})");
    }
    if let Some(f) = o.fate {
        let _ = write!(s, ", finally {}", f.name());
    }
    let _ = writeln!(s);
    if let Some(n) = &o.note {
        let _ = writeln!(s, "note      {n}");
    }
    if !o.depends_on.is_empty() {
        let _ = writeln!(
            s,
            "note      depends on what cannot be judged offline: {}",
            o.depends_on.join(", ")
        );
    }
}
