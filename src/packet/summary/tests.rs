use super::*;

fn ip(proto: u8, frag_word: u16, l4: &[u8]) -> Vec<u8> {
    let mut v = vec![0x45, 0];
    v.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&frag_word.to_be_bytes());
    v.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    v.extend_from_slice(l4);
    v
}

fn s(b: &[u8]) -> String {
    Summary::of_ip(b).to_string()
}

#[test]
fn tcp_flags_letters_and_empty_flags() {
    let mut tcp = vec![
        0x9c, 0x40, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0x51, 0x12, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(s(&ip(6, 0, &tcp)), "tcp 10.0.0.1:40000>10.0.0.2:22 SA");
    tcp[13] = 0xff;
    assert_eq!(
        s(&ip(6, 0, &tcp)),
        "tcp 10.0.0.1:40000>10.0.0.2:22 FSRPAUEC",
        "AE (byte 12) is not printed"
    );
    tcp[13] = 0;
    assert_eq!(
        s(&ip(6, 0, &tcp)),
        "tcp 10.0.0.1:40000>10.0.0.2:22 ",
        "the oracle keeps the space"
    );
    assert_eq!(s(&ip(6, 0, &tcp[..13])), "tcp 10.0.0.1:40000>10.0.0.2:22");
    assert_eq!(s(&ip(6, 0, &tcp[..3])), "tcp 10.0.0.1>10.0.0.2");
}

#[test]
fn fragments() {
    let udp = [0x13, 0x88, 0, 53, 0, 8, 0, 0];
    assert_eq!(
        s(&ip(17, 0x2000, &udp)),
        "udp 10.0.0.1:5000>10.0.0.2:53 frag"
    );
    assert_eq!(s(&ip(17, 0x0003, &udp)), "udp 10.0.0.1>10.0.0.2 frag");
    assert_eq!(
        s(&ip(17, 0x4000, &udp)),
        "udp 10.0.0.1:5000>10.0.0.2:53",
        "DF is not a fragment"
    );
    let tcp24 = [
        0x1e, 0x6e, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4,
    ];
    assert_eq!(
        s(&ip(6, 0x2000, &tcp24)),
        "tcp 10.0.0.1:7790>10.0.0.2:80  frag"
    );
}

#[test]
fn other_protocols() {
    assert_eq!(
        s(&ip(132, 0, &[0, 7, 0, 9, 0, 0, 0, 0])),
        "proto132 10.0.0.1:7>10.0.0.2:9"
    );
    assert_eq!(
        s(&ip(33, 0, &[0, 7, 0, 9])),
        "proto33 10.0.0.1:7>10.0.0.2:9"
    );
    assert_eq!(
        s(&ip(136, 0, &[0, 7, 0, 9])),
        "proto136 10.0.0.1:7>10.0.0.2:9"
    );
    assert_eq!(s(&ip(50, 0, &[0, 7, 0, 9])), "proto50 10.0.0.1>10.0.0.2");
    assert_eq!(s(&ip(47, 0, &[])), "proto47 10.0.0.1>10.0.0.2");
}

#[test]
fn icmp_and_quotes() {
    assert_eq!(
        s(&ip(1, 0, &[8, 0, 0, 0, 0, 1, 0, 1])),
        "icmp 10.0.0.1>10.0.0.2 type=8 code=0"
    );
    assert_eq!(s(&ip(1, 0, &[8, 0, 0])), "icmp 10.0.0.1>10.0.0.2");
    let inner = ip(17, 0, &[0x13, 0x88, 0, 53, 0, 8, 0, 0]);
    let mut err = vec![3, 3, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(&inner);
    let outer = ip(1, 0, &err);
    assert_eq!(
        s(&outer),
        "icmp 10.0.0.1>10.0.0.2 type=3 code=3 [quotes udp 10.0.0.1:5000>10.0.0.2:53]"
    );
    // 27 bytes after the type: too short to quote.
    assert_eq!(
        s(&ip(1, 0, &err[..27])),
        "icmp 10.0.0.1>10.0.0.2 type=3 code=3"
    );
    // Nesting is printed too, as the oracle recurses.
    let mut err2 = vec![11, 0, 0, 0, 0, 0, 0, 0];
    err2.extend_from_slice(&outer);
    assert_eq!(
        s(&ip(1, 0, &err2)),
        "icmp 10.0.0.1>10.0.0.2 type=11 code=0 [quotes icmp 10.0.0.1>10.0.0.2 type=3 code=3 [quotes udp 10.0.0.1:5000>10.0.0.2:53]]"
    );
}

#[test]
fn parse_round_trips() {
    for text in [
        "tcp 10.0.0.104:40000>10.0.0.77:22 S",
        "tcp 10.0.0.104:40000>10.0.0.77:22 FSRPAUEC",
        "tcp 10.0.0.104:40000>10.0.0.77:22 ",
        "tcp 1.2.3.4:1>5.6.7.8:2 SA frag",
        "udp 192.168.1.5:5353>224.0.0.251:5353",
        "icmp 10.0.0.1>10.0.0.2 type=8 code=0",
        "icmp 10.0.0.1>10.0.0.2 type=3 code=3 [quotes udp 10.0.0.2:5000>10.0.0.1:53]",
        "icmp 9.9.9.9>10.0.0.2 type=11 code=0 [quotes icmp 10.0.0.2>8.8.8.8 type=3 code=4 [quotes tcp 8.8.8.8:443>10.0.0.2:5555 PA]]",
        "proto132 10.0.0.1:7>10.0.0.2:9",
        "proto136 10.0.0.1:7>10.0.0.2:9",
        "proto50 10.0.0.1>10.0.0.2",
        "proto47 10.0.0.1>10.0.0.2",
        "proto253 10.0.0.1>10.0.0.2",
    ] {
        let p = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let pkt = p.packet().unwrap();
        assert_eq!(pkt.problem, None, "{text}");
        assert!(pkt.ip_checksum_ok(), "{text}");
        assert_ne!(pkt.l4_checksum_ok(), Some(false), "{text}");
        assert_eq!(pkt.summary().to_string(), text.trim_end_matches(' ').to_string() + if text.ends_with(' ') { " " } else { "" });
    }
}

#[test]
fn parse_fields() {
    let p =
        parse("tcp 1.2.3.4:1>5.6.7.8:2 S ttl=3 tos=16 ipid=9 df=1 seq=100 ack=5 win=1024 len=10")
            .unwrap();
    let pkt = p.packet().unwrap();
    let t = pkt.tcp().unwrap();
    assert_eq!(
        (pkt.ip.ttl(), pkt.ip.tos(), pkt.ip.id(), pkt.ip.df()),
        (3, 16, 9, true)
    );
    assert_eq!(
        (t.seq(), t.ack(), t.window(), t.payload().len()),
        (100, 5, 1024, 10)
    );
    let p = parse("icmp 1.2.3.4>5.6.7.8 type=8 code=0 id=77 seq=3").unwrap();
    assert_eq!(p.packet().unwrap().icmp().unwrap().id_seq(), Some((77, 3)));
    let p = parse("esp 1.2.3.4>5.6.7.8 spi=4096").unwrap();
    assert_eq!(
        p.packet().unwrap().l4,
        crate::packet::l4::L4::Esp { spi: 4096 }
    );
}

#[test]
fn parse_errors() {
    let cases: [(&str, ParseError); 9] = [
        ("", ParseError::Empty),
        ("tcp", ParseError::Empty),
        ("ipx 1.2.3.4>5.6.7.8", ParseError::Protocol("ipx".into())),
        ("tcp 1.2.3.4>5.6.7.8 S", ParseError::PortsRequired(6)),
        ("icmp 1.2.3.4:1>5.6.7.8:2", ParseError::PortsNotAllowed(1)),
        ("tcp 1.2.3.4:1>5.6.7.8:2 SX", ParseError::Flags("SX".into())),
        (
            "tcp 1.2.3.4:1>5.6.7.8:99999 S",
            ParseError::Addresses("1.2.3.4:1>5.6.7.8:99999".into()),
        ),
        (
            "udp 1.2.3.4:1>5.6.7.8:2 ttl=300",
            ParseError::Field("ttl=300".into()),
        ),
        (
            "icmp 1.2.3.4>5.6.7.8 type=3 code=3 [quotes udp 1.2.3.4:1>5.6.7.8:2",
            ParseError::Quote,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse(text), Err(want), "{text}");
    }
    assert_eq!(
        parse("udp 1.2.3.4:1>5.6.7.8:2 len=65530"),
        Err(ParseError::TooLong)
    );
    assert_eq!(
        parse("udp 1.2.3.4:1>5.6.7.8:2 foo=1"),
        Err(ParseError::UnknownField("foo=1".into()))
    );
}

#[test]
fn the_stack_built_text_is_the_display_text() {
    // Headers of every shape the fast path may meet: both protocols and others, fragment
    // words, header lengths (including ones longer than the bytes), L4 from 0 to 20 bytes.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for proto in [6u8, 17, 1, 132] {
        for frag_word in [0u16, 0x4000, 0x2000, 0x0001, 0x6001] {
            for l4_len in 0..=20 {
                let l4: Vec<u8> = (0..l4_len).map(|_| next() as u8).collect();
                let mut b = ip(proto, frag_word, &l4);
                let summary = Summary::of_ip(&b);
                assert_eq!(summary.text(), summary.to_string(), "{b:02x?}");
                assert_eq!(written(summary), summary.to_string(), "{b:02x?}");
                b[0] = 0x40 | (next() as u8 & 0x0f);
                let summary = Summary::of_ip(&b);
                assert_eq!(summary.text(), summary.to_string(), "{b:02x?}");
                assert_eq!(written(summary), summary.to_string(), "{b:02x?}");
            }
        }
    }
    for len in 0..24 {
        let b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        assert_eq!(Summary::of_ip(&b).text(), Summary::of_ip(&b).to_string());
        assert_eq!(written(Summary::of_ip(&b)), Summary::of_ip(&b).to_string());
    }
}

/// [`Summary::write_to`]'s bytes after what the buffer held, as text.
fn written(summary: Summary<'_>) -> String {
    let mut buf = b"{".to_vec();
    summary.write_to(&mut buf);
    String::from_utf8_lossy(&buf[1..]).into_owned()
}

/// Every flag byte's table text is the letters [`write_tcp_flags`] writes, after a space.
#[test]
fn flag_words_are_the_flag_letters() {
    for flags in 0..=255u8 {
        let mut letters = String::from(" ");
        write_tcp_flags(&mut letters, flags).unwrap();
        let (word, n) = &FLAG_WORDS[usize::from(flags)];
        assert_eq!(word.get(..*n), Some(letters.as_bytes()), "{flags:#x}");
    }
}
