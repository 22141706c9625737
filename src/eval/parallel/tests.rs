//! Tests of the parallel replay: the one-worker fallback plan, the shard key, shard coverage and merged counters.

use super::*;
use crate::source::SourceFile;

fn rules(text: &str) -> Ruleset {
    let loaded = crate::ir::load(&SourceFile::new("t", text.to_string()));
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.ruleset
}

#[test]
fn plan_falls_back_for_cross_flow_state_only() {
    let plain = rules(
        "*filter\n-A FORWARD -m conntrack --ctstate NEW -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
    );
    assert_eq!(plan(&plain, 4).workers, 4);
    assert_eq!(plan(&plain, 4).reason, None);
    assert_eq!(plan(&plain, 0).workers, 1);
    let nat = rules("*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n");
    let p = plan(&nat, 2);
    assert_eq!(p.workers, 1);
    assert!(p.describe().contains("-j MASQUERADE"), "{}", p.describe());
    let limit =
        rules("*filter\n-N c\n-A INPUT -j c\n-A c -m limit --limit 1/s -j ACCEPT\nCOMMIT\n");
    assert!(plan(&limit, 2).describe().contains("-m limit"));
    // Asking for one worker is not a fallback.
    assert_eq!(plan(&nat, 1).reason, None);
}

/// A raw IPv4 packet (LINKTYPE_RAW) of `proto` with `payload`.
fn ip(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let len = (20 + payload.len()) as u16;
    let mut p = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0];
    p[2..4].copy_from_slice(&len.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

fn frame_of(data: &[u8]) -> Frame<'_> {
    Frame {
        index: 0,
        offset: 0,
        ts_ns: 0,
        linktype: packet::link::linktype::RAW,
        iface: None,
        orig_len: data.len() as u32,
        data,
        anomaly: None,
    }
}

fn key(data: &[u8]) -> u64 {
    shard_key(&frame_of(data))
}

#[test]
fn both_directions_and_quoting_icmp_errors_share_a_key() {
    let udp = [0x30, 0x39, 0, 53, 0, 8, 0, 0];
    let (a, b, router) = ([10, 0, 0, 1], [192, 0, 2, 7], [198, 51, 100, 1]);
    let there = key(&ip(a, b, 17, &udp));
    assert_eq!(there, key(&ip(b, a, 17, &udp)));
    assert_ne!(there, key(&ip(a, router, 17, &udp)));
    // A router's time-exceeded about a -> b quotes a -> b.
    let mut icmp = vec![11, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend(ip(a, b, 17, &udp));
    assert_eq!(key(&ip(router, a, 1, &icmp)), there);
    // An echo request is its own flow.
    icmp[0] = 8;
    assert_eq!(key(&ip(router, a, 1, &icmp)), key(&ip(a, router, 17, &udp)));
}

#[test]
fn ethernet_frames_key_as_strip_reads_them() {
    let udp = [0x30, 0x39, 0, 53, 0, 8, 0, 0];
    let packet = ip([10, 0, 0, 1], [192, 0, 2, 7], 17, &udp);
    let mut eth = vec![0xff; 12];
    eth.extend_from_slice(&[8, 0]);
    eth.extend_from_slice(&packet);
    let frame = |linktype, data| Frame {
        linktype,
        orig_len: 0,
        data,
        ..frame_of(&[])
    };
    let ethernet = packet::link::linktype::ETHERNET;
    assert_eq!(shard_key(&frame(ethernet, &eth)), key(&packet));
    // A VLAN tag: strip's way, same pair.
    let mut tagged = vec![0xff; 12];
    tagged.extend_from_slice(&[0x81, 0, 0, 5, 8, 0]);
    tagged.extend_from_slice(&packet);
    assert_eq!(shard_key(&frame(ethernet, &tagged)), key(&packet));
    // Not IPv4 after all, too short, or no frame: key 0, as strip says.
    for bad in [&eth[..20], &eth[..14], &eth[..3]] {
        assert!(packet::link::strip(ethernet, bad).is_err());
        assert_eq!(shard_key(&frame(ethernet, bad)), 0);
    }
    let mut v6 = eth.clone();
    v6[14] = 0x60;
    assert_eq!(shard_key(&frame(ethernet, &v6)), 0);
}

#[test]
fn the_key_read_in_place_is_the_decoded_headers() {
    // Versions, header lengths, lengths around 20, protocols (ICMP and
    // not), fragments: what `Ipv4::new` and the ICMP look make of them.
    let mut icmp_error = vec![3, 1, 0, 0, 0, 0, 0, 0];
    icmp_error.extend(ip([10, 0, 0, 9], [10, 0, 0, 8], 6, &[0; 8]));
    let mut packets = Vec::new();
    for proto in [1, 6, 17, 47] {
        for payload in [&icmp_error[..], &[0; 8], &[]] {
            let p = ip([192, 0, 2, 7], [10, 0, 0, 1], proto, payload);
            for first in [0x45, 0x46, 0x44, 0x40, 0x65, 0x4f] {
                for frag in [[0, 0], [0x20, 0], [0, 1], [0x40, 0]] {
                    let mut q = p.clone();
                    (q[0], q[6], q[7]) = (first, frag[0], frag[1]);
                    for len in [0, 19, 20, 27, q.len()] {
                        packets.push(q[..len.min(q.len())].to_vec());
                    }
                }
            }
        }
    }
    let ethernet = packet::link::linktype::ETHERNET;
    let mut with_flow = 0;
    for p in &packets {
        let mut eth = vec![0xff; 12];
        eth.extend_from_slice(&[8, 0]);
        eth.extend_from_slice(p);
        for (linktype, data) in [(packet::link::linktype::RAW, &p[..]), (ethernet, &eth)] {
            let decoded = l3(linktype, data).map_or(0, header_key);
            assert_eq!(shard_key_of(linktype, data), decoded, "{linktype} {data:?}");
            // The dealer keys a record by its flow when it has one: the same key.
            if let Some(flow) = super::touch::flow_of(linktype, data) {
                assert_eq!(flow_key(&flow), decoded, "{linktype} {data:?}");
                with_flow += 1;
            }
        }
    }
    assert!(with_flow > 20, "{with_flow}");
    // The ICMP error went with the pair it quotes, its fragments did not.
    let quoted = key(&ip([10, 0, 0, 8], [10, 0, 0, 9], 6, &[0; 8]));
    assert_eq!(
        key(&ip([192, 0, 2, 7], [10, 0, 0, 1], 1, &icmp_error)),
        quoted
    );
    assert!(packets.iter().filter(|p| key(p) == quoted).count() > 1);
}

#[test]
fn counters_add_up_on_builtin_chains_and_rules_only() {
    let text = "*filter\n:INPUT ACCEPT [1:10]\n:c - [0:0]\n[2:20] -A INPUT -j c\nCOMMIT\n";
    let rs = rules(text);
    // Two engines' counts: every policy and rule counted k times, 10k bytes.
    let counted = |k: u64| {
        let mut c = crate::eval::walk::TableCounters::for_table(&rs.tables[0]);
        c.policy.iter_mut().for_each(|p| *p = (k, 10 * k));
        c.rules
            .iter_mut()
            .flatten()
            .for_each(|r| *r = (2 * k, 20 * k));
        c
    };
    let mut sum = counted(1);
    sum.add(&counted(2));
    let out = Engine::ruleset_with(&rs, &[sum]);
    let chain = |name: &str| {
        let t = &out.tables[0];
        t.chains
            .iter()
            .find(|c| c.name == name)
            .expect("chain")
            .clone()
    };
    let input = chain("INPUT");
    assert_eq!((input.counters.packets, input.counters.bytes), (3, 30));
    let rule = &input.rules[0].counters;
    assert_eq!((rule.packets, rule.bytes), (6, 60));
    // A user chain keeps the file's counters: the kernel keeps none for it.
    let user = chain("c");
    let file = rs.tables[0]
        .chains
        .iter()
        .find(|c| c.name == "c")
        .expect("c");
    assert_eq!(user.counters, file.counters);
}
