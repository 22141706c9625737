//! Two rulesets, one capture: the packets whose verdict or deciding rule
//! differs (`iptwalk diff`). Both rulesets replay the capture side by side,
//! each with its own conntrack table, so a change that alters state (a
//! connection no longer accepted) shows in the later packets too.

use super::engine::{Engine, Options};
use super::host::Host;
use super::outcome::{Outcome, Record, Verdict};
use crate::conntrack::Params;
use crate::ir::Ruleset;
use crate::packet::{CaptureError, CaptureReader};
use serde::Serialize;
use std::io::Read;

/// What one ruleset did with a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub verdict: Verdict,
    pub hook: Option<&'static str>,
    /// `table/CHAIN/N`; null when a policy decided.
    pub rule: Option<String>,
    /// The deciding rule as `-A CHAIN ...` (iptables-save text).
    pub text: Option<String>,
    pub ctstate: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub index: u64,
    pub summary: String,
    pub old: Side,
    pub new: Side,
}

/// The changes of one connection (its original tuple as conntrack shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnChanges {
    pub connection: String,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    pub packets: u64,
    pub changed: u64,
    pub connections: Vec<ConnChanges>,
}

/// `-A CHAIN spec` of the rule `table/CHAIN/N` (1-based).
pub fn rule_text(rs: &Ruleset, id: &str) -> Option<String> {
    let mut parts = id.splitn(3, '/');
    let (table, chain, num) = (parts.next()?, parts.next()?, parts.next()?);
    let t = rs.tables.iter().find(|t| t.name() == table)?;
    let c = t.chains.iter().find(|c| c.name == chain)?;
    let r = c.rules.get(num.parse::<usize>().ok()?.checked_sub(1)?)?;
    let mut s = format!("-A {chain}");
    crate::ir::save::rule_spec(&mut s, r);
    Some(s)
}

fn side(rs: &Ruleset, o: &Outcome) -> Side {
    Side {
        verdict: o.verdict,
        hook: o.hook,
        rule: o.rule.as_deref().map(str::to_string),
        text: o.rule.as_deref().and_then(|r| rule_text(rs, r)),
        ctstate: o.ctstate,
    }
}

/// The connection a packet belongs to, for grouping: `PROTO ORIG-TUPLE` of
/// its conntrack entry in either replay, else the packet's own endpoints.
fn connection(a: &Outcome, b: &Outcome) -> String {
    let mut words = a.summary.split(' ');
    let proto = words.next().unwrap_or("");
    let ends = words.next().unwrap_or("");
    match a.ct_after.as_ref().or(b.ct_after.as_ref()) {
        Some(c) => format!("{proto} {}", c.orig),
        None => format!("{proto} {ends}"),
    }
}

/// Replays `reader` through `old` and `new`; fatal capture errors end it.
pub fn diff_capture<R: Read>(
    old: &Ruleset,
    new: &Ruleset,
    host: Host,
    params: Params,
    opts: Options,
    reader: &mut CaptureReader<R>,
) -> Result<DiffReport, CaptureError> {
    let mut a = Engine::new(old, host.clone(), params, opts.clone());
    let mut b = Engine::new(new, host, params, opts);
    let mut report = DiffReport::default();
    while let Some(next) = reader.next_frame() {
        let frame = match next {
            Ok(f) => f,
            Err(e) if e.is_fatal() => return Err(e),
            Err(_) => continue,
        };
        let (ra, rb) = (a.process(&frame), b.process(&frame));
        let (Record::Packet(oa), Record::Packet(ob)) = (ra, rb) else {
            continue;
        };
        report.packets += 1;
        if (oa.verdict, &oa.rule, oa.fate) == (ob.verdict, &ob.rule, ob.fate) {
            continue;
        }
        report.changed += 1;
        let conn = connection(&oa, &ob);
        let change = Change {
            index: oa.index,
            summary: oa.summary.clone(),
            old: side(old, &oa),
            new: side(new, &ob),
        };
        match report.connections.iter_mut().find(|c| c.connection == conn) {
            Some(c) => c.changes.push(change),
            None => report.connections.push(ConnChanges {
                connection: conn,
                changes: vec![change],
            }),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn rules(text: &str) -> Ruleset {
        let l = crate::ir::load(&SourceFile::new("t", text));
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        l.ruleset
    }

    #[test]
    fn rule_text_finds_rules_by_id() {
        let rs =
            rules("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n");
        assert_eq!(
            rule_text(&rs, "filter/INPUT/1").as_deref(),
            Some("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT")
        );
        assert_eq!(rule_text(&rs, "filter/INPUT/2"), None);
        assert_eq!(rule_text(&rs, "filter/INPUT/0"), None);
        assert_eq!(rule_text(&rs, "nat/INPUT/1"), None);
    }

    #[test]
    fn a_scenario_against_itself_has_no_changes_and_against_accept_all_has_some() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/scenarios/hm_user_chains"
        );
        let rs = rules(&std::fs::read_to_string(format!("{dir}/rules.v4")).unwrap());
        let host = Host::oracle(&["10.0.0.104".parse().unwrap()], &[]);
        let open =
            || CaptureReader::open(std::path::Path::new(&format!("{dir}/trace.pcap"))).unwrap();
        let same = diff_capture(
            &rs,
            &rs,
            host.clone(),
            Params::default(),
            Options::default(),
            &mut open(),
        )
        .unwrap();
        assert!(same.packets > 0);
        assert_eq!((same.changed, same.connections.len()), (0, 0));
        let open_all = Ruleset::default();
        let d = diff_capture(
            &rs,
            &open_all,
            host,
            Params::default(),
            Options::default(),
            &mut open(),
        )
        .unwrap();
        assert!(d.changed > 0);
        assert_eq!(
            d.changed as usize,
            d.connections.iter().map(|c| c.changes.len()).sum::<usize>()
        );
        assert!(d
            .connections
            .iter()
            .flat_map(|c| &c.changes)
            .all(|c| c.new.rule.is_none()));
    }
}
