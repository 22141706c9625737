//! `# iptwalk: ignore[IPT201,IPT301]` comment lines.
//!
//! iptables-restore only allows `#` at the start of a line, so the comment
//! goes on its own line directly above the rule it silences (blank lines in
//! between are not allowed: the comment must be adjacent).

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Suppressions {
    /// 1-based line of the rule → codes silenced on it.
    by_line: HashMap<usize, Vec<String>>,
}

impl Suppressions {
    pub fn read(file: &SourceFile) -> Suppressions {
        let mut by_line: HashMap<usize, Vec<String>> = HashMap::new();
        for n in 1..file.line_count() {
            let text = file.slice(file.line_span(n)).trim();
            let Some(rest) = text.strip_prefix('#').map(str::trim) else {
                continue;
            };
            let Some(list) = rest
                .strip_prefix("iptwalk:")
                .map(str::trim)
                .and_then(|r| r.strip_prefix("ignore["))
                .and_then(|r| r.split_once(']'))
                .map(|(codes, _)| codes)
            else {
                continue;
            };
            let codes = list
                .split(',')
                .map(|c| c.trim().to_ascii_uppercase())
                .filter(|c| !c.is_empty());
            by_line.entry(n + 1).or_default().extend(codes);
        }
        Suppressions { by_line }
    }

    pub fn silences(&self, d: &Diagnostic) -> bool {
        let line = d.file.line_col(d.span.start as usize).line;
        let Some(code) = d.code else { return false };
        self.by_line
            .get(&line)
            .is_some_and(|codes| codes.iter().any(|c| c == code))
    }
}
