//! Fixture suite: every `testdata/lint/IPTnnn-*.rules` file must raise its
//! own lint (snapshotted with insta), and `clean.rules` must raise nothing.

use super::{run, run_loaded, LintInput, Selection};
use crate::report::diagnostics::render_all;
use crate::source::SourceFile;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/lint")
}

fn lint_file(name: &str, selection: &Selection) -> String {
    let path = fixtures().join(name);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    let file = SourceFile::new(format!("testdata/lint/{name}"), text);
    let loaded = crate::ir::load(&file);
    let outcome = run_loaded(&file, &loaded, selection);
    assert!(
        outcome.input_errors.is_empty(),
        "{name} must be readable: {:?}",
        outcome.input_errors
    );
    render_all(&outcome.diagnostics, false)
}

#[test]
fn every_lint_has_a_fixture_that_raises_it() {
    for lint in super::rules::ALL {
        let prefix = format!("{}-{}", lint.meta.code, lint.meta.name);
        let name = format!("{prefix}.rules");
        assert!(
            fixtures().join(&name).exists(),
            "missing fixture testdata/lint/{name}"
        );
        let selection = Selection {
            select: vec![lint.meta.code.to_string()],
            ignore: vec![],
        };
        let text = lint_file(&name, &selection);
        assert!(
            text.contains(&format!("[{}]", lint.meta.code)),
            "{name} does not raise {}",
            lint.meta.code
        );
        insta::with_settings!({snapshot_path => "../../testdata/snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("lint-{prefix}"), text);
        });
    }
}

#[test]
fn clean_fixture_stays_clean() {
    let text = lint_file("clean.rules", &Selection::default());
    assert_eq!(text, "", "clean.rules raised findings");
}

#[test]
fn suppression_comment_silences_only_its_code() {
    let text = "*filter\n:INPUT ACCEPT [0:0]\n# iptwalk: ignore[IPT502]\n-A INPUT -m state --state NEW -j ACCEPT\n-A INPUT -m state --state NEW -j ACCEPT\nCOMMIT\n";
    let file = SourceFile::new("t", text);
    let loaded = crate::ir::load(&file);
    let found = run(
        &LintInput {
            file: &file,
            ruleset: &loaded.ruleset,
            refused: &[],
        },
        &Selection::default(),
    );
    let codes: Vec<_> = found
        .iter()
        .map(|d| {
            (
                d.code.unwrap_or(""),
                file.line_col(d.span.start as usize).line,
            )
        })
        .collect();
    assert_eq!(codes, [("IPT205", 5), ("IPT502", 5)]);
}
