//! The join of a ruleset and an ipset file before a replay: every set a
//! rule names (`-m set --match-set`, `-j SET --add-set/--del-set/--map-set`)
//! must exist, as the kernel refuses to load such a rule
//! (`set_match_v1_checkentry`: "Cannot find set identified by id").

use crate::diagnostic::Diagnostic;
use crate::ext::{Match, Target};
use crate::ipset::Sets;
use crate::ir::{RuleTarget, Ruleset};

/// The set names rules use that `sets` lacks, one error per use, at the
/// match (or the target word) that names it.
pub fn missing_sets(rs: &Ruleset, sets: &Sets, file: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in rs
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
    {
        let o = &rule.origin;
        let mut check = |name: &str, span| {
            if sets.index_of(name).is_none() {
                out.push(Diagnostic::error(
                    &o.file,
                    span,
                    format!("set {name} does not exist in {file}"),
                ));
            }
        };
        for m in &rule.matches {
            if let Match::Set(s) = &m.m {
                check(&s.name, m.span);
            }
        }
        if let RuleTarget::Ext(Target::Set(t)) = &rule.target {
            for r in [&t.add, &t.del, &t.map].into_iter().flatten() {
                check(&r.name, o.target.unwrap_or(o.line));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn names_each_missing_set_at_its_rule() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
-A INPUT -m set --match-set known src -j DROP\n\
-A INPUT -m set --match-set nope src -j DROP\n\
-A INPUT -j SET --add-set other src\nCOMMIT\n";
        let f = SourceFile::new("r", text);
        let l = crate::ir::load(&f);
        assert!(!l.has_errors());
        let sets = crate::ipset::parse("create known hash:ip\n").unwrap();
        let d = missing_sets(&l.ruleset, &sets, "sets.txt");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].message, "set nope does not exist in sets.txt");
        assert_eq!(d[0].location(), "r:6:10");
        assert_eq!(d[1].message, "set other does not exist in sets.txt");
    }
}
