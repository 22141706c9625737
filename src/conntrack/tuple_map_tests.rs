//! Tests of the tuple hash: lookups, growth and backward-shift deletion against a plain map.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn v4(a: [u8; 4], b: [u8; 4], proto: u8, l4: L4Key) -> Tuple {
    Tuple {
        src: IpAddr::V4(Ipv4Addr::from(a)),
        dst: IpAddr::V4(Ipv4Addr::from(b)),
        proto,
        l4,
    }
}

/// A flow given by its numbers packs like its tuple.
#[test]
fn flow_keys_are_tuple_keys() {
    for (src, dst, proto, sport, dport) in [
        (0x0a00_0001, 0xc000_0207, 6, 40000, 443),
        (u32::MAX, 0, 17, 0, u16::MAX),
        (1, 2, 132, 7, 9),
    ] {
        let f = Flow4 {
            src,
            dst,
            proto,
            sport,
            dport,
        };
        let t = v4(
            src.to_be_bytes(),
            dst.to_be_bytes(),
            proto,
            L4Key::Ports {
                src: sport,
                dst: dport,
            },
        );
        assert_eq!(Some(Key4::ports(&f)), Key4::of(&t));
        // The reversed flow is the inverted tuple (where confirmation enters the reply).
        assert_eq!(
            Some(Key4::ports(&f.reversed())),
            t.invert().as_ref().and_then(Key4::of)
        );
        let mut m = TupleMap::default();
        m.insert(t, (5, Dir::Reply));
        assert_eq!(m.get_v4(&f), Some(5));
        assert_eq!(m.cell_word(&f), Key4::ports(&f).rest);
    }
}

/// Tuples that differ in any one part get different packed keys (the packing loses
/// nothing), and each family finds its own entries.
#[test]
fn packing_is_lossless_and_families_stay_apart() {
    let ports = L4Key::Ports { src: 1, dst: 2 };
    let icmp = L4Key::Icmp {
        id: 1,
        kind: 0,
        code: 2,
    };
    let base = v4([10, 0, 0, 1], [10, 0, 0, 2], 6, ports);
    let variants = [
        base,
        v4([10, 0, 0, 2], [10, 0, 0, 1], 6, ports),
        v4([10, 0, 0, 1], [10, 0, 0, 2], 17, ports),
        v4(
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            6,
            L4Key::Ports { src: 2, dst: 1 },
        ),
        v4([10, 0, 0, 1], [10, 0, 0, 2], 6, icmp),
        v4([10, 0, 0, 1], [10, 0, 0, 2], 6, L4Key::None),
        v4(
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            1,
            L4Key::Icmp {
                id: 0,
                kind: 1,
                code: 2,
            },
        ),
    ];
    let mut m = TupleMap::default();
    for (i, t) in variants.iter().enumerate() {
        m.insert(*t, (i as u32, Dir::Original));
    }
    let six = Tuple {
        src: IpAddr::V6(Ipv6Addr::LOCALHOST),
        dst: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        proto: 6,
        l4: ports,
    };
    m.insert(six, (99, Dir::Reply));
    assert_eq!(m.len(), variants.len() + 1);
    for (i, t) in variants.iter().enumerate() {
        assert_eq!(m.get(t), Some((i as u32, Dir::Original)));
    }
    assert_eq!(m.get(&six), Some((99, Dir::Reply)));
    m.remove(&base);
    m.remove(&six);
    assert!(!m.contains_key(&base) && !m.contains_key(&six));
    assert_eq!(m.len(), variants.len() - 1);
}

/// `insert_pair` does what checking both tuples and inserting both did: on a small key
/// space (clashes, self-inverse tuples, long probe runs, growth from an empty map) it
/// agrees with a `HashMap` driven the old way.
#[test]
fn insert_pair_is_check_then_insert_both() {
    // 64 distinct tuples: 4 sources x 4 destinations x 4 source ports (some equal to
    // their inverse: same address and ports both ways).
    let key = |n: u64| {
        let b = |v: u64| u8::try_from(v % 4).unwrap_or(0);
        let port = 80 + (n / 16 % 4) as u16;
        v4(
            [10, 0, 0, b(n)],
            [10, 0, 0, b(n / 4)],
            6,
            L4Key::Ports { src: port, dst: 80 },
        )
    };
    let mut m = TupleMap::default();
    let mut model: HashMap<Tuple, (u32, Dir)> = HashMap::new();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let (mut inserted, mut clashed) = (0, 0);
    for step in 0..20_000u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (o, r) = (key(x % 64), key(x >> 8 & 63));
        if x & 7 << 30 == 0 {
            m.remove(&o);
            model.remove(&o);
            continue;
        }
        let free = !model.contains_key(&o) && !model.contains_key(&r);
        if free {
            model.insert(o, (step, Dir::Original));
            model.insert(r, (step, Dir::Reply));
            inserted += 1;
        } else {
            clashed += 1;
        }
        assert_eq!(m.insert_pair(&o, &r, step), free, "step {step}");
        assert_eq!(m.len(), model.len(), "step {step}");
        for k in 0..64 {
            let q = key(k);
            assert_eq!(m.get(&q), model.get(&q).copied(), "step {step}");
        }
    }
    assert!(inserted > 1000 && clashed > 1000, "{inserted} {clashed}");
}

/// The flat table agrees with a `HashMap` over a long run of inserts, overwrites and
/// removals on a small key space (long probe runs, wrap-around, backward shifts, growth).
#[test]
fn flat_table_matches_a_hashmap() {
    // 300 distinct tuples: 10 sources x 10 destinations x 3 source ports.
    let key = |n: u16| {
        let b = |v: u16| u8::try_from(v % 10).unwrap_or(0);
        v4(
            [10, 0, 0, b(n)],
            [10, 0, 1, b(n / 10)],
            6,
            L4Key::Ports {
                src: n / 100,
                dst: 80,
            },
        )
    };
    let mut m = TupleMap::default();
    let mut model: HashMap<Tuple, (u32, Dir)> = HashMap::new();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for step in 0..40_000u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = key((x % 300) as u16);
        let dir = if x & 1 << 40 != 0 {
            Dir::Reply
        } else {
            Dir::Original
        };
        if x & 3 << 20 == 0 {
            m.remove(&t);
            model.remove(&t);
        } else {
            m.insert(t, (step, dir));
            model.insert(t, (step, dir));
        }
        if step % 97 == 0 {
            assert_eq!(m.len(), model.len());
            for k in 0..300u16 {
                let q = key(k);
                assert_eq!(m.get(&q), model.get(&q).copied(), "step {step}");
            }
        }
    }
    assert!(m.len() > 10 && m.len() < 300);
}
