use super::*;
use crate::packet::capture::CaptureReader;
use crate::packet::decode::{decode, decode_ipv4};
use crate::packet::link::L2;

/// An IPv4 fragment of datagram `id` (UDP, 10.0.0.1 → 10.0.0.2) with `len` payload bytes of
/// value `fill` at byte offset `off`.
fn frag(id: u16, off: u16, len: usize, mf: bool, tos: u8, fill: u8) -> Vec<u8> {
    let total = (20 + len) as u16;
    let word = (off / 8) | if mf { 0x2000 } else { 0 };
    let mut v = vec![0x45, tos];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&word.to_be_bytes());
    v.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    v.resize(20 + len, fill);
    v
}

fn feed(d: &mut Defrag, t: i128, b: &[u8]) -> Result<Vec<u8>, Outcome<'static>> {
    let p = decode_ipv4(L2::default(), b).expect("ipv4");
    match d.feed(t, USER_CONNTRACK_IN, &p) {
        Outcome::Complete(bytes) => Ok(bytes.to_vec()),
        Outcome::Held => Err(Outcome::Held),
        Outcome::NotFragment => Err(Outcome::NotFragment),
        Outcome::Dropped(r) => Err(Outcome::Dropped(r)),
    }
}

#[test]
fn reassembles_in_and_out_of_order() {
    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        let parts = [
            frag(7, 0, 16, true, 0, 0xa),
            frag(7, 16, 16, true, 0, 0xb),
            frag(7, 32, 5, false, 0, 0xc),
        ];
        let mut d = Defrag::new();
        let mut done = None;
        for (k, &i) in order.iter().enumerate() {
            match feed(&mut d, 0, &parts[i]) {
                Ok(b) => done = Some(b),
                Err(o) => assert_eq!((k < 2, o), (true, Outcome::Held)),
            }
        }
        let b = done.expect("complete");
        assert_eq!(b.len(), 20 + 37);
        let p = decode_ipv4(L2::default(), &b).unwrap();
        assert!(!p.is_fragment() && p.ip_checksum_ok());
        assert_eq!((p.ip.total_len(), p.ip.df()), (57, false));
        assert_eq!(
            &b[20..],
            [[0xa; 16].as_slice(), &[0xb; 16], &[0xc; 5]].concat()
        );
        assert_eq!((d.pending(), d.memory()), (0, 0));
    }
}

#[test]
fn duplicate_is_dropped_but_queue_kept() {
    let mut d = Defrag::new();
    assert_eq!(
        feed(&mut d, 0, &frag(1, 0, 16, true, 0, 1)),
        Err(Outcome::Held)
    );
    assert_eq!(
        feed(&mut d, 0, &frag(1, 8, 8, true, 0, 9)),
        Err(Outcome::Dropped(DropReason::Duplicate))
    );
    assert_eq!(d.pending(), 1);
    let b = feed(&mut d, 0, &frag(1, 16, 4, false, 0, 2)).unwrap();
    assert_eq!(&b[20..36], &[1; 16], "the duplicate's bytes were not used");
}

#[test]
fn overlap_kills_the_queue() {
    let mut d = Defrag::new();
    assert_eq!(
        feed(&mut d, 0, &frag(1, 0, 16, true, 0, 1)),
        Err(Outcome::Held)
    );
    assert_eq!(
        feed(&mut d, 0, &frag(1, 8, 16, true, 0, 1)),
        Err(Outcome::Dropped(DropReason::Overlap))
    );
    assert_eq!((d.pending(), d.memory()), (0, 0));
    // A fragment that straddles two separate runs overlaps too, even if each byte is held.
    let mut d = Defrag::new();
    for (off, len) in [(0, 8), (16, 8), (8, 8)] {
        assert_eq!(
            feed(&mut d, 0, &frag(2, off, len, true, 0, 1)),
            Err(Outcome::Held)
        );
    }
    assert_eq!(
        feed(&mut d, 0, &frag(2, 0, 24, true, 0, 1)),
        Err(Outcome::Dropped(DropReason::Overlap))
    );
}

#[test]
fn bad_ends_and_empty_fragments() {
    let mut d = Defrag::new();
    feed(&mut d, 0, &frag(3, 16, 8, false, 0, 1)).unwrap_err();
    assert_eq!(
        feed(&mut d, 0, &frag(3, 16, 16, true, 0, 1)),
        Err(Outcome::Dropped(DropReason::BadEnd))
    );
    let mut d = Defrag::new();
    feed(&mut d, 0, &frag(3, 16, 8, false, 0, 1)).unwrap_err();
    assert_eq!(
        feed(&mut d, 0, &frag(3, 8, 4, false, 0, 1)),
        Err(Outcome::Dropped(DropReason::BadEnd))
    );
    let mut d = Defrag::new();
    // MF with 7 payload bytes rounds down to nothing.
    assert_eq!(
        feed(&mut d, 0, &frag(4, 8, 7, true, 0, 1)),
        Err(Outcome::Dropped(DropReason::Empty))
    );
    assert_eq!(
        feed(&mut d, 0, &frag(5, 0, 0, false, 0, 0)),
        Err(Outcome::NotFragment)
    );
}

#[test]
fn queues_expire_after_thirty_seconds_of_capture_time() {
    let mut d = Defrag::new();
    feed(&mut d, 0, &frag(6, 0, 8, true, 0, 1)).unwrap_err();
    assert_eq!(
        feed(&mut d, FRAG_TIME_NS + 1, &frag(6, 8, 8, false, 0, 1)),
        Err(Outcome::Held)
    );
    assert_eq!((d.expired, d.pending()), (1, 1));
    let mut d = Defrag::new();
    feed(&mut d, 0, &frag(6, 0, 8, true, 0, 1)).unwrap_err();
    assert!(feed(&mut d, FRAG_TIME_NS - 1, &frag(6, 8, 8, false, 0, 1)).is_ok());
}

#[test]
fn memory_threshold_refuses_new_fragments() {
    let mut d = Defrag::new();
    let mut refused = None;
    for id in 0..10_000u16 {
        if let Err(Outcome::Dropped(DropReason::MemoryLimit)) =
            feed(&mut d, 0, &frag(id, 0, 1400, true, 0, 1))
        {
            refused = Some(id);
            break;
        }
    }
    let id = refused.expect("threshold reached");
    assert_eq!(usize::from(id), HIGH_THRESH / (1400 + FRAG_OVERHEAD) + 1);
    assert!(d.memory() <= HIGH_THRESH + 1400 + FRAG_OVERHEAD);
}

#[test]
fn oversize_and_ecn_mismatch() {
    let mut d = Defrag::new();
    feed(&mut d, 0, &frag(8, 0, 8, true, 0, 1)).unwrap_err();
    feed(&mut d, 0, &frag(8, 65_512, 8, false, 0, 1)).unwrap_err();
    let mut off = 8;
    let mut last = None;
    while off < 65_512 {
        let len = 1480.min(65_512 - usize::from(off));
        last = Some(feed(&mut d, 0, &frag(8, off, len, true, 0, 1)));
        off += len as u16;
    }
    assert_eq!(last, Some(Err(Outcome::Dropped(DropReason::Oversize))));
    let mut d = Defrag::new();
    feed(&mut d, 0, &frag(9, 0, 8, true, 0, 1)).unwrap_err();
    assert_eq!(
        feed(&mut d, 0, &frag(9, 8, 8, false, 3, 1)),
        Err(Outcome::Dropped(DropReason::EcnMismatch))
    );
    let mut d = Defrag::new();
    feed(&mut d, 0, &frag(9, 0, 8, true, 2, 1)).unwrap_err();
    let b = feed(&mut d, 0, &frag(9, 8, 8, false, 3, 1)).unwrap();
    assert_eq!(b[1] & 3, 3, "ECT with CE gives CE");
}

/// Checked against the kernel with the oracle: 63 intervening fragments complete, 64 do not.
#[test]
fn too_far_restarts_the_queue() {
    let mut d = Defrag::new();
    feed(&mut d, 0, &frag(1, 0, 8, true, 0, 1)).unwrap_err();
    // 63 fragments of other datagrams from the same source: a distance of 64, still allowed.
    for id in 100..163 {
        feed(&mut d, 0, &frag(id, 0, 8, true, 0, 1)).unwrap_err();
    }
    assert!(feed(&mut d, 0, &frag(1, 8, 8, false, 0, 1)).is_ok());
    let mut d = Defrag::new();
    feed(&mut d, 0, &frag(1, 0, 8, true, 0, 1)).unwrap_err();
    for id in 100..164 {
        feed(&mut d, 0, &frag(id, 0, 8, true, 0, 1)).unwrap_err();
    }
    // 64 in between (distance 65): the first fragment is thrown away, the last one starts afresh.
    assert_eq!(
        feed(&mut d, 0, &frag(1, 8, 8, false, 0, 1)),
        Err(Outcome::Held)
    );
    assert_eq!(d.too_far, 1);
    assert!(feed(&mut d, 0, &frag(1, 0, 8, true, 0, 1)).is_ok());
}

/// Sequences run through the real kernel (shared/oracle, accept-all ruleset): only the
/// duplicate case ever reaches the filter table, on its last fragment.
#[test]
fn kernel_verified_sequences() {
    type Seq = &'static [(u16, usize, bool)];
    let cases: [(Seq, Option<usize>); 3] = [
        (
            &[
                (0, 8, true),
                (16, 8, true),
                (8, 8, true),
                (0, 24, true),
                (24, 8, false),
            ],
            None,
        ),
        (&[(0, 16, true), (8, 8, true), (16, 8, false)], Some(2)),
        (
            &[(16, 8, false), (8, 4, false), (0, 8, true), (8, 8, true)],
            None,
        ),
    ];
    for (seq, completes_at) in cases {
        let mut d = Defrag::new();
        let done: Vec<bool> = seq
            .iter()
            .map(|&(off, len, mf)| feed(&mut d, 0, &frag(1, off, len, mf, 0, 1)).is_ok())
            .collect();
        assert_eq!(done.iter().position(|&c| c), completes_at, "{seq:?}");
    }
}

#[test]
fn corpus_fragment_captures_match_the_kernel() {
    // Kernel outcome (shared/oracle with an accept-all ruleset): the echo request completes on
    // its second fragment; the SYN on its third; the overlapping HTTP fragments never do.
    let dir = std::path::Path::new("/work/shared/corpus/pcaps");
    let cases: [(&str, &[&str]); 3] = [
        (
            "suricata-ipv4-fragments.pcap",
            &["held", "complete", "whole"],
        ),
        (
            "suricata-vlan-fragmented-tcp-syn.pcap",
            &["held", "held", "complete"],
        ),
        (
            "zeek-ipv4-fragmented-4.pcap",
            &["whole", "held", "held", "held", "dropped", "whole"],
        ),
    ];
    for (name, want) in cases {
        let Ok(mut rd) = CaptureReader::open(&dir.join(name)) else {
            return eprintln!("corpus absent: skipped");
        };
        let mut d = Defrag::new();
        let mut got = Vec::new();
        while let Some(Ok(f)) = rd.next_frame() {
            let p = decode(&f).expect("ipv4");
            got.push(match d.feed(f.ts_ns, USER_CONNTRACK_IN, &p) {
                Outcome::NotFragment => "whole",
                Outcome::Held => "held",
                Outcome::Complete(b) => {
                    assert!(decode_ipv4(p.l2, b).expect("reassembled").problem.is_none());
                    "complete"
                }
                Outcome::Dropped(_) => "dropped",
            });
        }
        assert_eq!(got, want, "{name}");
    }
}
