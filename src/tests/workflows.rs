//! End-to-end tests of `iptwalk trace`, `diff` and `test` on kernel-truth
//! scenarios (testdata/scenarios): outputs snapshotted with insta, and the
//! verdicts, deciding rules and matched rules compared with what the real
//! kernel recorded in each scenario's kernel.json.

#[path = "common/mod.rs"]
#[macro_use]
mod common;

use common::iptwalk;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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

/// Every record of a capture as (timestamp ns, link type, bytes), in order.
fn records(path: &std::path::Path) -> Vec<(i128, u32, Vec<u8>)> {
    let mut r = iptwalk::packet::CaptureReader::open(path).unwrap();
    let mut v = Vec::new();
    while let Some(f) = r.next_frame() {
        let f = f.unwrap();
        v.push((f.ts_ns, f.linktype, f.data.to_vec()));
    }
    v
}

/// The records tcpdump reads from a file (it must read every split file).
fn tcpdump_count(path: &std::path::Path) -> usize {
    let out = Command::new("tcpdump")
        .args(["-nn", "--nano", "-r"])
        .arg(path)
        .output()
        .expect("tcpdump is installed (CI installs it)");
    assert!(
        out.status.success(),
        "tcpdump -r {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Runs `replay --split` into a fresh directory; returns it and the stderr.
fn split(name: &str, args: &[&str]) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("iptwalk-split-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_string_lossy().into_owned();
    let (code, _, err) =
        iptwalk(&[&["replay"], args, &["--split", &d, "--format", "summary"]].concat());
    assert_eq!(code, 0, "{err}");
    (dir.clone(), err.replace(&d, "DIR"))
}

/// The split files hold exactly the capture's records, each in the file of
/// the verdict the kernel gave it (kernel.json), in capture order, bytes and
/// timestamps unchanged, and tcpdump reads every file.
#[test]
fn replay_split_files_hold_each_record_under_the_kernels_verdict() {
    let mut listing = String::new();
    for (scenario, host) in [
        ("hm_user_chains", vec!["--local", "10.0.0.104"]),
        (
            "hm_frag_forward",
            vec!["--local", "10.0.0.104", "--lan", "192.168.1.0/24"],
        ),
    ] {
        let dir = format!("testdata/scenarios/{scenario}");
        let pcap = root().join(format!("{dir}/trace.pcap"));
        let (out, err) = split(
            scenario,
            &[
                &[&format!("{dir}/rules.v4")[..], &pcap.to_string_lossy()][..],
                &host,
            ]
            .concat(),
        );
        listing.push_str(&format!("{scenario}: {err}"));
        let all = records(&pcap);
        let kernel = json(&format!("{dir}/kernel.json"));
        let mut total = 0;
        for (file, verdict) in [
            ("accepted", "ACCEPT"),
            ("dropped", "DROP"),
            ("rejected", "REJECT"),
            ("not_reached", "NOT_REACHED"),
        ] {
            let want: Vec<_> = kernel["packets"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["verdict"] == verdict)
                .map(|p| all[p["index"].as_u64().unwrap() as usize].clone())
                .collect();
            let path = out.join(format!("{file}.pcap"));
            assert_eq!(records(&path), want, "{scenario} {file}");
            assert_eq!(tcpdump_count(&path), want.len(), "{scenario} {file}");
            total += want.len();
        }
        assert_eq!(records(&out.join("skipped.pcap")).len(), 0);
        assert_eq!(
            total,
            all.len(),
            "{scenario}: the files add up to the capture"
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
    snap!("replay-split-kernel-scenarios", listing);
}

/// Skipped records, nanosecond timestamps and a pcapng capture with two link
/// types: every readable record lands in exactly one file, precision kept.
#[test]
fn replay_split_keeps_link_types_and_nanoseconds() {
    let mut listing = String::new();
    for (name, file) in [
        ("odd", "eth-odd.pcap"),
        ("nsec", "eth-nsec.pcap"),
        ("two", "two-interfaces.pcapng"),
    ] {
        let pcap = root().join("testdata/pcap").join(file);
        let (out, err) = split(
            name,
            &[
                "testdata/scenarios/hm_user_chains/rules.v4",
                &pcap.to_string_lossy(),
                "--local",
                "10.0.0.104",
            ],
        );
        listing.push_str(&format!("{file}: {err}"));
        let mut names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        let mut got: Vec<_> = names.iter().flat_map(|p| records(p)).collect();
        for p in &names {
            assert_eq!(tcpdump_count(p), records(p).len(), "{}", p.display());
        }
        let mut want: Vec<_> = iptwalk::packet::CaptureReader::open(&pcap)
            .map(|mut r| {
                std::iter::from_fn(move || {
                    r.next_frame()
                        .map(|f| f.ok().map(|f| (f.ts_ns, f.linktype, f.data.to_vec())))
                })
                .flatten()
                .collect::<Vec<_>>()
            })
            .unwrap();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{file}");
        let format = iptwalk::packet::CaptureReader::open(&names[0])
            .unwrap()
            .format();
        let nano = file != "eth-odd.pcap";
        assert_eq!(format == iptwalk::packet::Format::PcapNano, nano, "{file}");
        std::fs::remove_dir_all(&out).unwrap();
    }
    snap!("replay-split-link-types", listing);
}

/// A nanosecond timestamp below the microsecond survives the split.
#[test]
fn replay_split_keeps_sub_microsecond_timestamps() {
    use iptwalk::report::pcap::{PcapWriter, Precision};
    let input = std::env::temp_dir().join(format!("iptwalk-ns-{}.pcap", std::process::id()));
    let ip = iptwalk::packet::parse_summary("tcp 203.0.113.10:33001>10.0.0.104:22 S").unwrap();
    let mut w =
        PcapWriter::new(std::fs::File::create(&input).unwrap(), 101, Precision::Nano).unwrap();
    let ts = 1_700_000_000_123_456_789;
    w.write(ts, ip.bytes().len() as u32, ip.bytes()).unwrap();
    w.finish().unwrap();
    let (out, _) = split(
        "subus",
        &[
            "testdata/scenarios/hm_user_chains/rules.v4",
            &input.to_string_lossy(),
            "--local",
            "10.0.0.104",
        ],
    );
    // The kernel rejects this packet (hm_user_chains kernel.json, packet 1).
    assert_eq!(
        json(&format!("{UC}/kernel.json"))["packets"][1]["verdict"],
        "REJECT"
    );
    assert_eq!(
        records(&out.join("rejected.pcap")),
        [(ts, 101, ip.bytes().to_vec())]
    );
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::remove_file(&input).unwrap();
}

/// Removes ANSI SGR sequences (`ESC [ ... m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        rest = rest[i..].split_once('m').map_or("", |(_, r)| r);
    }
    out.push_str(rest);
    out
}

/// `--color always` colours every text report (even with NO_COLOR set, as
/// no-color.org asks of explicit flags) and is otherwise the same bytes;
/// `--color never` and the default off a terminal have no escapes.
#[test]
fn color_always_and_never_on_every_text_command() {
    let rules = format!("{UC}/rules.v4");
    let pcap = format!("{UC}/trace.pcap");
    let new = "testdata/rules/diff/user_chains-new.v4";
    let pkt = "tcp 203.0.113.10:33001>10.0.0.104:22 S";
    let commands: [Vec<&str>; 6] = [
        vec!["replay", &rules, &pcap, "--local", "10.0.0.104"],
        vec!["trace", &rules, "--local", "10.0.0.104", "--packet", pkt],
        vec!["diff", &rules, new, &pcap, "--local", "10.0.0.104"],
        vec!["test", "testdata/tests/user_chains.toml"],
        vec!["fmt", "--check", "testdata/rules/example.v4"],
        vec!["lint", "testdata/lint/IPT201-shadowed-rule.rules"],
    ];
    for args in commands {
        let (code, plain, _) = iptwalk(&args);
        let (code2, never, _) = iptwalk(&[&args[..], &["--color", "never"]].concat());
        let (code3, always, _) = iptwalk(&[&args[..], &["--color", "always"]].concat());
        assert_eq!((code, code2), (code3, code3), "{args:?}");
        assert!(
            !plain.contains('\x1b') && !never.contains('\x1b'),
            "{args:?}"
        );
        assert!(always.contains("\x1b["), "{args:?}: no colour\n{always}");
        assert_eq!(strip_ansi(&always), never, "{args:?}");
    }
}

#[test]
fn graph_dot_plain_and_weighed_by_a_kernel_scenario_replay() {
    let rules = format!("{UC}/rules.v4");
    let (code, plain, err) = iptwalk(&["graph", &rules]);
    assert_eq!(code, 0, "{err}");
    snap!("graph-user-chains", plain);
    let pcap = format!("{UC}/trace.pcap");
    let (code, weighed, err) = iptwalk(&[
        "graph",
        &rules,
        "--counters-from-replay",
        &pcap,
        "--local",
        "10.0.0.104",
    ]);
    assert_eq!(code, 0, "{err}");
    // The weights are the kernel's own rule counters after this capture.
    let kernel = iptwalk::source::SourceFile::new(
        "counters.txt",
        std::fs::read_to_string(root().join(UC).join("counters.txt")).unwrap(),
    );
    let kernel = iptwalk::ir::load(&kernel);
    assert!(!kernel.has_errors());
    assert_eq!(
        weighed,
        iptwalk::report::graph::dot_with(&kernel.ruleset, true)
    );
    assert_ne!(weighed, plain);
    snap!("graph-user-chains-replay", weighed);
    // Same chains and edges as the plain graph; only the weights differ.
    let edges = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("->"))
            .map(|l| {
                l.split(" [")
                    .next()
                    .unwrap_or(l)
                    .trim_end_matches(';')
                    .to_string()
            })
            .collect()
    };
    assert_eq!(edges(&weighed), edges(&plain));
}

/// `replay RULES -` reads the capture from a pipe and gives what the file gives; `-` for
/// both inputs is refused before anything is read.
#[test]
fn replay_reads_a_piped_capture() {
    use std::io::Write;
    use std::process::Stdio;
    let (rules, pcap) = (format!("{UC}/rules.v4"), format!("{UC}/trace.pcap"));
    let from_file = iptwalk(&["replay", &rules, &pcap, "--format", "jsonl"]);
    assert_eq!(from_file.0, 0, "{}", from_file.2);
    let mut child = Command::new(env!("CARGO_BIN_EXE_iptwalk"))
        .args(["replay", &rules, "-", "--format", "jsonl"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run iptwalk");
    let bytes =
        std::fs::read(common::testdata("scenarios/hm_user_chains/trace.pcap")).expect("pcap");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&bytes)
        .expect("pipe");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), from_file.1);
    let (code, _, err) = iptwalk(&["replay", "-", "-"]);
    assert_eq!(code, 2);
    assert!(err.contains("one input only"), "{err}");
}
