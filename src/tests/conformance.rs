//! Upstream iptables `.t` conformance: every IPv4 line of the extension test
//! files (`libxt_*.t`, `libipt_*.t`, `iptables.t` from iptables 1.8.13) is
//! loaded as a one-rule restore file in each chain its `:CHAINS` line names
//! (and the table of its `*table` line) through `iptwalk::ir::load`, then
//! printed with `ir::save`, and compared with the line's expectation:
//! `OK` (accepted, saved as the second field, `=` meaning as written) or
//! `FAIL` (refused).
//!
//! The reference is iptables-legacy 1.8.9, not the upstream tree the files
//! come from. Where 1.8.9 legacy does something else than the `.t` line says,
//! the line is listed in `testdata/conformance/legacy-1.8.9-differences.tsv`
//! with what 1.8.9 does, and that is what we must do. Lines that only the
//! kernel can refuse (a runtime object such as an ipset or nfacct counter is
//! missing, or a module the test kernel lacks) are in
//! `testdata/conformance/kernel-only.tsv`: we may refuse them, or accept them
//! saved as the `.t` line says (as written, for a FAIL line). Both lists are generated from real runs by
//! `testdata/conformance/verify_t_files.sh` + `derive_lists.py`.
//!
//! The corpus lives outside the crate (`../shared/corpus/iptables-tests`,
//! searched upwards from the manifest directory, or `IPTWALK_CORPUS`); without
//! it the tests print a note and pass.

#[path = "common/mod.rs"]
mod common;

use common::tfile::{self, Expect, TCase};
use std::collections::BTreeMap;

/// What we did with one case: `None` = refused, `Some(rule)` = the saved rule
/// after `-A CHAIN `.
fn run_case(case: &TCase) -> Result<Option<String>, String> {
    let text = format!("*{}\n-A {} {}\nCOMMIT\n", case.table, case.chain, case.rule);
    let file = iptwalk::source::SourceFile::new(format!("{}:{}", case.file, case.line), text);
    let loaded = iptwalk::ir::load(&file);
    if loaded.has_errors() {
        let first = loaded
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| d.message.clone())
            .unwrap_or_default();
        return Err(first);
    }
    let saved = iptwalk::ir::save::save(&loaded.ruleset, Default::default());
    let prefix = format!("-A {}", case.chain);
    let rule = saved
        .lines()
        .find(|l| *l == prefix || l.starts_with(&format!("{prefix} ")))
        .map(|l| l[prefix.len()..].trim_start().to_string());
    Ok(rule)
}

/// One comparison: `Ok(())` when we do what the reference does.
fn judge(case: &TCase, expect: &Expect) -> Result<(), String> {
    match (expect, run_case(case)) {
        (Expect::Fail | Expect::Either(_), Err(_)) => Ok(()),
        (Expect::Fail, Ok(saved)) => Err(format!(
            "accepted (saved `{}`), reference refuses it",
            saved.unwrap_or_default()
        )),
        (Expect::Ok(_), Err(msg)) => Err(format!("refused ({msg}), reference accepts it")),
        (Expect::Ok(want) | Expect::Either(want), Ok(got)) => match got {
            Some(g) if &g == want => Ok(()),
            Some(g) => Err(format!("saved `{g}`, reference saves `{want}`")),
            None => Err(format!("no rule saved, reference saves `{want}`")),
        },
    }
}

/// The extension a case needs that the registry lacks (`-m NAME`, `-j NAME`
/// with NAME not a standard verdict), so failures can be grouped by cause.
fn missing_extension(rule: &str) -> Option<String> {
    let words: Vec<&str> = rule.split_whitespace().collect();
    let verdicts = ["ACCEPT", "DROP", "RETURN", "QUEUE"];
    words.windows(2).find_map(|w| match w {
        ["-m" | "--match", name] if !iptwalk::ext::MATCH_NAMES.contains(name) => {
            Some(format!("match {name}"))
        }
        ["-j" | "--jump", name]
            if !iptwalk::ext::TARGET_NAMES.contains(name) && !verdicts.contains(name) =>
        {
            Some(format!("target {name}"))
        }
        _ => None,
    })
}

/// For a failure with every extension present: the extensions the rule
/// uses (the likelier culprits), or "core" when it uses none.
fn present_extensions(rule: &str) -> String {
    let words: Vec<&str> = rule.split_whitespace().collect();
    let names: Vec<String> = words
        .windows(2)
        .filter_map(|w| match w {
            ["-m" | "--match", n] => Some(format!("match {n}")),
            ["-j" | "--jump", n] if iptwalk::ext::TARGET_NAMES.contains(n) => {
                Some(format!("target {n}"))
            }
            _ => None,
        })
        .collect();
    if names.is_empty() {
        "core".into()
    } else {
        format!("present {}", names.join(" + "))
    }
}

struct Tally {
    per_file: BTreeMap<String, (usize, usize)>,
    failures: Vec<String>,
    /// Failures per cause: a missing extension, or "core".
    causes: BTreeMap<String, usize>,
    /// Per `.t` line: whether it agreed in every chain.
    lines: BTreeMap<(String, usize), bool>,
    /// FAIL cases we refuse only because their extension is missing.
    hollow: usize,
}

fn run_all() -> Option<Tally> {
    let Some(dir) = common::corpus_dir("iptables-tests") else {
        eprintln!("note: ../shared/corpus/iptables-tests not found: .t conformance skipped");
        return None;
    };
    let cases = tfile::read_dir(&dir).expect("read .t files");
    let lists = tfile::Lists::load().expect("read testdata/conformance lists");
    let mut tally = Tally {
        per_file: BTreeMap::new(),
        failures: Vec::new(),
        causes: BTreeMap::new(),
        lines: BTreeMap::new(),
        hollow: 0,
    };
    for case in &cases {
        let expect = lists.expectation(case);
        let verdict = judge(case, &expect);
        let line_ok = tally
            .lines
            .entry((case.file.clone(), case.line))
            .or_insert(true);
        *line_ok &= verdict.is_ok();
        let entry = tally.per_file.entry(case.file.clone()).or_default();
        entry.1 += 1;
        let may_refuse = matches!(expect, Expect::Fail | Expect::Either(_));
        if verdict.is_ok() && may_refuse && missing_extension(&case.rule).is_some() {
            tally.hollow += 1;
        }
        match verdict {
            Ok(()) => entry.0 += 1,
            Err(why) => {
                let cause = missing_extension(&case.rule).map_or_else(
                    || present_extensions(&case.rule),
                    |e| format!("missing {e}"),
                );
                *tally.causes.entry(cause.clone()).or_default() += 1;
                tally.failures.push(format!(
                    "{}:{} [{} {}] {}: {} ({cause})",
                    case.file, case.line, case.table, case.chain, case.rule, why
                ));
            }
        }
    }
    Some(tally)
}

#[test]
fn t_files_agree_with_legacy_1_8_9() {
    let Some(tally) = run_all() else { return };
    let (agree, total) = tally
        .per_file
        .values()
        .fold((0, 0), |(a, t), (x, y)| (a + x, t + y));
    for f in &tally.failures {
        println!("DISAGREE {f}");
    }
    let lines_total = tally.lines.len();
    let lines_agree = tally.lines.values().filter(|ok| **ok).count();
    println!("{lines_agree} .t lines agree in every chain / {lines_total} lines");
    for (cause, n) in &tally.causes {
        println!("cause: {n:5} {cause}");
    }
    println!(
        "{agree} agree / {total} total ({} of them FAIL cases refused only for a missing extension)",
        tally.hollow
    );
    assert!(
        tally.failures.is_empty(),
        "{} of {total} .t cases disagree with iptables-legacy 1.8.9 (listed above as DISAGREE; \
         a missing extension shows as `Couldn't load match/target`)",
        tally.failures.len()
    );
}

/// Per-file counts, and the committed lists must name existing `.t` lines
/// (a list entry that no longer matches a line is stale).
#[test]
fn t_files_summary_and_lists_are_current() {
    let Some(dir) = common::corpus_dir("iptables-tests") else {
        eprintln!("note: corpus not found: summary skipped");
        return;
    };
    let cases = tfile::read_dir(&dir).expect("read .t files");
    assert!(
        !cases.is_empty(),
        "no IPv4 .t cases found in {}",
        dir.display()
    );
    let lists = tfile::Lists::load().expect("read testdata/conformance lists");
    let stale = lists.stale_entries(&cases);
    assert!(stale.is_empty(), "entries naming no .t case: {stale:#?}");
    let Some(tally) = run_all() else { return };
    for (file, (agree, total)) in &tally.per_file {
        println!("{file:32} {agree:4} / {total:4}");
    }
}
