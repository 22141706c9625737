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
//!
//! Connections share learned outcomes by header class (`engine::shared`):
//! random rulesets of prefixes, port ranges, `multiport`, `iprange`,
//! interfaces, conntrack states and tuples, `addrtype`, jumps and gotos, on
//! a host whose routes split the servers over two interfaces, must give what
//! walking every packet gives while most connections take a shared outcome.

use iptwalk::conntrack::Params;
use iptwalk::eval::engine::{Compiling, Engine, Options, Step};
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
    let host = Host::oracle(
        &["192.0.2.1".parse().unwrap(), "10.1.0.5".parse().unwrap()],
        &[],
    );
    lane_on_host(rules, &host, pcap, verdicts_only).0
}

/// [`lane_matches_walking`] on `host`; also returns the connection directions
/// that took an outcome shared by their header class.
fn lane_on_host(rules: &str, host: &Host, pcap: &Path, verdicts_only: bool) -> (u64, u64) {
    let loaded = iptwalk::ir::load(&SourceFile::new("rules", rules));
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
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
    // Engines of a sharded replay share what they compile: the first made here makes the
    // lanes' classes and then the tables, the second finds both made (see `Compiling`).
    let compiling = Compiling::default();
    let sharing = |tables_first| {
        let opts = Options {
            log: true,
            verdicts_only,
            ..Options::default()
        };
        let compiling = (&compiling, tables_first);
        Engine::sharing(
            &loaded.ruleset,
            compiling,
            host.clone(),
            Params::default(),
            opts,
        )
    };
    let mut sharing = [sharing(false), sharing(true)];
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
        for shared in &mut sharing {
            assert_eq!(shared.step(&frame).into_record(), want, "packet {packets}");
        }
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
    for shared in &sharing {
        assert_eq!(counters(shared), counters(&walked));
        assert_eq!(
            (shared.lane_packets(), shared.lane_shared()),
            (lane.lane_packets(), lane.lane_shared())
        );
    }
    println!(
        "{} of {packets} packets took the lane, {} connection directions a shared outcome",
        lane.lane_packets(),
        lane.lane_shared()
    );
    (lane.lane_packets(), lane.lane_shared())
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

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.below(of.len() as u64) as usize]
    }
}

/// An address of the capture's clients (10.0/16), servers (10.1.0/24) or
/// elsewhere, with a random prefix length around what tells them apart.
fn random_net(rng: &mut Rng) -> String {
    let (addr, len): (u32, u64) = match rng.below(3) {
        0 => (0x0a00_0000 | rng.below(1 << 16) as u32, 8 + rng.below(25)),
        1 => (0x0a01_0000 | rng.below(256) as u32, 16 + rng.below(17)),
        _ => (rng.next() as u32, rng.below(33)),
    };
    format!("{}/{len}", std::net::Ipv4Addr::from(addr))
}

/// A port the capture uses (services, DNS) or one of the clients' ephemeral ones.
fn random_port(rng: &mut Rng) -> u64 {
    match rng.below(3) {
        0 => [22, 25, 53, 80, 443, 993, 8080][rng.below(7) as usize],
        _ => 1024 + rng.below(64512),
    }
}

fn random_ports(rng: &mut Rng) -> String {
    let a = random_port(rng);
    match rng.below(3) {
        0 => format!("{a}:{}", (a + rng.below(20000)).min(65535)),
        _ => a.to_string(),
    }
}

fn maybe_not(rng: &mut Rng) -> &'static str {
    if rng.below(5) == 0 {
        "! "
    } else {
        ""
    }
}

/// One random rule's conditions (without `-A` and target).
fn random_conditions(rng: &mut Rng) -> String {
    let mut r = String::new();
    for (opt, odds) in [("-s", 3), ("-d", 3)] {
        if rng.below(odds) == 0 {
            r += &format!(" {}{opt} {}", maybe_not(rng), random_net(rng));
        }
    }
    if rng.below(6) == 0 {
        r += &format!(
            " {}-i {}",
            maybe_not(rng),
            rng.pick(&["eth0", "eth1", "eth+"])
        );
    }
    if rng.below(6) == 0 {
        r += &format!(" {}-o {}", maybe_not(rng), rng.pick(&["eth0", "eth1"]));
    }
    let proto = rng.pick(&["tcp", "udp", "", "", "icmp"]);
    if !proto.is_empty() {
        r += &format!(" -p {proto}");
    }
    if (proto == "tcp" || proto == "udp") && rng.below(4) != 0 {
        r += &format!(" -m {proto}");
        for opt in ["--sport", "--dport"] {
            if rng.below(2) == 0 {
                r += &format!(" {}{opt} {}", maybe_not(rng), random_ports(rng));
            }
        }
        if proto == "tcp" && rng.below(4) == 0 {
            r += &format!(
                " --tcp-flags {}",
                rng.pick(&["SYN,ACK SYN", "FIN,SYN,RST,ACK ACK", "RST RST"])
            );
        }
    }
    if (proto == "tcp" || proto == "udp") && rng.below(6) == 0 {
        let list = (0..1 + rng.below(4))
            .map(|_| random_ports(rng))
            .collect::<Vec<_>>();
        let which = rng.pick(&["--sports", "--dports", "--ports"]);
        r += &format!(" -m multiport {}{which} {}", maybe_not(rng), list.join(","));
    }
    if rng.below(8) == 0 {
        let lo = 0x0a00_0000 | rng.below(1 << 17) as u32;
        let hi = lo.saturating_add(rng.below(1 << 14) as u32);
        let which = rng.pick(&["--src-range", "--dst-range"]);
        let ip = |a: u32| std::net::Ipv4Addr::from(a).to_string();
        r += &format!(
            " -m iprange {}{which} {}-{}",
            maybe_not(rng),
            ip(lo),
            ip(hi)
        );
    }
    match rng.below(30) {
        0..=2 => {
            let states = rng.pick(&[
                "NEW",
                "ESTABLISHED",
                "RELATED,ESTABLISHED",
                "INVALID",
                "NEW,ESTABLISHED",
            ]);
            r += &format!(" -m conntrack {}--ctstate {states}", maybe_not(rng));
        }
        3 => r += &format!(" -m conntrack --ctdir {}", rng.pick(&["ORIGINAL", "REPLY"])),
        4 => r += &format!(" -m conntrack {}--ctstatus ASSURED", maybe_not(rng)),
        5 => r += &format!(" -m conntrack --ctorigsrc {}", random_net(rng)),
        6 => r += &format!(" -m conntrack --ctreplsrcport {}", random_ports(rng)),
        7 => {
            r += &format!(
                " -m addrtype {}--dst-type {}",
                maybe_not(rng),
                rng.pick(&["LOCAL", "UNICAST"])
            )
        }
        8 => r += &format!(" -m state --state {}", rng.pick(&["NEW", "ESTABLISHED"])),
        9 if rng.below(4) == 0 => r += " -m length --length 0:100",
        _ => {}
    }
    r
}

/// A random filter table (and sometimes a security table) for the capture's traffic.
fn random_rules(seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let policy = rng.pick(&["ACCEPT", "ACCEPT", "DROP"]);
    let mut text = format!(
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD {policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n:u1 - [0:0]\n:u2 - [0:0]\n"
    );
    for (chain, n) in [
        ("FORWARD", 20 + rng.below(60)),
        ("u1", rng.below(12)),
        ("u2", rng.below(12)),
    ] {
        for _ in 0..n {
            let target = match (chain, rng.below(10)) {
                (_, 0..=2) => " -j ACCEPT".to_string(),
                (_, 3) => " -j DROP".to_string(),
                (_, 5) => String::new(),
                ("FORWARD", 6) => " -j u1".to_string(),
                ("FORWARD", 7) => " -g u2".to_string(),
                ("u1", 6) => " -j u2".to_string(),
                _ => " -j RETURN".to_string(),
            };
            text += &format!("-A {chain}{}{target}\n", random_conditions(&mut rng));
        }
    }
    text += "COMMIT\n";
    if rng.below(2) == 0 {
        text += &format!(
            "*security\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD{} -j DROP\nCOMMIT\n",
            random_conditions(&mut rng)
        );
    }
    text
}

#[test]
fn sharing_by_header_class_gives_what_walking_every_packet_gives() {
    let dir = std::env::temp_dir().join(format!("iptwalk-share-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let Some(pcap) = capture(&dir) else {
        return;
    };
    // The servers' upper half behind eth1, a few of its addresses local.
    let lan = [iptwalk::ir::addr::Ipv4Net::new(0x0a01_0080, 0xffff_ff80)];
    let host = Host::oracle(
        &["192.0.2.1".parse().unwrap(), "10.1.0.200".parse().unwrap()],
        &lan,
    );
    let (mut shared, mut lane) = (0, 0);
    for seed in 1..=12 {
        let rules = random_rules(seed);
        let (l, s) = lane_on_host(&rules, &host, &pcap, seed % 3 == 0);
        lane += l;
        shared += s;
    }
    // Most connections' first lane packets take a shared outcome.
    assert!(shared > 5_000, "{shared} shared of {lane} lane packets");
    let _ = std::fs::remove_dir_all(&dir);
}
