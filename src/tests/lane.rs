//! The established-flow lane must give exactly what walking every packet
//! gives: the same record for every packet and the same counters.
//!
//! The kernel-truth scenarios (tests/scenarios.rs) compare the two on short
//! captures. Here long-lived flows make the lane carry most packets: a
//! capture from ../shared/bench/gen_pcap.py (interleaved TCP handshakes, data
//! and teardowns, DNS, scans; skipped when the generator or python3 is
//! absent) through rulesets made to hit the lane's edges: walks that read the
//! TCP flags and the conntrack status (compared per packet), a connection
//! mark set on the first packet (part of the key), marks, LOG and `-m length`
//! (walks that cannot be reused), goto/RETURN, the security table, local
//! delivery, and source NAT (connections that never take the lane).

use iptwalk::conntrack::Params;
use iptwalk::eval::engine::{Engine, Options, Step};
use iptwalk::eval::host::Host;
use iptwalk::ir::save::{save, SaveOptions};
use iptwalk::packet::CaptureReader;
use iptwalk::source::SourceFile;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench")
}

/// A 20,000-packet mix (about 1,300 flows), or `None` without the generator.
fn capture(dir: &Path) -> Option<PathBuf> {
    let gen = bench_dir().join("gen_pcap.py");
    if !gen.exists() {
        eprintln!("SKIP: {} not found", gen.display());
        return None;
    }
    let out = dir.join("mix20k.pcap");
    let ok = Command::new("python3")
        .arg(&gen)
        .arg(&out)
        .args(["20000", "--concurrent", "300", "--seed", "7"])
        .output()
        .map(|o| o.status.success());
    match ok {
        Ok(true) => Some(out),
        _ => {
            eprintln!("SKIP: python3 gen_pcap.py did not run");
            None
        }
    }
}

/// gen_rules.py's 100 filler rules, then ESTABLISHED,RELATED, then NEW accepts.
fn bench_rules() -> Option<String> {
    let out = Command::new("python3")
        .arg(bench_dir().join("gen_rules.py"))
        .arg("100")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

const EDGES: &str = "*raw
:OUTPUT ACCEPT [0:0]
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 443 -m conntrack --ctstate NEW -j CONNMARK --set-mark 7
-A PREROUTING -s 10.0.3.0/24 -p udp -j MARK --set-mark 3
-A FORWARD -m connmark --mark 7 -m conntrack --ctdir REPLY
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:tcpin - [0:0]
:est - [0:0]
-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p tcp --syn -j ACCEPT
-A INPUT -p udp -j ACCEPT
-A FORWARD -m mark --mark 3 -j ACCEPT
-A FORWARD -p tcp -j tcpin
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -g est
-A FORWARD -p udp -m udp --dport 53 -m conntrack --ctstate NEW -j ACCEPT
-A tcpin -p tcp -m tcp --tcp-flags SYN,ACK SYN,ACK -j RETURN
-A tcpin -m conntrack --ctstatus ASSURED -m connmark --mark 7 -j ACCEPT
-A tcpin -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j ACCEPT
-A tcpin -p tcp -m tcp --dport 22 -m length --length 0:80 -j ACCEPT
-A tcpin -p tcp -m tcp --tcp-flags FIN FIN -j RETURN
-A est -s 10.0.1.0/24 -j LOG --log-prefix \"est \"
-A est -m comment --comment \"the rest\" -j ACCEPT
COMMIT
*security
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -d 10.1.0.7/32 -j DROP
COMMIT
";

/// Source NAT for part of the clients: their connections never take the lane.
const NAT: &str = "*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s 10.0.2.0/23 -j SNAT --to-source 192.0.2.1
COMMIT
";

/// Replays `pcap` through `rules` with and without the lane; returns the
/// packets that took it. A lane packet comes back as a [`Step::Lane`] and no
/// record is built: the record it stands for, and the JSON line written
/// from it, must still be the walked one's. `verdicts_only` replays as
/// `--format summary` does.
fn lane_matches_walking(rules: &str, pcap: &Path, verdicts_only: bool) -> u64 {
    let loaded = iptwalk::ir::load(&SourceFile::new("rules", rules));
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let host = Host::oracle(
        &["192.0.2.1".parse().unwrap(), "10.1.0.5".parse().unwrap()],
        &[],
    );
    let engine = |walk_every_packet| {
        let opts = Options {
            log: true,
            walk_every_packet,
            verdicts_only,
            ..Options::default()
        };
        Engine::new(&loaded.ruleset, host.clone(), Params::default(), opts)
    };
    let (mut lane, mut walked) = (engine(false), engine(true));
    let mut reader = CaptureReader::open(pcap).expect("capture");
    let (mut packets, mut briefs) = (0, 0);
    while let Some(frame) = reader.next_frame() {
        let frame = frame.expect("frame");
        let step = lane.step(&frame);
        briefs += u64::from(matches!(step, Step::Lane(_)));
        // `--format jsonl` writes the step without building its record.
        let mut line = Vec::new();
        step.write_json(&mut line);
        let (got, want) = (step.into_record(), walked.process(&frame));
        assert_eq!(got, want, "packet {packets}");
        let derived = serde_json::to_vec(&want).expect("json");
        assert_eq!(
            String::from_utf8_lossy(&line),
            String::from_utf8_lossy(&derived),
            "packet {packets}"
        );
        packets += 1;
    }
    assert_eq!(briefs, lane.lane_records());
    let counters = |e: &Engine| save(&e.ruleset_with_counters(), SaveOptions { counters: true });
    assert_eq!(counters(&lane), counters(&walked));
    assert_eq!(walked.lane_packets(), 0);
    println!("{} of {packets} packets took the lane", lane.lane_packets());
    lane.lane_packets()
}

#[test]
fn the_lane_gives_what_walking_every_packet_gives() {
    let dir = std::env::temp_dir().join(format!("iptwalk-lane-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let Some(pcap) = capture(&dir) else {
        return;
    };
    let fwd = bench_rules().expect("gen_rules.py runs where gen_pcap.py does");
    // Most packets belong to established flows: most must take the lane.
    for verdicts_only in [false, true] {
        assert!(lane_matches_walking(&fwd, &pcap, verdicts_only) > 10_000);
        assert!(lane_matches_walking(EDGES, &pcap, verdicts_only) > 1_000);
        let with_nat = format!("{fwd}{NAT}");
        lane_matches_walking(&with_nat, &pcap, verdicts_only);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
