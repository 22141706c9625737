//! Lint findings as JSON (stable fields) and SARIF 2.1.0.

use crate::diagnostic::Diagnostic;
use serde::Serialize;
use serde_json::json;

/// One finding in `iptwalk lint --format json` (fields never change meaning).
#[derive(Debug, Serialize)]
pub struct Finding<'a> {
    pub code: Option<&'a str>,
    pub name: Option<&'a str>,
    pub severity: &'a str,
    pub message: &'a str,
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub help: Option<&'a str>,
    pub fix: Option<FixOut<'a>>,
}

#[derive(Debug, Serialize)]
pub struct FixOut<'a> {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub replacement: &'a str,
    pub safe: bool,
}

pub fn finding(d: &Diagnostic) -> Finding<'_> {
    let start = d.file.line_col(d.span.start as usize);
    let end = d.file.line_col(d.span.end as usize);
    Finding {
        code: d.code,
        name: d.code.and_then(crate::lint::find).map(|l| l.meta.name),
        severity: d.severity.as_str(),
        message: &d.message,
        file: &d.file.name,
        line: start.line,
        column: start.col,
        end_line: end.line,
        end_column: end.col,
        help: d.help.as_deref(),
        fix: d.fix.as_ref().map(|f| {
            let s = d.file.line_col(f.span.start as usize);
            let e = d.file.line_col(f.span.end as usize);
            FixOut {
                line: s.line,
                column: s.col,
                end_line: e.line,
                end_column: e.col,
                replacement: &f.replacement,
                safe: f.safe,
            }
        }),
    }
}

/// `{"findings": [...], "summary": {"errors": n, "warnings": n, "notes": n}}`
pub fn json(diags: &[Diagnostic]) -> String {
    let findings: Vec<Finding> = diags.iter().map(finding).collect();
    let count = |s: &str| findings.iter().filter(|f| f.severity == s).count();
    let doc = json!({
        "findings": findings,
        "summary": {"errors": count("error"), "warnings": count("warning"), "notes": count("note")},
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// A SARIF 2.1.0 log with one run, the lint registry as the tool's rules.
pub fn sarif(diags: &[Diagnostic]) -> String {
    let rules: Vec<_> = crate::lint::rules::ALL
        .iter()
        .map(|l| {
            json!({
                "id": l.meta.code,
                "name": l.meta.name,
                "shortDescription": {"text": l.meta.summary},
                "fullDescription": {"text": l.meta.docs},
                "defaultConfiguration": {"level": sarif_level(l.meta.severity.as_str())},
            })
        })
        .collect();
    let results: Vec<_> = diags
        .iter()
        .map(|d| {
            let f = finding(d);
            let mut message = d.message.clone();
            if let Some(h) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(h);
            }
            json!({
                "ruleId": f.code.unwrap_or("iptables"),
                "level": sarif_level(f.severity),
                "message": {"text": message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.file},
                    "region": {"startLine": f.line, "startColumn": f.column,
                               "endLine": f.end_line, "endColumn": f.end_column}
                }}],
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "iptwalk",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/iptwalk/iptwalk",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn sarif_level(severity: &str) -> &'static str {
    match severity {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    }
}
