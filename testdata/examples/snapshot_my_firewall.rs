//! Keep your firewall's behaviour under test: copy this file into your own
//! crate's `tests/`, add `iptwalk` and `insta` as dev-dependencies, point
//! RULES and CAPTURE at your ruleset and a capture of your traffic, and run
//! `cargo insta test` (then `cargo insta review` to accept the first
//! snapshots). Any later change to the rules that changes a verdict, a
//! deciding rule or a conntrack state shows up as a snapshot diff.
//!
//! Here the rules and capture are a kernel-truth scenario of this repository
//! (`testdata/scenarios/hm_user_chains`, replayed through the real Linux
//! kernel), so the snapshotted verdicts are the kernel's.

use iptwalk::{Firewall, Verdict};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/scenarios/hm_user_chains"
);

fn firewall() -> Firewall {
    Firewall::load(format!("{DIR}/rules.v4"))
        .expect("the rules load")
        // The host's own addresses; packets to them are INPUT, from them OUTPUT.
        .with_local(&["10.0.0.104"])
        .expect("valid addresses")
}

/// Every packet of a capture: verdict, hook, conntrack state, deciding rule.
#[test]
fn capture_verdicts() {
    let records = firewall()
        .replay_pcap(format!("{DIR}/trace.pcap"))
        .expect("the capture replays");
    insta::assert_snapshot!(iptwalk::report::replay::lines(&records));
}

/// Hand-written packets (the notation `iptwalk replay` prints), in one
/// conntrack table: a whole handshake, then what the policy does to a stray.
#[test]
fn ssh_from_the_lan_is_accepted_and_tracked() {
    let out = firewall()
        .replay_packets(&[
            "tcp 10.0.0.77:50900>10.0.0.104:22 S seq=1000",
            "tcp 10.0.0.104:22>10.0.0.77:50900 SA seq=5000 ack=1001",
            "tcp 10.0.0.77:50900>10.0.0.104:22 A seq=1001 ack=5001",
            "udp 203.0.113.10:5000>10.0.0.104:53",
        ])
        .expect("the packets parse");
    // Typed checks for what must never change...
    assert_eq!(out[0].verdict, Verdict::Accept);
    assert_eq!(out[3].verdict, Verdict::Drop);
    // ...and a snapshot of the rest, as JSON.
    let summary: Vec<_> = out
        .iter()
        .map(|o| {
            serde_json::json!({
                "packet": o.summary, "hook": o.hook, "verdict": o.verdict,
                "ctstate": o.ctstate, "ctdir": o.ctdir, "rule": o.rule,
            })
        })
        .collect();
    insta::assert_json_snapshot!(summary);
}
