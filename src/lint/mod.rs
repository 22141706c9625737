//! Lints: mistakes in rule files that iptables would reject, rules that never
//! match, and rules that break stateful filtering.
//!
//! Each lint is one file under `rules/` with its [`LintMeta`] (code, name,
//! severity, summary, docs) and a `check` function over the built ruleset.
//! Codes go by hundreds: 1xx load errors, 2xx reachability, 3xx stateful
//! filtering, 4xx NAT, 5xx style. Findings are [`Diagnostic`]s, so they render
//! like parse errors. A `# iptwalk: ignore[IPT201]` comment line directly above
//! a rule silences that code for it.

pub mod rules;
pub mod space;
pub mod space_ext;
pub mod suppress;

use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::Ruleset;
use crate::source::SourceFile;
use std::sync::Arc;

/// Everything a user sees about a lint.
#[derive(Debug, Clone, Copy)]
pub struct LintMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// What it does, why it matters, an example and what to write instead.
    pub docs: &'static str,
}

/// What a lint looks at.
pub struct LintInput<'a> {
    pub file: &'a Arc<SourceFile>,
    pub ruleset: &'a Ruleset,
}

pub type CheckFn = fn(&LintInput, &mut Vec<Diagnostic>);

/// One registered lint.
pub struct Lint {
    pub meta: LintMeta,
    pub check: CheckFn,
}

/// Which lints run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these codes (or code prefixes such as `IPT2`); empty = all.
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl Selection {
    pub fn wants(&self, code: &str) -> bool {
        let hit = |list: &[String]| list.iter().any(|p| code.starts_with(p.as_str()));
        (self.select.is_empty() || hit(&self.select)) && !hit(&self.ignore)
    }
}

/// Runs the selected lints over a loaded file. Findings come back in file
/// order (then by code), with suppressed ones removed.
pub fn run(input: &LintInput, selection: &Selection) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for lint in rules::ALL {
        if !selection.wants(lint.meta.code) {
            continue;
        }
        let mut found = Vec::new();
        (lint.check)(input, &mut found);
        for d in &mut found {
            d.code = Some(lint.meta.code);
            d.severity = lint.meta.severity;
        }
        out.extend(found);
    }
    let suppressions = suppress::Suppressions::read(input.file);
    out.retain(|d| !suppressions.silences(d));
    out.sort_by(|a, b| (a.span.start, a.code).cmp(&(b.span.start, b.code)));
    out
}

/// The lint with this code.
pub fn find(code: &str) -> Option<&'static Lint> {
    rules::ALL
        .iter()
        .find(|l| l.meta.code.eq_ignore_ascii_case(code) || l.meta.name == code)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod witness_tests;
