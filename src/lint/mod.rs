//! Lints: mistakes in rule files that iptables would reject, rules that never
//! match, and rules that break stateful filtering.
//!
//! Each lint is one file under `rules/` with its [`LintMeta`] (code, name,
//! severity, summary, docs) and a `check` function over the built ruleset.
//! Codes go by hundreds: 1xx load errors, 2xx reachability, 3xx stateful
//! filtering, 4xx NAT, 5xx style. Findings are [`Diagnostic`]s, so they render
//! like parse errors. A `# iptwalk: ignore[IPT201]` comment line directly above
//! a rule silences that code for it.
//!
//! The 1xx lints report what `ir::load` found iptables would refuse (each
//! error's [`crate::ir::LoadErrorKind`] picks the code). [`run_loaded`] then runs the
//! other lints on the tables whose every command applied: a table that lost a
//! command is not the table the author wrote, and lints that read several
//! tables ([`Lint::whole_ruleset`]) run only when none lost one. Errors that are
//! not about rules (the tokenizer's, an IPv6 file) stop the file: input error.

pub mod flow;
pub mod rules;
pub mod space;
pub mod space_ext;
pub mod suppress;

use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::{LoadError, Loaded, Ruleset};
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
    /// Commands iptables refuses, as `ir::load` reported them (the 1xx lints).
    pub refused: &'a [Refused],
}

/// A load error about a rule: its diagnostic and its kind.
#[derive(Debug, Clone)]
pub struct Refused {
    pub diagnostic: Diagnostic,
    pub error: LoadError,
}

pub type CheckFn = fn(&LintInput, &mut Vec<Diagnostic>);

/// One registered lint.
pub struct Lint {
    pub meta: LintMeta,
    pub check: CheckFn,
    /// Reads tables other than the one it reports in (the raw table's CT
    /// helpers for a filter rule, the filter table for a DNAT): not run when
    /// any table lost a command to a load error.
    pub whole_ruleset: bool,
}

/// What linting one loaded file gives.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings and the loader's warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// When some error is not about rules (the file could not be read as
    /// iptables input): everything the loader reported, and nothing was
    /// linted; exit status 2.
    pub input_errors: Vec<Diagnostic>,
}

/// Lints a file as `ir::load` left it: refused commands become 1xx findings,
/// the other lints run where that is sound (see the module docs).
pub fn run_loaded(file: &Arc<SourceFile>, loaded: &Loaded, selection: &Selection) -> Outcome {
    let mut refused = Vec::new();
    let mut warnings = Vec::new();
    let mut input_errors = Vec::new();
    for (i, d) in loaded.diagnostics.iter().enumerate() {
        match loaded.errors.get(i).copied().flatten() {
            // Changes nothing whatever the host had: a remark, not a finding.
            Some(e) if e.kind == crate::ir::LoadErrorKind::Cleanup => {
                let mut w = d.clone();
                w.severity = Severity::Warning;
                w.message = format!("{} (a cleanup: this script starts from empty tables here; harmless on a host where the chain exists)", d.message);
                warnings.push(w);
            }
            Some(error) if d.is_error() => refused.push(Refused {
                diagnostic: d.clone(),
                error,
            }),
            _ if d.is_error() => input_errors.push(d.clone()),
            _ => warnings.push(d.clone()),
        }
    }
    if !input_errors.is_empty() {
        // Not iptables input: everything the loader said, as it said it.
        return Outcome {
            diagnostics: Vec::new(),
            input_errors: loaded.diagnostics.clone(),
        };
    }
    let incomplete: Vec<_> = refused
        .iter()
        .filter(|r| r.error.skipped)
        .map(|r| r.error.table)
        .collect();
    let mut ruleset = loaded.ruleset.clone();
    ruleset
        .tables
        .retain(|t| !incomplete.contains(&Some(t.kind)) && !incomplete.contains(&None));
    let input = LintInput {
        file,
        ruleset: &ruleset,
        refused: &refused,
    };
    let mut diagnostics = run_where(&input, selection, incomplete.is_empty());
    diagnostics.extend(warnings);
    diagnostics.sort_by_key(|d| d.span.start);
    Outcome {
        diagnostics,
        input_errors,
    }
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
    run_where(input, selection, true)
}

fn run_where(input: &LintInput, selection: &Selection, whole: bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for lint in rules::ALL {
        if !selection.wants(lint.meta.code) || lint.whole_ruleset && !whole {
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

/// The findings of lint `code` alone on `text`, which must load: for the rules' own tests.
#[cfg(test)]
pub(crate) fn findings_of(code: &str, text: &str) -> (Arc<SourceFile>, Vec<Diagnostic>) {
    let file = SourceFile::new("t", text);
    let loaded = crate::ir::load(&file);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let input = LintInput {
        file: &file,
        ruleset: &loaded.ruleset,
        refused: &[],
    };
    let select = Selection {
        select: vec![code.into()],
        ignore: vec![],
    };
    let found = run(&input, &select);
    (file, found)
}

#[cfg(test)]
mod refused_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod witness_tests;
