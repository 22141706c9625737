//! Whole rule files against the real iptables-legacy 1.8.9.
//!
//! Every `.v4` file of `../shared/corpus/rulesets` and
//! `../shared/corpus/iptables-tests/shell-dumps` is loaded into a fresh network
//! namespace with `iptables-legacy-restore`, saved with
//! `iptables-legacy-save`, and compared table by table with what `ir::load` +
//! `ir::save` print (`#` lines stripped). When the real tool refuses a file we
//! must refuse it too, naming the same line: legacy's "Error occurred at line:
//! N", or, where legacy can only name the COMMIT (the kernel refused the
//! table), the offending rule's line as `iptables-nft-restore` names it.
//!
//! Shell scripts (`.sh`) and `iptables -S` dumps (`.S`) are replayed command by
//! command with `iptables-legacy`: the commands are the ones *our* parser
//! found, with the variables it expanded, passed as argv (no shell), in a
//! throw-away namespace; then the resulting tables are compared the same way,
//! and the commands the real tool refused must be the ones we refused.
//!
//! `.v6` files must be refused with a message naming IPv6. The files of
//! `testdata/rules` (our own command-semantics cases) are compared the same way.
//!
//! Needs root, `ip` and the iptables-legacy tools; otherwise it prints a note
//! and passes.

#[path = "common/mod.rs"]
mod common;

use common::netns::{self, Netns};
use iptwalk::ir::{self, TableKind};
use iptwalk::source::{SourceFile, Span};
use iptwalk::syntax::ast::Item;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files the kernel refuses only because a runtime object is missing from
/// the test namespace: we accept them, as a host with the object would.
const RUNTIME_OBJECT_FILES: &[(&str, &str)] = &[
    (
        "k8s-kubeadm-1.11-weave-docker-node.v4",
        "-m set --match-set weave-... needs the ipsets Weave creates",
    ),
    (
        "kube-proxy-iptables-overall.v4",
        "-m nfacct --nfacct-name ... needs the nfacct objects kube-proxy creates",
    ),
];

fn corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["rulesets", "iptables-tests/shell-dumps"] {
        let Some(dir) = common::corpus_dir(sub) else {
            continue;
        };
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        files.extend(rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("v4" | "v6" | "sh" | "S")
            )
        }));
    }
    files.sort();
    // Our own inputs (command semantics cases, examples) go through the same
    // comparison.
    if let Ok(rd) = std::fs::read_dir(common::testdata("rules")) {
        let mut own: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        own.sort();
        files.extend(
            own.into_iter()
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("v4" | "sh"))),
        );
    }
    files
}

fn table_kinds() -> [TableKind; 5] {
    ["filter", "nat", "mangle", "raw", "security"].map(|n| TableKind::from_name(n).expect("table"))
}

/// Our save text of one table; a table the file never touched prints as the
/// kernel registers it.
fn our_table(rs: &ir::Ruleset, kind: TableKind) -> String {
    let mut out = String::new();
    match rs.table(kind) {
        Some(t) => ir::save::save_table(&mut out, t, Default::default()),
        None => ir::save::save_table(&mut out, &ir::Table::new(kind), Default::default()),
    }
    out
}

/// Compares every table either side has; `Err` carries a short diff.
fn compare_tables(ns: &Netns, rs: &ir::Ruleset) -> Result<(), String> {
    let all = netns::strip_comments(&String::from_utf8_lossy(
        &ns.run("iptables-legacy-save", &[], None).stdout,
    ));
    let theirs: BTreeSet<&str> = all.lines().filter_map(|l| l.strip_prefix('*')).collect();
    for kind in table_kinds() {
        if rs.table(kind).is_none() && !theirs.contains(kind.name()) {
            continue;
        }
        let real = ns.save_table(kind.name());
        let ours = our_table(rs, kind);
        if real != ours {
            let diff = similar::TextDiff::from_lines(&real, &ours);
            let text: String = diff
                .unified_diff()
                .header("iptables-legacy-save", "iptwalk")
                .to_string()
                .lines()
                .take(24)
                .map(|l| format!("    {l}\n"))
                .collect();
            return Err(format!("table {} differs:\n{text}", kind.name()));
        }
    }
    Ok(())
}

fn first_error_line(file: &Arc<SourceFile>, loaded: &ir::Loaded) -> Option<usize> {
    loaded
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .map(|d| file.line_col(d.span.start as usize).line)
}

/// The line the real tools blame for a refused restore file.
fn real_error_line(ns: &Netns, text: &str, stderr: &str) -> Option<usize> {
    let n = netns::error_line(stderr)?;
    let named = text.lines().nth(n.checked_sub(1)?).unwrap_or("");
    if named.trim() != "COMMIT" {
        return Some(n);
    }
    // Legacy commits a whole table at once and cannot say which rule the
    // kernel refused; the nft backend checks rule by rule and names it.
    let nft = ns.run("iptables-nft-restore", &[], Some(text));
    netns::error_line(&String::from_utf8_lossy(&nft.stderr)).or(Some(n))
}

fn check_restore(path: &Path, file: &Arc<SourceFile>) -> Result<String, String> {
    let loaded = ir::load(file);
    let ns = Netns::new("corpus").ok_or("cannot create a network namespace")?;
    let real = ns.run("iptables-legacy-restore", &[], Some(&file.text));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !real.status.success() {
        let stderr = String::from_utf8_lossy(&real.stderr);
        if let Some((_, why)) = RUNTIME_OBJECT_FILES.iter().find(|(f, _)| *f == name) {
            return match first_error_line(file, &loaded) {
                None => Ok(format!(
                    "accepted; the kernel needs a runtime object ({why})"
                )),
                Some(l) => Err(format!(
                    "refused at line {l}; the kernel only lacks a runtime object ({why})"
                )),
            };
        }
        let want = real_error_line(&ns, &file.text, &stderr);
        let got = first_error_line(file, &loaded);
        let ours = loaded.diagnostics.iter().find(|d| d.is_error());
        let ours = ours.map_or(String::new(), |d| format!(": {}", d.message));
        return match (want, got) {
            (Some(w), Some(g)) if w == g => Ok(format!("refused at line {w}, as iptables-restore")),
            (w, g) => Err(format!(
                "iptables-restore refuses it at line {w:?} ({}), we {}",
                stderr.lines().next().unwrap_or("").trim(),
                g.map_or("accept it".to_string(), |g| format!(
                    "refuse line {g}{ours}"
                ))
            )),
        };
    }
    if loaded.has_errors() {
        let d = loaded
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .expect("error");
        return Err(format!(
            "iptables-restore accepts it, we refuse line {}: {}{}",
            file.line_col(d.span.start as usize).line,
            d.message,
            without_refused_lines(file, &loaded)
        ));
    }
    compare_tables(&ns, &loaded.ruleset).map(|()| "identical".into())
}

/// Extra evidence while extensions are missing: the file with the lines we
/// refuse blanked out (line numbers kept), compared again. Reported in the
/// message only; the file still counts as a mismatch.
fn without_refused_lines(file: &Arc<SourceFile>, loaded: &ir::Loaded) -> String {
    let bad: BTreeSet<usize> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| file.line_col(d.span.start as usize).line)
        .collect();
    let text: String = file
        .text
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| if bad.contains(&(i + 1)) { "\n" } else { l })
        .collect();
    let reduced = SourceFile::new(file.name.clone(), text.clone());
    let again = ir::load(&reduced);
    let Some(ns) = Netns::new("reduced") else {
        return String::new();
    };
    let real = ns.run("iptables-legacy-restore", &[], Some(&text));
    let verdict = match (real.status.success(), again.has_errors()) {
        (false, _) => "iptables-restore refuses the rest".to_string(),
        (true, true) => "we still refuse some of the rest".to_string(),
        (true, false) => match compare_tables(&ns, &again.ruleset) {
            Ok(()) => "the rest is identical".to_string(),
            Err(e) => format!("the rest differs: {e}"),
        },
    };
    format!("\n    without the {} refused lines: {verdict}", bad.len())
}

/// Replays the commands we parsed with the real `iptables-legacy`.
/// The `iptables` argv of each command we parsed, with its first line and
/// its source span.
fn script_commands(file: &Arc<SourceFile>) -> Vec<(usize, Vec<String>, Span)> {
    let mut diags = Vec::new();
    let rf = iptwalk::syntax::parse(file, &mut diags);
    let mut out = Vec::new();
    for item in &rf.items {
        let Item::Command(cmd) = item else { continue };
        let mut args: Vec<String> = cmd.args.iter().map(|t| t.text.to_string()).collect();
        let has_t = args.iter().any(|a| a == "-t" || a.starts_with("--table"));
        if let (Some(t), false) = (&cmd.table, has_t) {
            args.splice(0..0, ["-t".to_string(), t.text.to_string()]);
        }
        out.push((file.line_col(cmd.line.start as usize).line, args, cmd.line));
    }
    out
}

/// Runs the commands (but those at `skip` lines) with iptables-legacy;
/// the lines of the ones it refused.
fn replay(
    ns: &Netns,
    cmds: &[(usize, Vec<String>, Span)],
    skip: &BTreeSet<usize>,
) -> BTreeSet<usize> {
    let mut failed = BTreeSet::new();
    for (line, args, _) in cmds.iter().filter(|(l, _, _)| !skip.contains(l)) {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        if !ns.run("iptables-legacy", &argv, None).status.success() {
            failed.insert(*line);
        }
    }
    failed
}

/// Replays the commands we parsed with the real `iptables-legacy`.
fn check_script(file: &Arc<SourceFile>) -> Result<String, String> {
    let loaded = ir::load(file);
    let cmds = script_commands(file);
    let ns = Netns::new("script").ok_or("cannot create a network namespace")?;
    let real_fail = replay(&ns, &cmds, &BTreeSet::new());
    // An error is counted at the first line of the command holding it (a
    // command may span lines with `\` continuations).
    let command_line = |at: u32| {
        cmds.iter()
            .find(|(_, _, span)| span.start <= at && at <= span.end)
            .map_or(file.line_col(at as usize).line, |(l, _, _)| *l)
    };
    let ours_fail: BTreeSet<usize> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| command_line(d.span.start))
        .collect();
    if real_fail != ours_fail {
        let extra: Vec<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (command_line(d.span.start), &d.message))
            .filter(|(l, _)| !real_fail.contains(l))
            .map(|(l, m)| format!("\n    we refuse line {l}: {m}"))
            .collect();
        // Extra evidence while extensions are missing: the real tables
        // without the commands we refused.
        let rest = Netns::new("script-rest").map_or(String::new(), |ns2| {
            let skipped: BTreeSet<usize> = ours_fail.difference(&real_fail).copied().collect();
            let still = replay(&ns2, &cmds, &skipped);
            let verdict = match compare_tables(&ns2, &loaded.ruleset) {
                Ok(()) if still.is_subset(&ours_fail) => "the rest is identical".to_string(),
                Ok(()) => format!("tables identical, but iptables now refuses {still:?}"),
                Err(e) => format!("the rest differs: {e}"),
            };
            format!(
                "\n    without the {} commands only we refuse: {verdict}",
                skipped.len()
            )
        });
        return Err(format!(
            "iptables refuses the commands at lines {real_fail:?}, we refuse {ours_fail:?}{}{rest}",
            extra.concat()
        ));
    }
    let count = cmds.len();
    compare_tables(&ns, &loaded.ruleset).map(|()| format!("identical ({count} commands replayed)"))
}

fn check_v6(file: &Arc<SourceFile>) -> Result<String, String> {
    let loaded = ir::load(file);
    match loaded.diagnostics.iter().find(|d| d.is_error()) {
        Some(d) if d.message.contains("IPv6") => Ok("refused as IPv6".into()),
        Some(d) => Err(format!("refused, but not as IPv6: {}", d.message)),
        None => Err("an ip6tables file was accepted".into()),
    }
}

#[test]
fn corpus_files_match_iptables_legacy() {
    let files = corpus_files();
    if files.is_empty() {
        eprintln!("note: ../shared/corpus not found: corpus comparison skipped");
        return;
    }
    let tools = netns::unavailable();
    if let Some(why) = &tools {
        eprintln!("note: {why}: only the .v6 refusals are checked");
    }
    let (mut identical, mut total, mut failures) = (0, 0, Vec::new());
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let text = std::fs::read_to_string(path).expect("read corpus file");
        let file = SourceFile::new(name, text);
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let result = match (ext, &tools) {
            ("v6", _) => check_v6(&file),
            (_, Some(_)) => continue,
            ("v4", None) => check_restore(path, &file),
            (_, None) => check_script(&file),
        };
        total += 1;
        match result {
            Ok(what) => {
                identical += 1;
                println!("ok       {name}: {what}");
            }
            Err(why) => {
                println!("MISMATCH {name}: {why}");
                failures.push(name.to_string());
            }
        }
    }
    println!("identical {identical} / total {total}");
    assert!(
        failures.is_empty(),
        "files that differ from iptables-legacy: {failures:?}"
    );
}
