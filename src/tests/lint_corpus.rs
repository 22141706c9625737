//! `iptwalk lint` over every IPv4 file of `../shared/corpus/rulesets`: the
//! findings counted by code per file, snapshotted, so a lint that starts (or
//! stops) firing on real rulesets shows up in review. Each finding counted
//! here was read and judged true when the snapshot was accepted.
//!
//! `.v6` files are skipped; files iptwalk cannot read as iptables input at
//! all are listed as `input error`; commands iptables refuses count under
//! their IPT1xx code, and the other lints run as `iptwalk lint` runs them. The
//! TUM dumps' anonymised `XX:XX:XX:XX:XX:XX` MACs are replaced by a valid
//! one, as in the benchmarks, so that they load. Without `../shared` the
//! test prints a note and passes.

use iptwalk::lint::{self, Selection};
use iptwalk::source::SourceFile;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

#[test]
fn corpus_finding_counts() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/rulesets");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("note: {} not found; skipping", dir.display());
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".v6"))
        .collect();
    names.sort();
    let mut out = String::new();
    for name in names {
        let Ok(text) = std::fs::read_to_string(dir.join(&name)) else {
            continue;
        };
        let text = text.replace("XX:XX:XX:XX:XX:XX", "02:00:00:00:00:01");
        let file = SourceFile::new(name.clone(), text);
        let loaded = iptwalk::ir::load(&file);
        let outcome = lint::run_loaded(&file, &loaded, &Selection::default());
        if !outcome.input_errors.is_empty() {
            let _ = writeln!(out, "{name}: input error");
            continue;
        }
        let found: Vec<_> = outcome
            .diagnostics
            .iter()
            .filter(|d| d.code.is_some())
            .collect();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for d in found {
            *counts.entry(d.code.unwrap_or("?")).or_default() += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(c, n)| format!("{c}={n}")).collect();
        let _ = writeln!(out, "{name}: {}", counts.join(" "));
    }
    insta::with_settings!({snapshot_path => "../../testdata/snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("lint-corpus-counts", out);
    });
}
