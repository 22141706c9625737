//! Unit tests of the FTP parsers and the newline rule, against the behaviour of
//! nf_conntrack_ftp.c (the end-to-end cases are the oracle scenarios hm_ftp_helper,
//! hm_ftp_edges, gen_s1x and corpus_ftp_*).

use super::*;
use std::net::Ipv4Addr;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn control() -> [Tuple; 2] {
    let t = Tuple {
        src: v4(10, 0, 0, 104),
        dst: v4(10, 0, 0, 77),
        proto: 6,
        l4: L4Key::Ports {
            src: 40021,
            dst: 21,
        },
    };
    [t, t.invert().unwrap()]
}

/// A TCP segment with `seq` and `payload` (20-byte header).
fn seg(seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; 20];
    v[4..8].copy_from_slice(&seq.to_be_bytes());
    v[12] = 5 << 4;
    v.extend_from_slice(payload);
    v
}

fn run(info: &mut FtpMaster, dir: Dir, seq: u32, payload: &[u8]) -> Action {
    help(info, &control(), dir, true, &seg(seq, payload))
}

fn expected(a: &Action) -> String {
    match a {
        Action::Expect { tuple, .. } => tuple.to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn first_line_in_each_direction_is_never_parsed() {
    let mut m = FtpMaster::default();
    let port = b"PORT 10,0,0,104,156,64\r\n";
    assert_eq!(run(&mut m, Dir::Original, 100, port), Action::Accept);
    // The next line starts where the first ended: parsed.
    let next = 100 + port.len() as u32;
    let a = run(&mut m, Dir::Original, next, port);
    assert_eq!(expected(&a), "10.0.0.77:0>10.0.0.104:40000");
    // The reply direction has its own memory.
    let pasv = b"227 Entering Passive Mode (10,0,0,77,195,80).\r\n";
    assert_eq!(run(&mut m, Dir::Reply, 7, pasv), Action::Accept);
    let a = run(&mut m, Dir::Reply, 7 + pasv.len() as u32, pasv);
    assert_eq!(expected(&a), "10.0.0.104:0>10.0.0.77:50000");
}

#[test]
fn a_segment_without_newline_breaks_the_chain() {
    let mut m = FtpMaster::default();
    run(&mut m, Dir::Original, 0, b"USER a\r\n");
    // "PORT 10,0,0,104," then the rest: the second part does not start after a newline,
    // the first is a partial match and is dropped.
    let a = run(&mut m, Dir::Original, 8, b"PORT 10,0,0,104,");
    assert!(matches!(a, Action::Drop(_)), "{a:?}");
    let a = run(&mut m, Dir::Original, 24, b"156,64\r\n");
    assert_eq!(a, Action::Accept);
}

#[test]
fn eprt_epsv_and_bounce() {
    let mut m = FtpMaster::default();
    run(&mut m, Dir::Original, 0, b"USER a\r\n");
    let eprt = b"EPRT |1|10.0.0.104|40001|\r\n";
    assert_eq!(
        expected(&run(&mut m, Dir::Original, 8, eprt)),
        "10.0.0.77:0>10.0.0.104:40001"
    );
    run(&mut m, Dir::Reply, 0, b"220 hi\r\n");
    let epsv = b"229 Entering Extended Passive Mode (|||50001|)\r\n";
    assert_eq!(
        expected(&run(&mut m, Dir::Reply, 8, epsv)),
        "10.0.0.104:0>10.0.0.77:50001"
    );
    let next = 8 + eprt.len() as u32;
    let bounce = b"PORT 10,0,0,50,156,66\r\n";
    assert_eq!(run(&mut m, Dir::Original, next, bounce), Action::Accept);
}

#[test]
fn find_pattern_outcomes() {
    let s = &SEARCH[0][0];
    let me = v4(10, 0, 0, 104);
    assert_eq!(find_pattern(b"PO", s, me), Found::Partial);
    assert_eq!(find_pattern(b"PASV\r\n", s, me), Found::No);
    // No space after PORT: runs to the end looking for it.
    assert_eq!(find_pattern(b"PORT\r\n", s, me), Found::Partial);
    // The numbers must end with '\r' for PORT.
    assert_eq!(find_pattern(b"PORT 1,2,3,4,5,6\n", s, me), Found::Partial);
    let Found::Yes(m) = find_pattern(b"port 1,2,3,4,5,6\r\n", s, me) else {
        panic!()
    };
    assert_eq!(
        (m.addr, m.port, m.off, m.len),
        (v4(1, 2, 3, 4), 1286, 5, 11)
    );
    // 227 scans for the first digit; anything ends the sixth number.
    let Found::Yes(m) = find_pattern(b"227 x=1,2,3,4,0,21\r\n", &SEARCH[1][0], me) else {
        panic!()
    };
    assert_eq!((m.port, m.off), (21, 6));
    let m = find_pattern(b"227 (1,2,3,4,0,21)", &SEARCH[1][0], me);
    assert!(matches!(m, Found::Yes(FtpMatch { port: 21, .. })));
}

#[test]
fn numbers_wrap_like_the_kernel() {
    // No range check: 300 << 8 | 2 = 76802, truncated to 16 bits.
    let (_, ip, port) = try_rfc959(b"10,0,0,1,300,2\r", b'\r').unwrap();
    assert_eq!(
        (ip, port),
        (Ipv4Addr::new(10, 0, 0, 1), (76802u32 & 0xffff) as u16)
    );
    assert_eq!(get_port(b"|||0|", 3, b'|'), None);
    assert_eq!(get_port(b"|||65537|", 3, b'|'), Some((9, 1)));
    assert_eq!(try_epsv_response(b"|||"), None);
    assert_eq!(try_epsv_response(b"1112|"), None);
    assert_eq!(try_eprt(b"|2|::1|5|", true), None);
    assert_eq!(
        try_eprt(b"|2|2001:db8::1|21|", false),
        Some((18, "2001:db8::1".parse().unwrap(), 21))
    );
}

#[test]
fn update_keeps_the_two_newest() {
    let mut m = FtpMaster::default();
    for s in [10, 20, 30, 15] {
        update_nl_seq(&mut m, s, 0);
    }
    let mut kept = m.seq_aft_nl[0];
    kept.sort_unstable();
    assert_eq!(kept, [20, 30]);
}

#[test]
fn not_before_traffic_both_ways_nor_without_data() {
    let mut m = FtpMaster::default();
    m.seq_aft_nl[0][0] = 5;
    m.seq_aft_nl_num[0] = 1;
    let port = seg(5, b"PORT 10,0,0,104,156,64\r\n");
    assert_eq!(
        help(&mut m, &control(), Dir::Original, false, &port),
        Action::Accept
    );
    assert_eq!(m.seq_aft_nl_num[0], 1, "not looked at, not remembered");
    assert_eq!(run(&mut m, Dir::Original, 5, b""), Action::Accept);
    assert!(matches!(
        run(&mut m, Dir::Original, 5, &port[20..]),
        Action::Expect { .. }
    ));
}
