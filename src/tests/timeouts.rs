//! Conntrack timeouts that fire, against the real kernel: every case under testdata/timeouts
//! (made by its make.py, which runs the oracle at the capture's own pace with lowered
//! timeouts) is replayed by the binary with the same `--sysctl` values, and must agree per
//! packet on hook, verdict, ctstate, ctdir, the deciding rule and the entry afterwards (TCP
//! state and status bits, where the oracle could read the entry). Each case must also depend
//! on expiry: with the default timeouts some packet's ctstate or direction changes.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable"))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replays a case with the sysctls `keep` selects; one JSON value per record.
fn replay(dir: &Path, case: &Value, keep: impl Fn(&str) -> bool) -> Vec<Value> {
    let local: Vec<&str> = case["local"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iptwalk"));
    cmd.arg("replay")
        .arg(dir.join("rules.v4"))
        .arg(dir.join("trace.pcap"))
        .args(["--local", &local.join(","), "--format", "jsonl"]);
    for (k, v) in case["sysctl"].as_object().into_iter().flatten() {
        if keep(k) {
            cmd.args(["--sysctl", &format!("{k}={v}")]);
        }
    }
    let out = cmd.output().expect("iptwalk runs");
    assert!(
        out.status.success(),
        "{}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl"))
        .collect()
}

/// The first disagreement between our records and the kernel's.
fn disagreement(got: &[Value], want: &[Value]) -> Option<String> {
    if got.len() != want.len() {
        return Some(format!(
            "{} records, the kernel has {}",
            got.len(),
            want.len()
        ));
    }
    for (g, w) in got.iter().zip(want) {
        let i = &w["index"];
        for key in ["hook", "verdict", "ctstate", "ctdir", "rule"] {
            if w.get(key).is_some() && g.get(key).unwrap_or(&Value::Null) != &w[key] {
                return Some(format!("packet {i}: {key} {} (kernel {})", g[key], w[key]));
            }
        }
        // The oracle reads the entry by the packet's tuple; it finds none for GRE (keys).
        let (gc, wc) = (&g["ct_after"], &w["ct_after"]);
        if !wc.is_null() || w["summary"].as_str().is_some_and(|s| s.starts_with("tcp")) {
            for key in ["tcp_state", "status", "orig", "reply"] {
                if gc[key] != wc[key] {
                    return Some(format!(
                        "packet {i}: ct_after.{key} {} (kernel {})",
                        gc[key], wc[key]
                    ));
                }
            }
        }
    }
    None
}

#[test]
fn expiring_entries_agree_with_the_kernel() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/timeouts"))
        .expect("testdata/timeouts")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("kernel.json").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 16, "timeout cases missing");
    let mut packets = 0;
    for dir in &dirs {
        let case = read_json(&dir.join("case.json"));
        let kernel = read_json(&dir.join("kernel.json"));
        assert_eq!(kernel["oracle"]["self_check"], "ok", "{}", dir.display());
        assert!(
            kernel["oracle"]["sysctls"]["ct_timeouts_raised_to"].is_null(),
            "{}: made without --keep-ct-timeouts",
            dir.display()
        );
        let want = kernel["packets"].as_array().expect("packets");
        let got = replay(dir, &case, |_| true);
        if let Some(d) = disagreement(&got, want) {
            panic!("{}: {d}", dir.display());
        }
        packets += want.len();
        // Without the lowered timeouts nothing expires and the outcome differs.
        let defaults = replay(dir, &case, |k| !k.contains("timeout"));
        let differs = defaults.iter().zip(want).any(|(g, w)| {
            g["ctstate"] != w["ctstate"] || g["ctdir"].as_str() != w["ctdir"].as_str()
        });
        assert!(differs, "{}: no packet depends on a timeout", dir.display());
    }
    assert!(packets >= 119, "only {packets} packets compared");
}
