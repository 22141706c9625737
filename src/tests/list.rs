//! `iptwalk list` against the real `iptables-legacy -L -v -n --line-numbers`.
//!
//! With root and the iptables-legacy tools (otherwise a note and a pass, like
//! tests/corpus.rs):
//! - every `.v4` of `../shared/corpus/rulesets`, `testdata/rules` and every
//!   scenario's `rules.v4` is restored with `-c` (so the file's `[p:b]`
//!   counters are the kernel's too) and each of its tables listed, with and
//!   without `-x`;
//! - every scenario's `counters.txt` (the kernel's `iptables-save -c` after the
//!   oracle's real replay; testdata/scenarios and testdata/timeouts) is
//!   restored and listed, and compared with `iptwalk
//!   list --counters-from-replay` of the scenario's rules, capture and host
//!   options (the binary, end to end);
//! - `testdata/rules/list/extensions.sh` (rules for every extension) is run
//!   command by command; the commands the kernel accepts are listed by both.
//!
//! Without root, insta snapshots of `iptwalk list` keep the format in check.

#[path = "common/mod.rs"]
#[macro_use]
mod common;

use common::iptwalk;

use common::netns::{self, Netns};
use iptwalk::ir::{self, Ruleset, Table, TableKind};
use iptwalk::report::list::{list_table, ListOptions};
use iptwalk::source::SourceFile;
use iptwalk::syntax::ast::Item;
use std::path::{Path, PathBuf};

/// The kernel's listing of one table.
fn kernel_list(ns: &Netns, table: &str, exact: bool) -> String {
    let mut args = vec!["-t", table, "-L", "-v", "-n", "--line-numbers"];
    if exact {
        args.push("-x");
    }
    String::from_utf8_lossy(&ns.run("iptables-legacy", &args, None).stdout).into_owned()
}

/// Ours, for a table of the ruleset (the kernel's empty one when absent).
fn our_list(rs: &Ruleset, kind: TableKind, exact: bool) -> String {
    let empty = Table::new(kind);
    let table = rs.table(kind).unwrap_or(&empty);
    list_table(table, ListOptions { exact, chain: None }).unwrap_or_else(|e| e.to_string())
}

/// The first differing line, for the failure message.
fn first_difference(kernel: &str, ours: &str) -> String {
    for (k, o) in kernel.lines().zip(ours.lines()) {
        if k != o {
            return format!("\n  kernel : {k:?}\n  iptwalk: {o:?}");
        }
    }
    format!(
        "\n  {} kernel lines, {} iptwalk lines",
        kernel.lines().count(),
        ours.lines().count()
    )
}

/// Compares every table the ruleset has (or `kinds`), with and without -x.
fn compare(ns: &Netns, rs: &Ruleset, kinds: &[TableKind]) -> Result<usize, String> {
    let mut n = 0;
    for kind in kinds {
        for exact in [false, true] {
            let (k, o) = (
                kernel_list(ns, kind.name(), exact),
                our_list(rs, *kind, exact),
            );
            if k != o {
                return Err(format!(
                    "table {} (-x: {exact}){}",
                    kind.name(),
                    first_difference(&k, &o)
                ));
            }
            n += 1;
        }
    }
    Ok(n)
}

fn v4_files() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = common::corpus_dir("rulesets").into_iter().collect();
    dirs.push(common::testdata("rules"));
    dirs.push(common::testdata("rules/diff"));
    dirs.push(common::testdata("rules/list"));
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "v4"))
        .collect();
    files.extend(scenario_dirs().iter().map(|d| d.join("rules.v4")));
    files.sort();
    files
}

/// Kernel-truth cases with `case.json`, `rules.v4`, a capture and the
/// kernel's `counters.txt`: testdata/scenarios and testdata/timeouts.
fn scenario_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = ["scenarios", "timeouts"]
        .iter()
        .flat_map(|d| std::fs::read_dir(common::testdata(d)).into_iter().flatten())
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn tables_of(rs: &Ruleset) -> Vec<TableKind> {
    rs.tables.iter().map(|t| t.kind).collect()
}

#[test]
fn rule_files_list_as_iptables_legacy_does() {
    if let Some(why) = netns::unavailable() {
        eprintln!("note: {why}: list comparison with iptables-legacy skipped");
        return;
    }
    let (mut tables, mut skipped, mut failures) = (0, 0, Vec::new());
    for path in v4_files() {
        let text = std::fs::read_to_string(&path).expect("read rules");
        let file = SourceFile::new(path.display().to_string(), text);
        let loaded = ir::load(&file);
        let ns = Netns::new("list").expect("create a network namespace");
        let real = ns.run("iptables-legacy-restore", &["-c"], Some(&file.text));
        if !real.status.success() || loaded.has_errors() {
            // Whether both refuse the same files is tests/corpus.rs' question.
            skipped += 1;
            continue;
        }
        match compare(&ns, &loaded.ruleset, &tables_of(&loaded.ruleset)) {
            Ok(n) => tables += n,
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    println!("identical listings {tables}, files not loaded {skipped}");
    assert!(tables > 0, "nothing was compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `iptwalk list` options for a scenario's capture and host, as the oracle
/// ran it (see testdata/scenarios/README.md).
fn replay_args(dir: &Path) -> Option<Vec<String>> {
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).ok()?).ok()?;
    let pcap = match case["pcap"].as_str() {
        Some(p) if p.starts_with("corpus:") => common::corpus_dir("pcaps")?.join(&p[7..]),
        _ => dir.join("trace.pcap"),
    };
    if !pcap.is_file() {
        return None;
    }
    let mut args = vec![
        "--counters-from-replay".to_string(),
        pcap.display().to_string(),
    ];
    let joined = |key: &str| {
        case[key].as_array().map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    for key in ["local", "lan"] {
        if let Some(v) = joined(key).filter(|v| !v.is_empty()) {
            args.extend([format!("--{key}"), v]);
        }
    }
    for (k, v) in case["sysctl"].as_object().into_iter().flatten() {
        args.extend(["--sysctl".to_string(), format!("{k}={v}")]);
    }
    if case["fix_checksums"].as_bool().unwrap_or(true) {
        args.push("--trust-checksums".to_string());
    }
    if let Some(sets) = case["ipset"].as_str() {
        args.extend(["--ipset".to_string(), dir.join(sets).display().to_string()]);
    }
    Some(args)
}

#[test]
fn replay_counters_list_as_the_kernel_counted() {
    if let Some(why) = netns::unavailable() {
        eprintln!("note: {why}: counter listing comparison skipped");
        return;
    }
    let (mut listings, mut skipped, mut failures) = (0, 0, Vec::new());
    for dir in scenario_dirs() {
        let (Some(args), Ok(counters)) = (
            replay_args(&dir),
            std::fs::read_to_string(dir.join("counters.txt")),
        ) else {
            skipped += 1;
            continue;
        };
        let ns = Netns::new("listc").expect("create a network namespace");
        // The sets the rules name exist before the rules load, as in the
        // kernel run (testdata/scenarios/with_ipset.py).
        if let Some(pos) = args.iter().position(|a| a == "--ipset") {
            let sets = std::fs::read_to_string(&args[pos + 1]).unwrap_or_default();
            if !ns.run("ipset", &["restore"], Some(&sets)).status.success() {
                failures.push(format!("{}: ipset restore failed", dir.display()));
                continue;
            }
        }
        if !ns
            .run("iptables-legacy-restore", &["-c"], Some(&counters))
            .status
            .success()
        {
            failures.push(format!("{}: counters.txt does not load", dir.display()));
            continue;
        }
        let rules = dir.join("rules.v4").display().to_string();
        for t in counters.lines().filter_map(|l| l.strip_prefix('*')) {
            for exact in [false, true] {
                let mut argv: Vec<&str> = vec!["list", "-t", t, &rules];
                argv.extend(args.iter().map(String::as_str));
                if exact {
                    argv.push("-x");
                }
                let (code, ours, err) = iptwalk(&argv);
                let kernel = kernel_list(&ns, t, exact);
                if code != 0 || ours != kernel {
                    failures.push(format!(
                        "{} {t} -x:{exact} (exit {code}) {err}{}",
                        dir.display(),
                        first_difference(&kernel, &ours)
                    ));
                }
                listings += 1;
            }
        }
    }
    println!("counter listings compared {listings}, scenarios without capture {skipped}");
    assert!(listings > 0, "nothing was compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The commands of `extensions.sh` the kernel accepts, as a script text.
fn accepted_commands(ns: &Netns, file: &std::sync::Arc<SourceFile>) -> (String, usize) {
    let mut diags = Vec::new();
    let rf = iptwalk::syntax::parse(file, &mut diags);
    let (mut text, mut refused) = (String::new(), 0);
    for item in &rf.items {
        let Item::Command(cmd) = item else { continue };
        let argv: Vec<&str> = cmd.args.iter().map(|t| t.as_str()).collect();
        if ns.run("iptables-legacy", &argv, None).status.success() {
            let (start, end) = (cmd.line.start as usize, cmd.line.end as usize);
            text.push_str(file.text.get(start..end).unwrap_or(""));
            text.push('\n');
        } else {
            refused += 1;
        }
    }
    (text, refused)
}

#[test]
fn every_extension_lists_as_iptables_legacy_does() {
    if let Some(why) = netns::unavailable() {
        eprintln!("note: {why}: extension listing comparison skipped");
        return;
    }
    let path = common::testdata("rules/list/extensions.sh");
    let text = std::fs::read_to_string(&path).expect("read extensions.sh");
    let file = SourceFile::new("extensions.sh", text);
    let ns = Netns::new("listx").expect("create a network namespace");
    // The sets and accounting objects the rules name (without the ipset and
    // nfacct tools those rules are refused, and left out on both sides).
    for (prog, args) in [
        ("ipset", &["create", "foo", "hash:ip"][..]),
        ("ipset", &["create", "bar", "hash:ip,port"][..]),
        ("nfacct", &["add", "n1"][..]),
        ("nfacct", &["add", "a b"][..]),
    ] {
        ns.run(prog, args, None);
    }
    let (accepted, refused) = accepted_commands(&ns, &file);
    let loaded = ir::load(&SourceFile::new("accepted.sh", accepted));
    assert!(
        !loaded.has_errors(),
        "iptwalk refuses rules the kernel took: {:?}",
        loaded.diagnostics.first().map(|d| &d.message)
    );
    println!(
        "{} rules loaded, {refused} refused by this kernel",
        loaded.ruleset.rule_count()
    );
    assert!(loaded.ruleset.rule_count() > 500, "too few rules loaded");
    let kinds = [
        TableKind::Filter,
        TableKind::Nat,
        TableKind::Mangle,
        TableKind::Raw,
    ];
    if let Err(e) = compare(&ns, &loaded.ruleset, &kinds) {
        panic!("extensions.sh: {e}");
    }
}

#[test]
fn list_snapshots() {
    let (code, out, _) = iptwalk(&["list", "testdata/rules/example.v4"]);
    assert_eq!(code, 0);
    snap!("list-example", out);
    // The file's [p:b] counters, abbreviated and exact.
    let counters = "testdata/scenarios/hm_user_chains/counters.txt";
    snap!("list-counters", iptwalk(&["list", counters]).1);
    snap!("list-counters-exact", iptwalk(&["list", "-x", counters]).1);
    let sizes = "testdata/rules/list/counters.v4";
    snap!("list-counters-sizes", iptwalk(&["list", sizes]).1);
    snap!(
        "list-counters-sizes-exact",
        iptwalk(&["list", "-x", sizes]).1
    );
    let (code, out, _) = iptwalk(&[
        "list",
        "-t",
        "nat",
        "testdata/scenarios/hm_nat_ranges/rules.v4",
    ]);
    assert_eq!(code, 0);
    snap!("list-nat", out);
    let (code, out, _) = iptwalk(&[
        "list",
        "testdata/scenarios/hm_user_chains/rules.v4",
        "INPUT",
        "--counters-from-replay",
        "testdata/scenarios/hm_user_chains/trace.pcap",
        "--local",
        "10.0.0.104",
        "--trust-checksums",
    ]);
    assert_eq!(code, 0);
    snap!("list-replay", out);
    let (code, out, _) = iptwalk(&["list", "--all-tables", "testdata/rules/list/extensions.sh"]);
    assert_eq!(code, 0);
    snap!("list-extensions", out);
}

#[test]
fn unknown_chain_and_table_exit_2() {
    let (code, _, err) = iptwalk(&["list", "testdata/rules/example.v4", "NOPE"]);
    assert_eq!(code, 2);
    assert!(err.contains("No chain/target/match by that name."), "{err}");
    let (code, _, err) = iptwalk(&["list", "-t", "nope", "testdata/rules/example.v4"]);
    assert_eq!(code, 2);
    assert!(err.contains("Table does not exist"), "{err}");
}

#[test]
fn readme_list_example_runs_as_shown() {
    let readme = std::fs::read_to_string(common::testdata("../README.md")).expect("README.md");
    let mut checked = 0;
    for block in readme.split("```console\n").skip(1) {
        let block = block.split("```").next().unwrap_or("");
        let mut lines = block.lines();
        let mut cmd = lines
            .next()
            .unwrap_or("")
            .trim_start_matches("$ ")
            .to_string();
        while let Some(stripped) = cmd.strip_suffix('\\') {
            cmd = format!("{stripped} {}", lines.next().unwrap_or("").trim());
        }
        let words: Vec<&str> = cmd.split_whitespace().collect();
        if words.get(..2) != Some(&["iptwalk", "list"][..]) {
            continue;
        }
        let shown: String = lines.map(|l| format!("{l}\n")).collect();
        let (code, out, err) = iptwalk(&words[1..]);
        assert_eq!((code, out.as_str()), (0, shown.as_str()), "{cmd}\n{err}");
        checked += 1;
    }
    assert_eq!(checked, 1);
}
