//! Unit tests of NAT bindings; the kernel values come from the oracle scenarios named.

use super::*;
use crate::conntrack::{Hook, L4Info, PacketInfo, Params, UdpDatagram};

fn ip(s: &str) -> u32 {
    u32::from(s.parse::<Ipv4Addr>().unwrap())
}

fn udp(src: &str, sp: u16, dst: &str, dp: u16) -> PacketInfo {
    PacketInfo {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        proto: 17,
        l4: L4Info::Udp(UdpDatagram {
            sport: sp,
            dport: dp,
            length_field: 12,
            l4_len: 12,
        }),
        ts_ns: 0,
        hook: Hook::PreRouting,
        checksum_ok: true,
    }
}

fn snat_to(a: &str) -> Range {
    Range {
        addrs: Some((ip(a), ip(a))),
        ..Range::default()
    }
}

#[test]
fn snat_rewrites_reply_and_replies_are_denatted() {
    let mut t = Table::new(Params::default());
    let id = t
        .process(&udp("192.168.1.5", 5000, "1.1.1.1", 53))
        .conn
        .unwrap();
    let b = t
        .nat_setup(id, &snat_to("10.0.0.104"), Manip::Src, 0)
        .unwrap();
    assert_eq!(
        b,
        Binding {
            changed: true,
            random_port: false
        }
    );
    t.confirm(id).unwrap();
    let c = t.get(id).unwrap();
    assert_eq!(c.tuple[1].to_string(), "1.1.1.1:53>10.0.0.104:5000");
    assert!(c.status.has(Status::SRC_NAT | Status::SRC_NAT_DONE));
    // Originals get their source rewritten in POSTROUTING, replies their destination in
    // PREROUTING; nothing else changes.
    assert_eq!(
        t.nat_target(id, Dir::Original, Manip::Src),
        Some((ip("10.0.0.104"), Some(5000)))
    );
    assert_eq!(
        t.nat_target(id, Dir::Reply, Manip::Dst),
        Some((ip("192.168.1.5"), Some(5000)))
    );
    assert_eq!(t.nat_target(id, Dir::Original, Manip::Dst), None);
    assert_eq!(t.nat_setup(id, &snat_to("10.0.0.1"), Manip::Src, 0), None);
}

#[test]
fn clashing_source_port_moves_and_dnat_keeps_the_port() {
    let mut t = Table::new(Params::default());
    let a = t
        .process(&udp("192.168.1.5", 5000, "1.1.1.1", 53))
        .conn
        .unwrap();
    t.nat_setup(a, &snat_to("10.0.0.104"), Manip::Src, 0);
    t.confirm(a).unwrap();
    let b = t
        .process(&udp("192.168.1.6", 5000, "1.1.1.1", 53))
        .conn
        .unwrap();
    let bind = t
        .nat_setup(b, &snat_to("10.0.0.104"), Manip::Src, 0)
        .unwrap();
    assert!(bind.changed && bind.random_port);
    assert_eq!(
        t.get(b).unwrap().tuple[1].to_string(),
        "1.1.1.1:53>10.0.0.104:1024"
    );
    // A null binding of an unclashing tuple changes nothing but marks the manip done.
    let c = t
        .process(&udp("192.168.1.7", 7, "1.1.1.1", 53))
        .conn
        .unwrap();
    let null = t.nat_null_range(c, Manip::Dst).unwrap();
    assert_eq!(
        t.nat_setup(c, &null, Manip::Dst, 0),
        Some(Binding::default())
    );
    assert!(t.nat_initialized(c, Manip::Dst) && !t.nat_initialized(c, Manip::Src));
}

fn tuple(src: &str, dst: &str) -> Tuple {
    Tuple {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        proto: 17,
        l4: L4Key::Ports { src: 1, dst: 2 },
    }
}

/// Addresses the kernel (6.18) chose in hm_nat_source_selection.
#[test]
fn range_addresses_are_the_kernels_jhash_choice() {
    let snat = (ip("203.0.113.100"), ip("203.0.113.107"));
    for (src, dst, want) in [
        ("192.168.1.5", "198.51.100.53", "203.0.113.100"),
        ("192.168.1.6", "198.51.100.53", "203.0.113.102"),
        ("192.168.1.8", "198.51.100.53", "203.0.113.107"),
        ("192.168.1.7", "198.51.100.54", "203.0.113.107"),
        ("192.168.1.7", "198.51.100.55", "203.0.113.102"),
    ] {
        assert_eq!(
            best_ip(&tuple(src, dst), snat, false),
            ip(want),
            "{src}>{dst}"
        );
    }
    // --persistent: the source alone decides.
    for dst in ["198.51.100.80", "8.8.8.8", "1.1.1.1"] {
        assert_eq!(
            best_ip(&tuple("192.168.1.9", dst), snat, true),
            ip("203.0.113.107")
        );
    }
    let dnat = (ip("192.168.1.10"), ip("192.168.1.14"));
    let to_host = |src: &str| tuple(src, "10.0.0.104");
    assert_eq!(
        best_ip(&to_host("198.51.100.100"), dnat, false),
        ip("192.168.1.11")
    );
    assert_eq!(
        best_ip(&to_host("198.51.100.113"), dnat, false),
        ip("192.168.1.14")
    );
    assert_eq!(
        best_ip(&to_host("198.51.100.165"), dnat, false),
        ip("192.168.1.10")
    );
    let persistent = (ip("192.168.1.30"), ip("192.168.1.37"));
    assert_eq!(
        best_ip(&to_host("198.51.100.113"), persistent, true),
        ip("192.168.1.36")
    );
}

#[test]
fn the_same_source_keeps_its_mapping() {
    let mut t = Table::new(Params::default());
    let range = Range {
        addrs: Some((ip("203.0.113.100"), ip("203.0.113.107"))),
        ..Range::default()
    };
    let mut mapped = |dst: &str| {
        let id = t.process(&udp("192.168.1.7", 6000, dst, 53)).conn.unwrap();
        t.nat_setup(id, &range, Manip::Src, 0).unwrap();
        t.confirm(id).unwrap();
        t.get(id).unwrap().tuple[1].dst
    };
    // Alone, 198.51.100.55 would hash to .102 (see above); the mapping made for .54 wins.
    assert_eq!(mapped("198.51.100.54").to_string(), "203.0.113.107");
    assert_eq!(mapped("198.51.100.55").to_string(), "203.0.113.107");
}

#[test]
fn dead_entries_leave_the_source_index() {
    let mut t = Table::new(Params::default());
    let id = t
        .process(&udp("192.168.1.5", 5000, "1.1.1.1", 53))
        .conn
        .unwrap();
    t.nat_setup(id, &snat_to("10.0.0.104"), Manip::Src, 0);
    assert_eq!(t.bysource.values().map(Vec::len).sum::<usize>(), 1);
    t.discard(id);
    assert!(t.bysource.is_empty());
}
