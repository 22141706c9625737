use super::*;

fn tcp_hdr(flags12: u8, flags13: u8, options: &[u8]) -> Vec<u8> {
    let doff = (20 + options.len()) / 4;
    let mut v = vec![
        0x9c,
        0x40,
        0x00,
        0x16,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        2,
        (doff as u8) << 4 | flags12,
        flags13,
        0xfa,
        0xf0,
        0xab,
        0xcd,
        0,
        7,
    ];
    v.extend_from_slice(options);
    v
}

#[test]
fn tcp_fields_and_all_flag_bits() {
    let mut b = tcp_hdr(0x0f, 0xff, &[]);
    b.extend_from_slice(b"data");
    let L4::Tcp(t) = decode(proto::TCP, &b) else {
        panic!("not tcp")
    };
    assert_eq!((t.sport(), t.dport(), t.seq(), t.ack()), (40000, 22, 1, 2));
    assert_eq!(
        (t.doff(), t.window(), t.checksum(), t.urgent()),
        (5, 0xfaf0, 0xabcd, 7)
    );
    assert_eq!(t.flags(), 0xfff);
    assert!(t.has(tcp_flags::AE) && t.has(tcp_flags::CWR) && t.has(tcp_flags::ECE));
    assert_eq!(t.flags() & tcp_flags::RESERVED, 0xe00);
    assert_eq!(t.flags8(), 0xff);
    assert_eq!(t.payload(), b"data");
    assert!(t.header_ok());
}

#[test]
fn tcp_options_as_the_kernel_parses_them() {
    let opts = [
        2, 4, 0x05, 0xb4, // MSS 1460
        1,    // NOP
        3, 3, 7, // window scale 7
        4, 2, // SACK permitted
        8, 10, 0, 0, 0, 1, 0, 0, 0, 2, // timestamps
        5, 10, 0, 0, 0, 10, 0, 0, 0, 20, // one SACK block
        3, 4, 1, 1, // wrong-length window scale: ignored as a known option
        0, 0, // EOL + pad
    ];
    let b = tcp_hdr(0, 0x02, &opts);
    let t = Tcp::new(&b).unwrap();
    assert_eq!(t.header_len(), 20 + opts.len());
    let got: Vec<TcpOption<'_>> = t.options().collect();
    assert_eq!(got[0], TcpOption::Mss(1460));
    assert_eq!(got[1], TcpOption::WindowScale(7));
    assert_eq!(got[2], TcpOption::SackPermitted);
    assert_eq!(got[3], TcpOption::Timestamp { val: 1, ecr: 2 });
    let TcpOption::Sack(raw) = got[4] else {
        panic!("sack")
    };
    assert_eq!(sack_blocks(raw).collect::<Vec<_>>(), [(10, 20)]);
    assert_eq!(
        got[5],
        TcpOption::Other {
            kind: 3,
            data: &[1, 1]
        }
    );
    assert_eq!(got.len(), 6);
    // An option whose length runs past the header stops parsing; so does a length below 2.
    assert_eq!(
        Tcp::new(&tcp_hdr(0, 2, &[2, 8, 0, 0]))
            .unwrap()
            .options()
            .count(),
        0
    );
    assert_eq!(
        Tcp::new(&tcp_hdr(0, 2, &[1, 8, 1, 0]))
            .unwrap()
            .options()
            .count(),
        0
    );
}

#[test]
fn tcp_bad_data_offset() {
    let mut b = tcp_hdr(0, 2, &[]);
    b[12] = 0x30;
    let t = Tcp::new(&b).unwrap();
    assert!(!t.header_ok() && t.payload().is_empty() && t.options().next().is_none());
    b[12] = 0xf0;
    assert!(!Tcp::new(&b).unwrap().header_ok());
    assert_eq!(
        decode(proto::TCP, &b[..19]),
        L4::Truncated { proto: 6, have: 19 }
    );
}

#[test]
fn udp_and_length_check() {
    let b = [0, 53, 0x9c, 0x40, 0, 10, 0, 0, 1, 2];
    let L4::Udp(u) = decode(proto::UDP, &b) else {
        panic!("udp")
    };
    assert_eq!(
        (u.sport(), u.dport(), u.length(), u.checksum(), u.payload()),
        (53, 40000, 10, 0, &[1u8, 2][..])
    );
    assert!(u.length_ok());
    assert!(!Udp::new(&[0, 53, 0, 53, 0, 11, 0, 0, 1, 2])
        .unwrap()
        .length_ok());
    assert!(!Udp::new(&[0, 53, 0, 53, 0, 7, 0, 0]).unwrap().length_ok());
    assert_eq!(
        decode(proto::UDP, &b[..7]),
        L4::Truncated { proto: 17, have: 7 }
    );
}

#[test]
fn icmp_echo_and_error_with_quote() {
    let echo = [8, 0, 0, 0, 0x12, 0x34, 0, 5];
    let L4::Icmp(i) = decode(proto::ICMP, &echo) else {
        panic!("icmp")
    };
    assert_eq!((i.kind(), i.code(), i.id_seq()), (8, 0, Some((0x1234, 5))));
    assert!(i.quoted().is_none());
    let mut err = vec![3, 3, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(&[
        0x46, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 1, 4, 0, 0,
    ]);
    err.extend_from_slice(&[0x9c, 0x40, 0, 53, 0, 8, 0, 0]);
    err.extend_from_slice(&[0xee; 6]); // RFC 4884 extension bytes beyond the quoted length
    let q = Icmp::new(&err).unwrap().quoted().unwrap();
    assert_eq!(
        (q.ip.proto(), q.ip.header_len(), q.ports()),
        (17, 24, Some((40000, 53)))
    );
    assert_eq!(q.l4.len(), 8, "trimmed to the quoted total length");
    assert!(matches!(q.l4(), L4::Udp(u) if u.dport() == 53));
    assert_eq!(Icmp::new(&err[..27]).unwrap().quoted(), None);
    assert_eq!(
        decode(proto::ICMP, &[3, 3, 0]),
        L4::Truncated { proto: 1, have: 3 }
    );
}

#[test]
fn quoted_tcp_cut_to_eight_bytes() {
    let mut err = vec![11, 0, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(&[
        0x45, 0, 0, 60, 0, 1, 0, 0, 1, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ]);
    err.extend_from_slice(&[0x9c, 0x40, 0, 22, 0, 0, 1, 0]);
    let q = Icmp::new(&err).unwrap().quoted().unwrap();
    assert_eq!(
        (q.ports(), q.tcp_seq(), q.icmp()),
        (Some((40000, 22)), Some(256), None)
    );
    assert_eq!(q.l4(), L4::Truncated { proto: 6, have: 8 });
}

#[test]
fn other_protocols() {
    assert_eq!(
        decode(proto::SCTP, &[0, 7, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
        L4::Sctp {
            sport: 7,
            dport: 9,
            vtag: Some(1),
            first_chunk: Some(1)
        }
    );
    assert_eq!(
        decode(proto::SCTP, &[0, 7, 0]),
        L4::Truncated {
            proto: 132,
            have: 3
        }
    );
    assert_eq!(
        decode(proto::DCCP, &[0, 7, 0, 9, 3, 0, 0, 0, 0x01 << 1, 0, 0, 0]),
        L4::Dccp {
            sport: 7,
            dport: 9,
            kind: Some(1)
        }
    );
    assert_eq!(
        decode(proto::DCCP, &[0, 7, 0, 9]),
        L4::Dccp {
            sport: 7,
            dport: 9,
            kind: None
        }
    );
    assert_eq!(
        decode(proto::UDPLITE, &[0, 7, 0, 9]),
        L4::UdpLite { sport: 7, dport: 9 }
    );
    assert_eq!(
        decode(proto::ESP, &[0, 0, 1, 0, 0, 0, 0, 1]),
        L4::Esp { spi: 256 }
    );
    assert_eq!(
        decode(proto::AH, &[6, 4, 0, 0, 0, 0, 0, 9]),
        L4::Ah { spi: 9, next: 6 }
    );
    // PPTP enhanced GRE: K bit, version 1, protocol 0x880b, key = payload length | call id.
    assert_eq!(
        decode(proto::GRE, &[0x20, 0x01, 0x88, 0x0b, 0, 10, 0x12, 0x34]),
        L4::Gre {
            flags_version: 0x2001,
            proto: 0x880b,
            key: Some(0x000a_1234)
        }
    );
    assert_eq!(
        decode(
            proto::GRE,
            &[0xa0, 0, 0x08, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 5]
        ),
        L4::Gre {
            flags_version: 0xa000,
            proto: 0x0800,
            key: Some(5)
        }
    );
    assert_eq!(decode(4, &[0x45]), L4::Other);
    assert_eq!(decode(proto::SCTP, &[0, 7, 0, 9]).ports(), Some((7, 9)));
    assert_eq!(decode(proto::ESP, &[0, 0, 0, 1]).ports(), None);
}
