//! Replay records as short text lines for people and for snapshot tests:
//! `   1 INPUT   REJECT      NEW         filter/svc/3             tcp 203.0.113.10:33001>10.0.0.104:22 S`
//! (index, filter hook, verdict, conntrack state, deciding rule or `policy`,
//! the packet). Unlike `iptwalk replay`'s text this has no timestamp, so the
//! lines of synthetic packets are stable.

use crate::eval::outcome::Record;
use std::fmt::Write as _;

/// One record as one line (no newline).
pub fn line(record: &Record) -> String {
    match record {
        Record::Skipped(s) => format!(
            "{:>4} skipped: {}",
            s.index,
            s.skipped.as_deref().or(s.error.as_deref()).unwrap_or("")
        ),
        Record::Packet(o) => {
            let mut s = format!(
                "{:>4} {:<7} {:<11} {:<11} {:<24} {}",
                o.index,
                o.hook.unwrap_or("-"),
                o.verdict.name(),
                o.ctstate.unwrap_or("-"),
                o.rule.as_deref().unwrap_or("policy"),
                o.summary
            );
            if let Some(r) = o.reject_with {
                let _ = write!(s, " ({r})");
            }
            if !o.depends_on.is_empty() {
                let _ = write!(s, "  [depends on {}]", o.depends_on.join(", "));
            }
            s
        }
    }
}

/// Every record, one line each, each ending in a newline.
pub fn lines<'a>(records: impl IntoIterator<Item = &'a Record>) -> String {
    let mut s = String::new();
    for r in records {
        s.push_str(&line(r));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::outcome::Skipped;

    #[test]
    fn a_skipped_record_says_why() {
        let r = Record::Skipped(Skipped {
            index: 3,
            skipped: Some("ethertype 0x86dd".into()),
            error: None,
        });
        assert_eq!(lines([&r]), "   3 skipped: ethertype 0x86dd\n");
    }
}
