//! `replay --jobs N` must print exactly what one engine prints.
//!
//! Every kernel-truth scenario under testdata/scenarios (rules, capture,
//! host, sysctls, ipsets as tests/scenarios.rs runs them) is replayed through
//! [`parallel::replay`] with 1, 2 and 3 workers, with full records (trace and
//! LOG lines kept) and verdicts-only ones; the jsonl lines and the final
//! counters (`iptables-save -c`) must be byte-identical. Then the binary runs
//! every scenario over a capture of the shared corpus with `--jobs 1` and
//! `--jobs 2` in every format with `--log`, `--counters` and `--split`, and
//! every output file must be identical.

use iptwalk::conntrack::Params;
use iptwalk::eval::engine::{Options, Step};
use iptwalk::eval::host::Host;
use iptwalk::eval::parallel::{self, Item, Plan, Setup, Source};
use iptwalk::ir::{addr, Ruleset};
use iptwalk::packet::CaptureReader;
use iptwalk::source::SourceFile;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One scenario's inputs, as tests/scenarios.rs reads them.
struct Scenario {
    dir: PathBuf,
    case: Value,
    pcap: PathBuf,
    rules: Ruleset,
    host: Host,
    params: Params,
    ipsets: Option<iptwalk::ipset::Sets>,
}

fn strings(case: &Value, key: &str, dir: &Path, file: &str) -> Vec<String> {
    match case[key].as_array() {
        Some(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        None => std::fs::read_to_string(dir.join(file))
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
    }
}

fn load(dir: &Path) -> Option<Scenario> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name));
    let case: Value = read("case.json")
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let pcap = match case["pcap"].as_str() {
        Some(p) if p.starts_with("corpus:") => root().join("../shared/corpus/pcaps").join(&p[7..]),
        _ => dir.join("trace.pcap"),
    };
    if !pcap.exists() {
        return None;
    }
    let loaded = iptwalk::ir::load(&SourceFile::new("rules.v4", read("rules.v4").ok()?));
    assert!(!loaded.has_errors(), "{}: rules do not load", dir.display());
    let local: Vec<std::net::Ipv4Addr> = strings(&case, "local", dir, "local.txt")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let lan: Vec<_> = strings(&case, "lan", dir, "lan.txt")
        .iter()
        .filter_map(|s| addr::parse_one(s).ok())
        .collect();
    let mut params = Params::default();
    params.raise_all_timeouts(86_400);
    for (k, v) in case["sysctl"].as_object().into_iter().flatten() {
        params.set(k, v.as_i64().unwrap_or(0)).expect("sysctl");
    }
    let ipsets = case["ipset"]
        .as_str()
        .map(|f| iptwalk::ipset::parse(&read(f).expect("ipset file")).expect("ipset save"));
    Some(Scenario {
        dir: dir.to_path_buf(),
        pcap,
        rules: loaded.ruleset,
        host: Host::oracle(&local, &lan),
        params,
        ipsets,
        case,
    })
}

/// How the workers read the capture.
#[derive(Clone, Copy)]
enum Read {
    File,
    Stream,
}

/// The jsonl lines and the saved counters of one replay.
fn replay(s: &Scenario, plan: &Plan, verdicts_only: bool, how: Read) -> (String, String) {
    let opts = Options {
        trust_checksums: s.case["fix_checksums"].as_bool().unwrap_or(true),
        trace: !verdicts_only,
        verdicts_only,
        ipsets: s.ipsets.clone(),
        log: true,
        walk_every_packet: false,
    };
    let setup = Setup {
        rs: &s.rules,
        host: s.host.clone(),
        params: s.params,
        opts,
    };
    let (mut out, mut sent) = (String::new(), 0u64);
    // Each record's line goes in capture order; each worker also counts its
    // records' bytes, which must add up to one engine's count.
    let render = |bytes: &mut u64, _: &iptwalk::packet::Frame, r: &Step| {
        let line = serde_json::to_string(&*r.record()).expect("record serializes");
        *bytes += line.len() as u64;
        Some(line)
    };
    let sink = |item: Item<String>| {
        match item {
            Item::Record(line) => {
                sent += line.len() as u64;
                out.push_str(&line);
            }
            Item::Error(e) => out.push_str(&format!("error {e}")),
            Item::Progress(_) => return true,
        }
        out.push('\n');
        true
    };
    let source = match how {
        Read::File => Source::File(&s.pcap),
        Read::Stream => Source::Stream(Box::new(std::fs::File::open(&s.pcap).expect("capture"))),
    };
    let done = parallel::replay(source, setup, plan, |_| 0u64, render, sink);
    assert_eq!(done.states.len(), plan.workers);
    assert_eq!(done.states.iter().sum::<u64>(), sent, "workers' states");
    let counters = iptwalk::ir::save::save(
        &done.ruleset_with_counters(&s.rules),
        iptwalk::ir::save::SaveOptions { counters: true },
    );
    (out, counters)
}

fn scenario_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/scenarios"))
        .expect("scenario directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("rules.v4").exists())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_scenario_replays_identically_on_several_workers() {
    let (mut checked, mut sharded, mut records) = (0, 0, 0);
    for dir in scenario_dirs() {
        let Some(s) = load(&dir) else { continue };
        for verdicts_only in [false, true] {
            let one = replay(&s, &parallel::plan(&s.rules, 1), verdicts_only, Read::File);
            // Two workers dealt from the file, three from a stream.
            for (jobs, how) in [(2, Read::File), (3, Read::Stream)] {
                let plan = parallel::plan(&s.rules, jobs);
                let many = replay(&s, &plan, verdicts_only, how);
                let name = dir.display();
                assert!(
                    one.0 == many.0,
                    "{name}: records differ with {jobs} workers"
                );
                assert!(
                    one.1 == many.1,
                    "{name}: counters differ with {jobs} workers"
                );
                if plan.workers > 1 && !verdicts_only {
                    sharded += 1;
                    // A report per record: the merge waits at every record.
                    let tight = Plan {
                        batch: 1,
                        ..plan.clone()
                    };
                    let narrow = replay(&s, &tight, verdicts_only, how);
                    assert!(one == narrow, "{name}: differs with batches of 1");
                    // Every worker replays some pairs (the default may deal them all).
                    // And said to render nothing (they do render): reports come less often,
                    // never too late for the merge.
                    let in_turn = Plan {
                        spread: parallel::Spread::InTurn,
                        renders_nothing: true,
                        ..plan.clone()
                    };
                    let spread = replay(&s, &in_turn, verdicts_only, how);
                    assert!(one == spread, "{name}: differs with pairs dealt in turn");
                }
            }
        }
        checked += 1;
        records += one_count(&s);
    }
    println!(
        "{checked} scenarios ({records} records) identical with 1, 2 and 3 workers; {} sharded",
        sharded / 2
    );
    assert!(checked >= 150, "only {checked} scenarios found");
    assert!(
        sharded / 2 >= 100,
        "only {} scenarios ran sharded",
        sharded / 2
    );
}

fn one_count(s: &Scenario) -> usize {
    let mut reader = CaptureReader::open(&s.pcap).expect("capture");
    let mut n = 0;
    while reader.next_frame().is_some() {
        n += 1;
    }
    n
}

/// Every output of one `iptwalk replay` run: stdout, counters, split files.
fn cli_outputs(s: &Scenario, format: &str, jobs: &str, tmp: &Path) -> Vec<(String, Vec<u8>)> {
    let _ = std::fs::remove_dir_all(tmp);
    std::fs::create_dir_all(tmp).expect("tmp dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iptwalk"));
    cmd.arg("replay")
        .arg(s.dir.join("rules.v4"))
        .arg(&s.pcap)
        .args(["--format", format, "--jobs", jobs, "--log", "-q"])
        .arg("--counters")
        .arg(tmp.join("counters"))
        .arg("--split")
        .arg(tmp.join("split"));
    let local = strings(&s.case, "local", &s.dir, "local.txt");
    let lan = strings(&s.case, "lan", &s.dir, "lan.txt");
    if !local.is_empty() {
        cmd.arg("--local").arg(local.join(","));
    }
    if !lan.is_empty() {
        cmd.arg("--lan").arg(lan.join(","));
    }
    if s.case["fix_checksums"].as_bool().unwrap_or(true) {
        cmd.arg("--trust-checksums");
    }
    for (k, v) in s.case["sysctl"].as_object().into_iter().flatten() {
        cmd.arg("--sysctl").arg(format!("{k}={v}"));
    }
    if let Some(f) = s.case["ipset"].as_str() {
        cmd.arg("--ipset").arg(s.dir.join(f));
    }
    let out = cmd.output().expect("run iptwalk");
    let mut files = vec![
        ("stdout".to_string(), out.stdout),
        (
            "status".to_string(),
            vec![out.status.code().unwrap_or(-1) as u8],
        ),
    ];
    let mut split: Vec<_> = std::fs::read_dir(tmp.join("split"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    split.sort();
    for p in split.iter().chain([tmp.join("counters")].iter()) {
        files.push((
            p.display().to_string(),
            std::fs::read(p).unwrap_or_default(),
        ));
    }
    files
}

#[test]
fn the_cli_prints_the_same_with_two_jobs_in_every_format() {
    let tmp = std::env::temp_dir().join(format!("iptwalk-jobs-{}", std::process::id()));
    let mut runs = 0;
    for dir in scenario_dirs() {
        let Some(s) = load(&dir) else { continue };
        if !s.case["pcap"]
            .as_str()
            .is_some_and(|p| p.starts_with("corpus:"))
        {
            continue;
        }
        for format in ["text", "jsonl", "trace", "summary"] {
            let one = cli_outputs(&s, format, "1", &tmp.join("a"));
            let two = cli_outputs(&s, format, "2", &tmp.join("b"));
            assert_eq!(one.len(), two.len(), "{}: {format}: files", dir.display());
            for ((name, a), (_, b)) in one.iter().zip(&two) {
                let name = name.replace(&tmp.join("a").display().to_string(), "");
                assert!(
                    a == b,
                    "{}: --format {format}: {name} differs",
                    dir.display()
                );
            }
            runs += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    println!("{runs} corpus replays identical with --jobs 1 and --jobs 2");
    assert!(runs >= 100, "only {runs} runs");
}

/// A capture cut inside a record (fatal) and one ending in a record too large
/// to read (skipped, not fatal): every worker meets the error, one reports it,
/// in its place among the records.
#[test]
fn broken_captures_give_the_same_errors_in_the_same_place() {
    let dir = scenario_dirs()
        .into_iter()
        .filter_map(|d| load(&d))
        .find(|s| parallel::plan(&s.rules, 2).workers == 2 && one_count(s) >= 20)
        .expect("a sharded scenario with 20 records");
    let bytes = std::fs::read(&dir.pcap).expect("capture");
    let tmp = std::env::temp_dir().join(format!("iptwalk-broken-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let cut = tmp.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).expect("write");
    let mut huge = bytes.clone();
    // A record header claiming 16 MiB, then the end of the file.
    huge.extend_from_slice(&[0; 8]);
    huge.extend_from_slice(&(16u32 << 20).to_le_bytes());
    huge.extend_from_slice(&(16u32 << 20).to_le_bytes());
    let huge_path = tmp.join("huge.pcap");
    std::fs::write(&huge_path, &huge).expect("write");
    for (path, want) in [
        (&cut, "truncated packet data"),
        (&huge_path, "exceeds the limit"),
    ] {
        let s = Scenario {
            pcap: path.clone(),
            ..load(&dir.dir).expect("scenario")
        };
        let one = replay(&s, &parallel::plan(&s.rules, 1), false, Read::File);
        assert_eq!(one.0.matches("error ").count(), 1, "{}", one.0);
        assert!(
            one.0.lines().last().is_some_and(|l| l.contains(want)),
            "{}",
            one.0
        );
        for (jobs, how) in [(2, Read::File), (3, Read::Stream)] {
            let many = replay(&s, &parallel::plan(&s.rules, jobs), false, how);
            assert!(
                one == many,
                "{}: differs with {jobs} workers",
                path.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
