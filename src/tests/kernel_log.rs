//! `iptwalk replay --log` against the real kernel: every case under testdata/kernel_log
//! (made by its make.py: the oracle with `nf_log_all_netns=1`, the LOG lines read back from
//! dmesg) is replayed by the binary, and the `log` arrays of its jsonl records, in capture
//! order, must equal the kernel's lines byte for byte (dmesg timestamps excepted). The
//! per-packet verdicts of the same run are compared too, and the text format must show the
//! same lines.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `iptwalk replay` of one case directory with `extra` arguments; stdout.
fn replay(dir: &Path, extra: &[&str]) -> String {
    let case: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).expect("case.json"))
            .expect("case.json is JSON");
    let list = |k: &str| -> String {
        case[k]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default()
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iptwalk"));
    cmd.arg("replay")
        .arg(dir.join("rules.v4"))
        .arg(dir.join("trace.pcap"))
        .args(["--local", &list("local"), "--trust-checksums"]);
    let lan = list("lan");
    if !lan.is_empty() {
        cmd.args(["--lan", &lan]);
    }
    let out = cmd.args(extra).output().expect("iptwalk runs");
    assert!(
        out.status.success(),
        "{}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/kernel_log"))
        .expect("testdata/kernel_log")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("kernel.log").exists())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn log_lines_are_the_kernels() {
    let dirs = cases();
    assert!(dirs.len() >= 4, "kernel_log cases missing");
    let mut total = 0;
    for dir in dirs {
        let kernel = std::fs::read_to_string(dir.join("kernel.log")).expect("kernel.log");
        let jsonl = replay(&dir, &["--log", "--format", "jsonl"]);
        let records: Vec<Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).expect("jsonl"))
            .collect();
        let ours: String = records
            .iter()
            .flat_map(|r| r["log"].as_array().cloned().unwrap_or_default())
            .map(|l| format!("{}\n", l.as_str().unwrap_or("")))
            .collect();
        for (i, (o, k)) in ours.lines().zip(kernel.lines()).enumerate() {
            assert_eq!(o, k, "{}: line {}", dir.display(), i + 1);
        }
        assert_eq!(ours, kernel, "{}: line count differs", dir.display());
        total += kernel.lines().count();

        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("kernel.json")).expect("kernel.json"),
        )
        .expect("kernel.json is JSON");
        let want = want["packets"].as_array().expect("packets");
        assert_eq!(records.len(), want.len(), "{}", dir.display());
        for (got, want) in records.iter().zip(want) {
            for key in ["hook", "verdict", "ctstate", "ctdir"] {
                assert_eq!(
                    got.get(key).unwrap_or(&Value::Null),
                    &want[key],
                    "{} packet {}: {key}",
                    dir.display(),
                    want["index"]
                );
            }
        }

        // The text report shows the same lines under their packets.
        let text = replay(&dir, &["--log"]);
        let shown: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("        LOG: "))
            .collect();
        assert_eq!(
            shown,
            kernel.lines().collect::<Vec<_>>(),
            "{}",
            dir.display()
        );
    }
    assert!(total >= 69, "only {total} kernel lines compared");
}

#[test]
fn without_log_flag_records_have_no_log_field() {
    let dir = root().join("testdata/kernel_log/log_main");
    let jsonl = replay(&dir, &["--format", "jsonl"]);
    assert!(!jsonl.contains("\"log\""));
    assert!(!replay(&dir, &[]).contains("LOG: "));
}

#[test]
fn text_report_with_log_lines() {
    let text = replay(&root().join("testdata/kernel_log/log_nat"), &["--log"]);
    insta::with_settings!({snapshot_path => "../../testdata/snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("replay-text-log", text);
    });
}
