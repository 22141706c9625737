//! End-to-end tests of the `iptwalk` binary: output and exit codes as a user
//! sees them, snapshotted with insta.

#[path = "common/mod.rs"]
#[macro_use]
mod common;

use common::iptwalk;

#[test]
fn fmt_example_is_canonical_iptables_save() {
    let (code, out, err) = iptwalk(&["fmt", "testdata/rules/example.v4"]);
    assert_eq!(code, 0, "{err}");
    snap!("fmt-example", out);
}

#[test]
fn fmt_is_idempotent_and_check_passes_on_its_output() {
    let (_, first, _) = iptwalk(&["fmt", "testdata/rules/example.v4"]);
    let tmp = std::env::temp_dir().join(format!("iptwalk-fmt-{}.v4", std::process::id()));
    std::fs::write(&tmp, &first).unwrap();
    let (code, second, _) = iptwalk(&["fmt", tmp.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(first, second);
    let (code, diff, _) = iptwalk(&["fmt", "--check", tmp.to_str().unwrap()]);
    let _ = std::fs::remove_file(&tmp);
    assert_eq!((code, diff.as_str()), (0, ""));
}

#[test]
fn fmt_check_shows_a_diff_and_exits_1() {
    let (code, out, _) = iptwalk(&["fmt", "--check", "testdata/rules/example.v4"]);
    assert_eq!(code, 1);
    snap!("fmt-check-example", out);
}

#[test]
fn fmt_reports_every_error_with_location_and_exits_2() {
    let (code, out, err) = iptwalk(&["fmt", "testdata/rules/errors/many-errors.v4"]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    snap!("fmt-many-errors", err);
}

#[test]
fn fmt_reads_shell_scripts() {
    let (code, out, err) = iptwalk(&["fmt", "testdata/rules/script.sh"]);
    assert_eq!(code, 0, "{err}");
    snap!("fmt-script", format!("{out}\n--- stderr ---\n{err}"));
}

#[test]
fn missing_file_is_a_clear_error() {
    let (code, _, err) = iptwalk(&["fmt", "testdata/rules/does-not-exist.v4"]);
    assert_eq!(code, 2);
    assert!(err.contains("does-not-exist.v4"), "{err}");
}

#[test]
fn lint_explain_prints_the_docs() {
    let (code, out, _) = iptwalk(&["lint", "--explain", "IPT301"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("IPT301 no-established-accept"), "{out}");
}

#[test]
fn lint_json_has_stable_fields() {
    let (code, out, _) = iptwalk(&[
        "lint",
        "--format",
        "json",
        "testdata/lint/IPT205-duplicate-rule.rules",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let f = &v["findings"][0];
    assert_eq!(f["code"], "IPT205");
    assert_eq!(f["name"], "duplicate-rule");
    assert_eq!(f["line"], 7);
    assert_eq!(f["fix"]["safe"], true);
}

#[test]
fn lint_sarif_is_2_1_0() {
    let (_, out, _) = iptwalk(&[
        "lint",
        "--format",
        "sarif",
        "testdata/lint/IPT301-no-established-accept.rules",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "IPT301");
}

/// Commands iptables refuses are findings (exit 1); a file that is not
/// iptables input is an input error (exit 2).
#[test]
fn lint_refused_commands_exit_1_and_broken_files_exit_2() {
    let (code, out, _) = iptwalk(&[
        "lint",
        "--format",
        "json",
        "testdata/lint/IPT103-missing-chain.rules",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["findings"][0]["code"], "IPT103");
    assert_eq!(v["findings"][0]["severity"], "error");
    let (code, out, _) = iptwalk(&["lint", "testdata/rules/errors/many-errors.v4"]);
    assert_eq!(code, 1);
    for c in ["error[IPT100]", "error[IPT103]", "error[IPT105]"] {
        assert!(out.contains(c), "{c} missing from {out}");
    }
    let broken = std::env::temp_dir().join(format!("iptwalk-no-commit-{}.v4", std::process::id()));
    std::fs::write(&broken, "*filter\n-A INPUT -j ACCEPT\n").expect("temp file");
    let (code, out, err) = iptwalk(&["lint", broken.to_str().expect("utf-8 path")]);
    let _ = std::fs::remove_file(&broken);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(err.contains("COMMIT expected"), "{err}");
}

/// `replay` of the kernel-truth scenario the README shows, before any option.
const REPLAY_EXAMPLE: [&str; 5] = [
    "replay",
    "testdata/scenarios/hm_icmp_errors/rules.v4",
    "testdata/scenarios/hm_icmp_errors/trace.pcap",
    "--local",
    "10.0.0.104",
];

/// The replay formats on a kernel-truth scenario (every verdict shown here
/// is the kernel's: see testdata/scenarios/hm_icmp_errors/kernel.json).
#[test]
fn replay_formats_on_a_kernel_scenario() {
    let base = REPLAY_EXAMPLE;
    for (format, name) in [
        ("text", "replay-text"),
        ("jsonl", "replay-jsonl"),
        ("trace", "replay-trace"),
        ("summary", "replay-summary"),
    ] {
        let mut args = base.to_vec();
        args.extend(["--format", format]);
        let (code, out, err) = iptwalk(&args);
        assert_eq!(code, 0, "{err}");
        snap!(name, out);
    }
}

/// A small capture replays on one worker unless `--jobs` asks for more (a second costs more
/// than it saves there), and `--timings` says why; the output is the same either way.
#[test]
fn a_small_capture_replays_on_one_worker_unless_asked() {
    let mut base = REPLAY_EXAMPLE.to_vec();
    base.extend(["--format", "jsonl", "--timings"]);
    let mode = |err: &str| {
        err.lines()
            .find_map(|l| l.strip_prefix("timings: replay mode: "))
            .map(str::to_string)
    };
    let (code, default_out, err) = iptwalk(&base);
    assert_eq!(code, 0, "{err}");
    let default_mode = mode(&err).expect("a replay mode line");
    assert!(
        default_mode.starts_with("1 worker (the capture is under 2 MiB"),
        "{default_mode}"
    );
    let mut asked = base.clone();
    asked.extend(["--jobs", "2"]);
    let (code, sharded_out, err) = iptwalk(&asked);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        mode(&err).as_deref(),
        Some("sharded by address pair over 2 workers")
    );
    assert_eq!(default_out, sharded_out);
}

#[test]
fn replay_counters_are_iptables_save_c() {
    let tmp = std::env::temp_dir().join(format!("iptwalk-counters-{}.v4", std::process::id()));
    let mut args = REPLAY_EXAMPLE.to_vec();
    args.extend(["--format", "summary", "--counters", tmp.to_str().unwrap()]);
    let (code, _, err) = iptwalk(&args);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&tmp).unwrap();
    let _ = std::fs::remove_file(&tmp);
    snap!("replay-counters", text);
}

#[test]
fn replay_reports_a_corrupt_capture_with_its_offset_and_exits_2() {
    let (code, out, err) = iptwalk(&[
        "replay",
        "testdata/rules/example.v4",
        "testdata/pcap/truncated-record.pcap",
        "--local",
        "10.0.0.104",
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("byte offset"), "{err}");
    assert!(out.starts_with("{\"index\":0,\"error\""), "{out}");
}

/// Runs `replay --format jsonl` on the port-knocking ipset scenario with
/// extra arguments.
fn replay_knock(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "replay",
        "testdata/scenarios/ipset_knock/rules.v4",
        "testdata/scenarios/ipset_knock/trace.pcap",
        "--local",
        "10.0.0.104",
        "--format",
        "jsonl",
    ];
    args.extend(extra);
    iptwalk(&args)
}

#[test]
fn replay_with_ipset_judges_set_rules_and_saves_the_final_sets() {
    let tmp = std::env::temp_dir().join(format!("iptwalk-ipset-{}.txt", std::process::id()));
    let (code, out, err) = replay_knock(&[
        "--ipset",
        "testdata/scenarios/ipset_knock/sets.ipset",
        "--ipset-out",
        tmp.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("depends_on"), "{out}");
    // The SYN after the two knocks is accepted by the -m set rule (kernel.json).
    let third: serde_json::Value = serde_json::from_str(out.lines().nth(3).unwrap()).unwrap();
    assert_eq!(third["rule"], "filter/INPUT/2");
    let saved = std::fs::read_to_string(&tmp).unwrap();
    let _ = std::fs::remove_file(&tmp);
    // The kernel's `ipset save` after the same replay has these elements and counters.
    assert!(
        saved.contains("add knocked 10.0.0.77 timeout 7199 packets 2 bytes 69\n"),
        "{saved}"
    );
    assert!(
        saved.contains("add seen 10.0.0.0/24 packets 4 bytes 160\n"),
        "{saved}"
    );
    assert!(saved.contains("add svc 10.0.0.34,tcp:8080\n"), "{saved}");
}

#[test]
fn replay_without_ipset_flags_set_rules_instead_of_guessing() {
    let (code, out, err) = replay_knock(&[]);
    assert_eq!(code, 0, "{err}");
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["depends_on"], serde_json::json!(["set"]));
}

#[test]
fn ipset_errors_have_a_location_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("iptwalk-ipset-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.ipset");
    std::fs::write(&bad, "create a hash:ip\nadd a 10.0.0.1 nomatch\n").unwrap();
    let (code, _, err) = replay_knock(&["--ipset", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.ipset:2:16"), "{err}");
    // A set the rules name and the file lacks: an error at the rule.
    let partial = dir.join("partial.ipset");
    std::fs::write(&partial, "create knock1 hash:ip timeout 600\n").unwrap();
    let (code, _, err) = replay_knock(&["--ipset", partial.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 2);
    assert!(
        err.contains("set knocked does not exist in")
            && err.contains("testdata/scenarios/ipset_knock/rules.v4:6:35"),
        "{err}"
    );
}
