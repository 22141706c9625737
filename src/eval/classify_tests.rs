//! Property test: the indexed walk ([`Prepared`] with [`super::classify`])
//! gives what the straightforward linear walk gives (`walk` without a
//! prefilter, the reference): verdicts, deciding rules, TRACE steps, every
//! rule's and policy's counters, and what non-terminal targets did, over
//! seeded random rulesets (jumps, gotos, RETURN, MARK) and random packets.

use super::header::PacketHead;
use super::judge::Judge;
use super::walk::{walk, walk_into, Fast, Prepared, TableCounters, WalkBuf};
use crate::ext::facts::{CtFacts, Facts, L4Facts, NoHost};
use crate::ir::{Hook, TableKind};
use crate::source::SourceFile;
use crate::test_rng::Rng;

const PORTS: [u16; 6] = [22, 53, 80, 443, 8080, 40000];
const ADDRS: [u32; 4] = [0x0a00_0001, 0x0a01_0005, 0xc0a8_0101, 0x0a00_0102];

fn header(r: &mut Rng) -> String {
    let p = r.pick(&PORTS);
    let q = r.pick(&PORTS);
    let ports = match r.index(12) {
        0..=3 => format!("-p tcp -m tcp --dport {p}"),
        4..=5 => format!("-p udp -m udp --dport {p}"),
        6 => format!("-p tcp -m tcp --dport {}:{}", p.min(q), p.max(q)),
        7 => format!("-p tcp -m tcp ! --dport {p}"),
        8 => format!("-p udp -m udp --sport {p}"),
        9 => "! -p udp".into(),
        10 => "-p icmp".into(),
        _ => String::new(),
    };
    let addr = match r.index(6) {
        0 => "-s 10.0.0.0/8 ",
        1 => "! -s 10.1.0.0/16 ",
        2 => "-d 10.1.0.5 ",
        3 => "-i eth1 ",
        _ => "",
    };
    let extra = match r.index(6) {
        0 => " -m mark --mark 1",
        1 => " -m mark ! --mark 2",
        _ => "",
    };
    format!("{addr}{ports}{extra}")
}

/// A ruleset with FORWARD and two user chains, each long enough to be indexed;
/// FORWARD calls `a` and `b`, `a` calls `b`, `b` calls nothing.
fn ruleset(r: &mut Rng) -> String {
    let policy = r.pick(&["ACCEPT", "DROP"]);
    let mut t = format!("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD {policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n:a - [0:0]\n:b - [0:0]\n");
    for (chain, calls) in [
        ("FORWARD", &["a", "b"][..]),
        ("a", &["b"][..]),
        ("b", &[][..]),
    ] {
        for _ in 0..16 + r.index(30) {
            let target = match r.index(14) {
                0 => "-j ACCEPT".to_string(),
                1 => "-j DROP".into(),
                2 => "-j RETURN".into(),
                3 => format!("-j MARK --set-xmark {}/0xffffffff", r.index(3)),
                4 => String::new(),
                5..=6 if !calls.is_empty() => format!("-j {}", r.pick(calls)),
                7 if !calls.is_empty() => format!("-g {}", r.pick(calls)),
                _ => "-j MARK --set-xmark 0x10/0x10".into(),
            };
            t.push_str(&format!("-A {chain} {} {target}\n", header(r)));
        }
    }
    t.push_str("COMMIT\n");
    t
}

fn packet(r: &mut Rng) -> Facts<'static> {
    let proto = r.pick(&[6u8, 6, 17, 17, 1]);
    let frag_off = r.pick(&[0u16, 0, 0, 0, 0, 1]);
    let (sport, dport) = (r.pick(&PORTS), r.pick(&PORTS));
    let truncated = frag_off == 0 && proto != 1 && r.index(10) == 0;
    let l4 = match (frag_off, proto, truncated) {
        (0, 6, false) => L4Facts::Tcp {
            sport,
            dport,
            flags: 0x10,
            seq: 0,
            ack: 0,
            window: 0,
            options: &[],
            header_len: 20,
        },
        (0, 17, false) => L4Facts::Udp { sport, dport },
        _ => L4Facts::None,
    };
    Facts {
        hook: Hook::Forward,
        table: TableKind::Filter,
        in_iface: r.pick(&["eth0", "eth1"]),
        out_iface: "eth0",
        src: r.pick(&ADDRS),
        dst: r.pick(&ADDRS),
        proto,
        ttl: 64,
        tos: 0,
        frag_off,
        len: 40 + r.index(1400) as u32,
        bytes: &[],
        ihl: 20,
        l4,
        l4_truncated: truncated,
        src_mac: None,
        mac_header: None,
        pkttype: 0,
        mark: r.pick(&[0, 1, 2]),
        ct: CtFacts::default(),
        now_ns: 0,
        host: &NoHost,
    }
}

#[test]
fn indexed_walk_is_the_linear_walk_on_random_rulesets() {
    let mut r = Rng(7);
    let mut decided_by_rule = 0;
    for case in 0..60 {
        let text = ruleset(&mut r);
        let l = crate::ir::load(&SourceFile::new("t", text.clone()));
        assert!(!l.has_errors(), "{:?}\n{text}", l.diagnostics);
        let table = &l.ruleset.tables[0];
        let prepared = Prepared::new(table);
        let mut linear_c = TableCounters::for_table(table);
        let mut fast_c = TableCounters::for_table(table);
        let mut buf = WalkBuf::default();
        for i in 0..400 {
            let seed = r.next();
            let mut f = packet(&mut Rng(seed));
            let mut judge = Judge::new(&mut f);
            let linear = walk(table, Hook::Forward, &mut judge, &mut linear_c, 60);
            let linear_fx = (judge.effects.mark, judge.depends_on.clone());
            let mut g = packet(&mut Rng(seed));
            let fast = Fast {
                prepared: &prepared,
                head: PacketHead::of(&g),
            };
            let mut judge = Judge::new(&mut g);
            let (verdict, decided_by) = walk_into(
                table,
                Some(fast),
                Hook::Forward,
                &mut judge,
                &mut fast_c,
                60,
                &mut buf,
            );
            let fast_fx = (judge.effects.mark, judge.depends_on.clone());
            assert_eq!(
                (linear.verdict, linear.decided_by, &linear.trace, linear_fx),
                (verdict, decided_by, &buf.trace, fast_fx),
                "case {case} packet {i}: {:?}\n{text}",
                fast.head
            );
            decided_by_rule += usize::from(decided_by.is_some());
        }
        assert_eq!(linear_c, fast_c, "case {case}\n{text}");
    }
    // The rulesets decide by rules as well as by policies.
    assert!(decided_by_rule > 2000, "{decided_by_rule}");
}
