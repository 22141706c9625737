//! End-to-end tests of `iptwalk trace`, `diff` and `test` on kernel-truth
//! scenarios (testdata/scenarios): outputs snapshotted with insta, and the
//! verdicts, deciding rules and matched rules compared with what the real
//! kernel recorded in each scenario's kernel.json.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn iptwalk(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iptwalk"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../../testdata/snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

const UC: &str = "testdata/scenarios/hm_user_chains";

#[test]
fn trace_text_and_json_of_a_synthetic_packet() {
    let rules = format!("{UC}/rules.v4");
    let pkt = "tcp 203.0.113.10:33001>10.0.0.104:22 S";
    let args = ["trace", &rules, "--local", "10.0.0.104", "--packet", pkt];
    let (code, out, err) = iptwalk(&args);
    assert_eq!(code, 0, "{err}");
    snap!("trace-user-chains-text", out);
    let (code, out, _) = iptwalk(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(code, 0);
    snap!("trace-user-chains-json", out);
    // The kernel: packet 1 of the scenario is this packet.
    let k = &json(&format!("{UC}/kernel.json"))["packets"][1];
    let t: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(k["summary"], pkt);
    assert_eq!(t["outcome"]["verdict"], k["verdict"]);
    assert_eq!(t["outcome"]["rule"], k["rule"]);
}

#[test]
fn trace_established_state_is_set_up() {
    let rules = format!("{UC}/rules.v4");
    let (code, out, err) = iptwalk(&[
        "trace",
        &rules,
        "--local",
        "10.0.0.104",
        "--ctstate",
        "ESTABLISHED",
        "--packet",
        "tcp 203.0.113.10:33001>10.0.0.104:22 A seq=100 ack=900",
    ]);
    assert_eq!((code, err.as_str()), (0, ""));
    snap!("trace-user-chains-established", out);
}

/// The rules that matched, in order over every table walk of a trace.
fn matched(trace: &Value) -> Vec<String> {
    let mut v = Vec::new();
    for w in trace["walks"].as_array().unwrap() {
        for s in w["steps"].as_array().unwrap() {
            if s["matched"] == Value::Bool(true) {
                v.push(s["rule"].as_str().unwrap().to_string());
            }
        }
    }
    v
}

#[test]
fn trace_of_each_capture_record_agrees_with_the_kernel() {
    let mut checked = 0;
    for sc in [
        "hm_user_chains",
        "hm_forward_stateful",
        "hm_udp",
        "hm_mark_connmark",
        "hm_notrack",
    ] {
        let dir = format!("testdata/scenarios/{sc}");
        let case = json(&format!("{dir}/case.json"));
        let kernel = json(&format!("{dir}/kernel.json"));
        let local: Vec<&str> = case["local"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let lan: Vec<&str> = case["lan"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let (rules, pcap) = (format!("{dir}/rules.v4"), format!("{dir}/trace.pcap"));
        let (local, lan) = (local.join(","), lan.join(","));
        for k in kernel["packets"].as_array().unwrap() {
            let index = k["index"].to_string();
            let mut args = vec![
                "trace", &rules, "--pcap", &pcap, "--index", &index, "--format", "json",
            ];
            args.extend(["--local", &local, "--trust-checksums"]);
            if !lan.is_empty() {
                args.extend(["--lan", &lan]);
            }
            let (code, out, err) = iptwalk(&args);
            assert_eq!(code, 0, "{sc} #{index}: {err}");
            let t: Value = serde_json::from_str(&out).unwrap();
            let o = &t["outcome"];
            assert_eq!(
                (&o["verdict"], &o["rule"]),
                (&k["verdict"], &k["rule"]),
                "{sc} #{index}"
            );
            // kernel.json lists the rules whose counters moved, by table; compare as sets.
            let mut ours = matched(&t);
            ours.sort();
            ours.dedup();
            let mut kernel_matched: Vec<String> = k["matched"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_string())
                .collect();
            kernel_matched.sort();
            assert_eq!(ours, kernel_matched, "{sc} #{index}");
            checked += 1;
        }
    }
    assert_eq!(checked, 10 + 20 + 15 + 12 + 9);
}

const NEW: &str = "testdata/rules/diff/user_chains-new.v4";

#[test]
fn diff_lists_changed_packets_with_both_rules_as_the_kernel_decided() {
    let (rules, pcap) = (format!("{UC}/rules.v4"), format!("{UC}/trace.pcap"));
    let args = [
        "diff",
        &rules,
        NEW,
        &pcap,
        "--local",
        "10.0.0.104",
        "--trust-checksums",
    ];
    let (code, out, err) = iptwalk(&args);
    assert_eq!(code, 1, "{err}");
    snap!("diff-user-chains-text", out);
    let (code, out, _) = iptwalk(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(code, 1);
    snap!("diff-user-chains-json", out);
    // Both sides are the kernel's: old from the scenario, new from an oracle
    // run of the new rules on the same capture.
    let (ko, kn) = (
        json(&format!("{UC}/kernel.json")),
        json("testdata/rules/diff/user_chains-new.kernel.json"),
    );
    let d: Value = serde_json::from_str(&out).unwrap();
    let mut differ = Vec::new();
    for (a, b) in ko["packets"]
        .as_array()
        .unwrap()
        .iter()
        .zip(kn["packets"].as_array().unwrap())
    {
        if (&a["verdict"], &a["rule"]) != (&b["verdict"], &b["rule"]) {
            differ.push((
                a["index"].clone(),
                a["verdict"].clone(),
                a["rule"].clone(),
                b["verdict"].clone(),
                b["rule"].clone(),
            ));
        }
    }
    let mut ours = Vec::new();
    for c in d["connections"].as_array().unwrap() {
        for ch in c["changes"].as_array().unwrap() {
            ours.push((
                ch["index"].clone(),
                ch["old"]["verdict"].clone(),
                ch["old"]["rule"].clone(),
                ch["new"]["verdict"].clone(),
                ch["new"]["rule"].clone(),
            ));
        }
    }
    assert_eq!(ours, differ);
    assert_eq!(d["changed"], differ.len());
}

#[test]
fn diff_of_a_ruleset_with_itself_is_empty_and_exits_0() {
    let (rules, pcap) = (format!("{UC}/rules.v4"), format!("{UC}/trace.pcap"));
    let (code, out, _) = iptwalk(&["diff", &rules, &rules, &pcap, "--local", "10.0.0.104"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "0 of 10 packets differ, in 0 connections\n")
    );
}

#[test]
fn test_spec_passes_and_a_failing_one_exits_1_with_junit() {
    let (code, out, err) = iptwalk(&["test", "testdata/tests/user_chains.toml"]);
    assert_eq!(code, 0, "{out}{err}");
    snap!("test-user-chains-text", out);
    let (code, out, _) = iptwalk(&[
        "test",
        "testdata/tests/user_chains.toml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    snap!(
        "test-user-chains-json",
        serde_json::to_string_pretty(&v).unwrap()
    );
    let junit = std::env::temp_dir().join(format!("iptwalk-junit-{}.xml", std::process::id()));
    let (code, out, _) = iptwalk(&[
        "test",
        "testdata/tests/user_chains-failing.toml",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let _ = std::fs::remove_file(&junit);
    snap!("test-user-chains-failing-text", out);
    snap!("test-user-chains-failing-junit", xml);
}

#[test]
fn trace_and_test_input_errors_exit_2() {
    let rules = format!("{UC}/rules.v4");
    let (code, _, err) = iptwalk(&["trace", &rules, "--packet", "tcp nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("--packet"), "{err}");
    let (code, _, err) = iptwalk(&[
        "trace",
        &rules,
        "--pcap",
        &format!("{UC}/trace.pcap"),
        "--index",
        "99",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("past its end"), "{err}");
    let (code, _, _) = iptwalk(&["test", "testdata/tests/does-not-exist.toml"]);
    assert_eq!(code, 2);
}

/// Splits a console command line: words, with "double quoted" words.
fn words(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn readme_examples_of_trace_diff_and_test_run_as_shown() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut checked = 0;
    for block in readme.split("```console\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let (cmd, shown) = block.split_once('\n').unwrap();
        let w = words(cmd.trim_start_matches("$ "));
        if w.first().map(String::as_str) != Some("iptwalk")
            || !matches!(w[1].as_str(), "trace" | "diff" | "test")
        {
            continue;
        }
        let args: Vec<&str> = w[1..].iter().map(String::as_str).collect();
        let (_, out, err) = iptwalk(&args);
        assert_eq!(out, shown, "{cmd}\n{err}");
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn ctstate_setup_gives_the_state_the_kernel_gave() {
    let k = json("testdata/rules/trace-setup/kernel.json");
    for (index, packet, state) in [
        (3, "tcp 203.0.113.10:33001>10.0.0.104:22 A seq=100 ack=900", "ESTABLISHED"),
        (6, "udp 203.0.113.10:5000>10.0.0.104:53", "ESTABLISHED"),
        (9, "icmp 203.0.113.10>10.0.0.104 type=8 code=0 id=7 seq=1", "ESTABLISHED"),
        (11, "icmp 198.51.100.9>10.0.0.104 type=3 code=3 [quotes udp 10.0.0.104:5001>198.51.100.9:53]", "RELATED"),
    ] {
        let kp = &k["packets"][index];
        assert_eq!(kp["ctstate"], state);
        let (code, out, err) = iptwalk(&[
            "trace", "testdata/rules/trace-setup/accept.v4", "--local", "10.0.0.104",
            "--ctstate", state, "--packet", packet, "--format", "json",
        ]);
        assert_eq!((code, err.as_str()), (0, ""), "{packet}");
        let t: Value = serde_json::from_str(&out).unwrap();
        assert_eq!((&t["outcome"]["ctstate"], &t["outcome"]["ctdir"]), (&kp["ctstate"], &kp["ctdir"]), "{packet}");
    }
}
