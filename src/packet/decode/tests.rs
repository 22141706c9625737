use super::*;
use crate::packet::summary::parse;

fn eth(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0x01, 0x00, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0, 9, 0x08, 0x00];
    f.extend_from_slice(ip);
    f.extend_from_slice(&[0; 6]); // Ethernet padding
    f
}

#[test]
fn well_formed_tcp_decodes_with_valid_checksums() {
    let s = parse("tcp 10.0.0.104:40000>10.0.0.77:22 S len=5").unwrap();
    let f = eth(s.bytes());
    let p = decode_link(1, &f).unwrap();
    assert_eq!(p.problem, None);
    assert_eq!(p.l2.pkttype, Some(link::PktType::Multicast));
    assert_eq!(p.ip.bytes().len(), s.bytes().len(), "padding trimmed");
    assert_eq!(p.ports(), Some((40000, 22)));
    assert!(p.ip_checksum_ok());
    assert_eq!(p.l4_checksum_ok(), Some(true));
    assert_eq!(p.tcp().unwrap().payload().len(), 5);
}

#[test]
fn plain_frames_decode_as_the_general_way_does() {
    // Every frame `plain` accepts, among mutations of every header byte and truncations.
    let mut accepted = 0;
    for text in [
        "tcp 10.0.0.104:40000>10.0.0.77:22 S len=5",
        "udp 10.0.0.1:53>10.9.0.2:4000 len=7",
    ] {
        let base = eth(parse(text).unwrap().bytes());
        let mut frames: Vec<Vec<u8>> = (0..=base.len()).map(|n| base[..n].to_vec()).collect();
        for at in 0..14 + 28 {
            for v in [0u8, 1, 0x0f, 0x20, 0x45, 0x46, 0x50, 0x80, 0xff] {
                let mut f = base.clone();
                f[at] = v;
                frames.push(f);
            }
        }
        for f in frames {
            let Some(p) = crate::packet::plain(link::linktype::ETHERNET, &f) else {
                continue;
            };
            accepted += 1;
            assert_eq!(
                decode_plain(&f, p.ip),
                decode_link(link::linktype::ETHERNET, &f)
            );
        }
    }
    assert!(accepted > 100, "{accepted}");
}

#[test]
fn corrupted_checksums_are_seen() {
    for (text, byte) in [
        ("tcp 1.2.3.4:1>5.6.7.8:2 A len=3", 40),
        ("udp 1.2.3.4:1>5.6.7.8:2 len=3", 29),
        ("icmp 1.2.3.4>5.6.7.8 type=8 code=0", 27),
    ] {
        let mut b = parse(text).unwrap().bytes().to_vec();
        assert_eq!(
            decode_ipv4(L2::default(), &b).unwrap().l4_checksum_ok(),
            Some(true),
            "{text}"
        );
        b[byte] ^= 1;
        assert_eq!(
            decode_ipv4(L2::default(), &b).unwrap().l4_checksum_ok(),
            Some(false),
            "{text}"
        );
        b[8] ^= 1;
        assert!(!decode_ipv4(L2::default(), &b).unwrap().ip_checksum_ok());
    }
    let mut b = parse("udp 1.2.3.4:1>5.6.7.8:2").unwrap().bytes().to_vec();
    b[26..28].copy_from_slice(&[0, 0]);
    assert_eq!(
        decode_ipv4(L2::default(), &b).unwrap().l4_checksum_ok(),
        Some(true),
        "no checksum"
    );
    let b = parse("sctp 1.2.3.4:1>5.6.7.8:2 len=8").unwrap();
    assert_eq!(b.packet().unwrap().l4_checksum_ok(), Some(true));
    let mut sb = b.bytes().to_vec();
    sb[33] ^= 4;
    assert_eq!(
        decode_ipv4(L2::default(), &sb).unwrap().l4_checksum_ok(),
        Some(false)
    );
}

/// Cases run through Linux 6.18 with the oracle (`--no-fix-checksums`): a UDP-Lite checksum
/// with pseudo-header protocol 17 is accepted (NEW), one with 136 is INVALID, full or partial
/// coverage alike.
#[test]
fn udplite_checks_follow_the_kernel() {
    fn lite(pseudo_proto: u8, coverage: u16, check: bool) -> Vec<u8> {
        let mut b = parse("udplite 10.0.0.9:2000>10.0.0.104:3000 len=8")
            .unwrap()
            .bytes()
            .to_vec();
        b[24..26].copy_from_slice(&coverage.to_be_bytes());
        b[26..28].copy_from_slice(&[0, 0]);
        if check {
            let l4 = &b[20..];
            let covered = if coverage == 0 {
                l4
            } else {
                l4.get(..usize::from(coverage)).unwrap_or(l4)
            };
            let pseudo = checksum::pseudo_header(
                [10, 0, 0, 9].into(),
                [10, 0, 0, 104].into(),
                pseudo_proto,
                l4.len() as u32,
            );
            let c = checksum::finish(checksum::sum(covered, pseudo));
            b[26..28].copy_from_slice(&c.to_be_bytes());
        }
        b
    }
    let check = |b: &[u8]| {
        let p = decode_ipv4(L2::default(), b).unwrap();
        (p.problem, p.l4_checksum_ok())
    };
    assert_eq!(check(&lite(17, 0, true)), (None, Some(true)));
    assert_eq!(check(&lite(17, 12, true)), (None, Some(true)));
    assert_eq!(check(&lite(136, 0, true)), (None, Some(false)));
    assert_eq!(check(&lite(136, 12, true)), (None, Some(false)));
    assert_eq!(
        check(&lite(17, 0, false)).0,
        Some(Malformed::UdpLiteNoChecksum)
    );
    assert_eq!(
        check(&lite(17, 7, true)).0,
        Some(Malformed::UdpLiteCoverage {
            coverage: 7,
            have: 16
        })
    );
    assert_eq!(
        check(&lite(17, 17, true)).0,
        Some(Malformed::UdpLiteCoverage {
            coverage: 17,
            have: 16
        })
    );
}

#[test]
fn malformed_headers_are_flagged_in_kernel_order() {
    let good = parse("udp 1.2.3.4:1>5.6.7.8:2 len=4")
        .unwrap()
        .bytes()
        .to_vec();
    let mut b = good.clone();
    b[0] = 0x44;
    assert_eq!(
        decode_ipv4(L2::default(), &b).unwrap().problem,
        Some(Malformed::IhlTooSmall(4))
    );
    b[0] = 0x4f;
    assert!(matches!(
        decode_ipv4(L2::default(), &b).unwrap().problem,
        Some(Malformed::HeaderTruncated { header: 60, .. })
    ));
    let mut b = good.clone();
    b[3] = 200;
    assert!(matches!(
        decode_ipv4(L2::default(), &b).unwrap().problem,
        Some(Malformed::TotalLengthExceedsCaptured { total: 200, .. })
    ));
    b[3] = 10;
    assert!(matches!(
        decode_ipv4(L2::default(), &b).unwrap().problem,
        Some(Malformed::TotalLengthBelowHeader {
            total: 10,
            header: 20
        })
    ));
    let mut b = good.clone();
    b[25] = 40;
    assert!(matches!(
        decode_ipv4(L2::default(), &b).unwrap().problem,
        Some(Malformed::UdpLength { length: 40, .. })
    ));
    let mut t = parse("tcp 1.2.3.4:1>5.6.7.8:2 S").unwrap().bytes().to_vec();
    t[32] = 0x90;
    let p = decode_ipv4(L2::default(), &t).unwrap();
    assert_eq!(
        p.problem,
        Some(Malformed::TcpDataOffset { doff: 9, have: 20 })
    );
    assert_eq!(p.l4_checksum_ok(), None);
    assert!(p.problem.unwrap().to_string().contains("data offset 9"));
    assert_eq!(
        decode_ipv4(L2::default(), &t[..19]),
        Err(Skip::BadIpv4Header)
    );
}

#[test]
fn truncated_tcp_header_is_flagged() {
    let mut t = parse("tcp 1.2.3.4:1>5.6.7.8:2 S").unwrap().bytes().to_vec();
    t.truncate(30);
    t[3] = 30;
    let p = decode_ipv4(L2::default(), &t).unwrap();
    assert_eq!(p.l4, L4::Truncated { proto: 6, have: 10 });
    assert_eq!(
        p.problem,
        Some(Malformed::L4Truncated { proto: 6, have: 10 })
    );
}

#[test]
fn fragments_keep_the_first_l4_header() {
    let mut first = parse("udp 10.0.0.1:5000>10.0.0.2:53 len=100 frag")
        .unwrap()
        .bytes()
        .to_vec();
    first.truncate(20 + 16);
    first[2..4].copy_from_slice(&36u16.to_be_bytes());
    let p = decode_ipv4(L2::default(), &first).unwrap();
    assert!(p.is_fragment() && p.ip.mf());
    assert_eq!(p.ports(), Some((5000, 53)));
    assert_eq!(
        p.problem, None,
        "a first fragment's UDP length covers the whole datagram"
    );
    assert_eq!(p.l4_checksum_ok(), None);
    let mut later = first.clone();
    later[6..8].copy_from_slice(&0x0002u16.to_be_bytes());
    let p = decode_ipv4(L2::default(), &later).unwrap();
    assert_eq!(
        (p.l4, p.ip.frag_offset_bytes(), p.ip.mf()),
        (L4::NonFirstFragment, 16, false)
    );
}

#[test]
fn frame_skips_carry_the_oracle_wording() {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x06]);
    f.extend_from_slice(&[0; 28]);
    assert_eq!(
        decode_link(1, &f).unwrap_err().to_string(),
        "ethertype 0x0806"
    );
}

/// Throughput check (run with `--ignored --nocapture`, ideally optimised): read + decode of an
/// in-memory capture, and the same with the transport checksum verified.
#[test]
#[ignore]
fn throughput() {
    use crate::packet::capture::CaptureReader;
    let mut cap = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ];
    let frames: Vec<Vec<u8>> = [
        "tcp 10.0.0.1:40000>10.0.0.2:22 PA len=100",
        "udp 10.0.0.1:53>10.0.0.2:5353 len=60",
        "tcp 10.0.0.2:22>10.0.0.1:40000 A",
    ]
    .iter()
    .map(|s| eth(parse(s).unwrap().bytes()))
    .collect();
    let n = 1_000_000u32;
    for i in 0..n {
        let f = &frames[(i % 3) as usize];
        cap.extend_from_slice(&i.to_le_bytes());
        cap.extend_from_slice(&0u32.to_le_bytes());
        cap.extend_from_slice(&(f.len() as u32).to_le_bytes());
        cap.extend_from_slice(&(f.len() as u32).to_le_bytes());
        cap.extend_from_slice(f);
    }
    for with_csum in [false, true] {
        let t = std::time::Instant::now();
        let mut rd = CaptureReader::new(&cap[..]).unwrap();
        let mut acc = 0u64;
        while let Some(Ok(f)) = rd.next_frame() {
            let p = decode(&f).unwrap();
            acc += u64::from(p.ports().map_or(0, |(a, _)| a))
                + u64::from(p.tcp().map_or(0, |t| t.flags8()));
            if with_csum {
                acc += u64::from(p.l4_checksum_ok() == Some(true));
            }
        }
        let secs = t.elapsed().as_secs_f64();
        // Every third packet (the UDP one) has source port 53; the TCP ones 40000 with PA (0x18)
        // and 22 with A (0x10); checksums are all valid.
        let per_cycle = 40_000 + 0x18 + 53 + 22 + 0x10 + if with_csum { 3 } else { 0 };
        let cycles = u64::from(n / 3);
        let tail = 40_000 + 0x18 + if with_csum { 1 } else { 0 };
        assert_eq!(acc, cycles * per_cycle + tail);
        eprintln!(
            "checksum={with_csum}: {:.2} M packets/s (acc {acc})",
            f64::from(n) / secs / 1e6
        );
    }
}
