//! Following a set of packets through a chain walk, over the cube sets of
//! [`super::space`], in the two directions a claim needs:
//!
//! - [`surely_reaching`]: packets that *certainly* reach a rule (an
//!   under-approximation: a rule whose set is only over-approximated may
//!   take packets away but never hands them on). "INVALID packets are
//!   accepted at line N" must hold for a real packet.
//! - [`all_dropped`]: whether every packet *certainly* ends in DROP or REJECT
//!   (the packets at each point are over-approximated: anything the model
//!   cannot follow counts as possibly accepted). "Every packet this DNAT
//!   makes is dropped" must hold for all of them.
//!
//! Both walk as `ipt_do_table` does: `-j` returns to the next rule, `-g`
//! returns to the caller's caller, RETURN ends the chain, a built-in chain's
//! end is its policy. Jump loops cannot occur (the table loaded).

use super::space::{rule_set, Cube, TableView};
use crate::ir::{Policy, Rule, RuleTarget, Table, Verdict};

/// Cap on cube fragments; past it the analysis says nothing.
const LIMIT: usize = 4096;
/// Cap on jump depth (the kernel allows more; real rulesets use few).
const DEPTH: usize = 16;

/// `a` minus every cube of `b`; `None` past the fragment cap.
pub fn minus(a: &[Cube], b: &[Cube]) -> Option<Vec<Cube>> {
    let mut rest = a.to_vec();
    for c in b {
        let mut next = Vec::new();
        for p in &rest {
            next.extend(p.subtract(c));
        }
        if next.len() > LIMIT {
            return None;
        }
        rest = next;
    }
    Some(rest)
}

/// Pairwise intersections, without the empty ones.
pub fn meet(a: &[Cube], b: &[Cube]) -> Vec<Cube> {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| x.intersect(y)))
        .filter(|c| !c.is_empty())
        .collect()
}

fn drops(r: &Rule) -> bool {
    match &r.target {
        RuleTarget::Verdict(Verdict::Drop) => true,
        RuleTarget::Ext(t) => t.name() == "REJECT",
        _ => false,
    }
}

/// Rules `pick` chooses that certainly get some of `packets` entering chain
/// `ci`, each with those packets, in walk order. `None` past the caps.
pub fn surely_reaching<'t>(
    table: &'t Table,
    view: &TableView,
    ci: usize,
    packets: Vec<Cube>,
    pick: fn(&Rule) -> bool,
) -> Option<Vec<(&'t Rule, Vec<Cube>)>> {
    let mut found = Vec::new();
    let mut walk = Surely {
        table,
        view,
        pick,
        found: &mut found,
    };
    walk.chain(ci, packets, 0)?;
    Some(found)
}

struct Surely<'t, 'f> {
    table: &'t Table,
    view: &'f TableView,
    pick: fn(&Rule) -> bool,
    found: &'f mut Vec<(&'t Rule, Vec<Cube>)>,
}

impl<'t> Surely<'t, '_> {
    /// Returns the packets that certainly leave chain `ci` at its end or by
    /// RETURN (for `-j` they continue in the caller).
    fn chain(&mut self, ci: usize, mut here: Vec<Cube>, depth: usize) -> Option<Vec<Cube>> {
        let table = self.table;
        let mut returned = Vec::new();
        for r in &table.chains[ci].rules {
            if here.is_empty() {
                break;
            }
            let set = rule_set(r, self.view);
            let hit = if set.exact {
                meet(&here, &set.cubes)
            } else {
                Vec::new()
            };
            let rest = || minus(&here, &set.cubes);
            if (self.pick)(r) && !hit.is_empty() {
                self.found.push((r, hit.clone()));
            }
            match &r.target {
                RuleTarget::None => {}
                RuleTarget::Ext(t) if !t.terminal() => {}
                RuleTarget::Verdict(Verdict::Return) => {
                    returned.extend(hit);
                    here = rest()?;
                }
                RuleTarget::Jump(c) | RuleTarget::Goto(c) => {
                    let sub = match table.chain_index(c) {
                        Some(k) if depth < DEPTH && !hit.is_empty() => {
                            self.chain(k, hit, depth + 1)?
                        }
                        _ => Vec::new(),
                    };
                    here = rest()?;
                    if matches!(r.target, RuleTarget::Jump(_)) {
                        here.extend(sub);
                    } else {
                        returned.extend(sub);
                    }
                }
                RuleTarget::Verdict(_) | RuleTarget::Ext(_) => here = rest()?,
            }
            if here.len() > LIMIT {
                return None;
            }
        }
        returned.extend(here);
        Some(returned)
    }
}

/// Whether every one of `packets` entering built-in chain `ci` certainly
/// ends in DROP or REJECT (a rule, or the DROP policy). `Some(lines)` names
/// the rules that drop them (`None` for the policy); `None` when some may be
/// accepted or the model cannot tell.
pub fn all_dropped<'t>(
    table: &'t Table,
    view: &TableView,
    ci: usize,
    packets: Vec<Cube>,
) -> Option<Vec<Option<&'t Rule>>> {
    let mut by = Vec::new();
    let left = maybe(table, view, ci, packets, 0, &mut by)?;
    if !left.is_empty() {
        if table.chains[ci].policy != Some(Policy::Drop) {
            return None;
        }
        by.push(None);
    }
    Some(by)
}

/// Over-approximates the packets that leave chain `ci` at its end or by
/// RETURN; `None` when some packet may be accepted (or queued, or the walk
/// is past the caps).
fn maybe<'t>(
    table: &'t Table,
    view: &TableView,
    ci: usize,
    mut here: Vec<Cube>,
    depth: usize,
    by: &mut Vec<Option<&'t Rule>>,
) -> Option<Vec<Cube>> {
    let mut returned = Vec::new();
    for r in &table.chains[ci].rules {
        if here.is_empty() {
            break;
        }
        let set = rule_set(r, view);
        let hit = meet(&here, &set.cubes);
        if hit.is_empty() {
            continue;
        }
        // Packets that may not match go on; only an exact set takes its
        // packets out of the rest of the walk.
        let rest = || {
            if set.exact {
                minus(&here, &set.cubes)
            } else {
                Some(here.clone())
            }
        };
        match &r.target {
            RuleTarget::None => {}
            RuleTarget::Ext(t) if !t.terminal() => {}
            _ if drops(r) => {
                if set.exact {
                    by.push(Some(r));
                }
                here = rest()?;
            }
            RuleTarget::Verdict(Verdict::Return) => {
                returned.extend(hit);
                here = rest()?;
            }
            RuleTarget::Jump(c) | RuleTarget::Goto(c) => {
                let k = table.chain_index(c)?;
                if depth >= DEPTH {
                    return None;
                }
                let sub = maybe(table, view, k, hit, depth + 1, by)?;
                here = rest()?;
                if matches!(r.target, RuleTarget::Jump(_)) {
                    here.extend(sub);
                } else {
                    returned.extend(sub);
                }
            }
            // ACCEPT, QUEUE, NFQUEUE, SYNPROXY, ...: possibly not dropped.
            _ => return None,
        }
        if here.len() > LIMIT {
            return None;
        }
    }
    returned.extend(here);
    Some(returned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Rule;
    use crate::lint::space::{Dim, IntervalSet};
    use crate::source::SourceFile;

    fn table(rules: &str) -> Table {
        let text = format!(
            "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n{rules}\nCOMMIT\n"
        );
        let loaded = crate::ir::load(&SourceFile::new("t", text));
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.ruleset.tables[0].clone()
    }

    fn udp(port: u32) -> Vec<Cube> {
        let mut c = Cube::full();
        c.restrict(Dim::Proto, IntervalSet::from_values([17]));
        c.restrict(Dim::Dport, IntervalSet::from_values([port]));
        vec![c]
    }

    fn accepts(r: &Rule) -> bool {
        matches!(r.target, RuleTarget::Verdict(Verdict::Accept))
    }

    #[test]
    fn surely_follows_jumps_returns_and_gotos() {
        // A returns port 53 to INPUT, which accepts it at line 3; port 54 is
        // accepted inside B, reached by -g.
        let t = table("-A INPUT -j A\n-A INPUT -g B\n-A INPUT -p udp --dport 53 -j ACCEPT\n-A A -p udp --dport 53 -j RETURN\n-A A -j DROP\n-A B -p udp --dport 54 -j ACCEPT");
        let view = TableView::of(&t);
        let got = surely_reaching(&t, &view, 0, udp(53), accepts).expect("within caps");
        assert!(got.is_empty(), "53 goes to B and falls off its end");
        let got = surely_reaching(&t, &view, 0, udp(54), accepts).expect("within caps");
        assert!(got.is_empty(), "A drops 54 before the goto");
        let t = table("-A INPUT -g B\n-A B -p udp --dport 54 -j ACCEPT");
        let view = TableView::of(&t);
        let got = surely_reaching(&t, &view, 0, udp(54), accepts).expect("within caps");
        assert_eq!(got.len(), 1);
    }

    fn by_policy(by: Option<Vec<Option<&Rule>>>) -> Option<Vec<bool>> {
        by.map(|v| v.iter().map(Option::is_none).collect())
    }

    #[test]
    fn all_dropped_needs_certainty() {
        let t = table("-A INPUT -p udp --dport 53 -j ACCEPT");
        let view = TableView::of(&t);
        assert!(all_dropped(&t, &view, 0, udp(53)).is_none());
        assert_eq!(
            by_policy(all_dropped(&t, &view, 0, udp(54))),
            Some(vec![true])
        );
        // An unreadable accept may take it; an unreadable drop may not.
        let t = table("-A INPUT -m string --string x --algo bm -j ACCEPT");
        let view = TableView::of(&t);
        assert!(all_dropped(&t, &view, 0, udp(54)).is_none());
        let t = table("-A INPUT -j A\n-A A -m string --string x --algo bm -j DROP\n-A A -j RETURN");
        let view = TableView::of(&t);
        assert_eq!(
            by_policy(all_dropped(&t, &view, 0, udp(54))),
            Some(vec![true])
        );
        // The FORWARD policy is ACCEPT: not dropped.
        let ci = t.chain_index("FORWARD").expect("built-in");
        assert!(all_dropped(&t, &view, ci, udp(54)).is_none());
    }
}
