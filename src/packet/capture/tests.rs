use super::*;
use std::io;

/// A source that hands out at most `self.1` bytes per read, so that records
/// straddle the read window's refills.
pub(super) struct Trickle<'a>(pub(super) &'a [u8], pub(super) usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = buf.len().min(self.1).min(self.0.len());
        buf[..k].copy_from_slice(&self.0[..k]);
        self.0 = &self.0[k..];
        Ok(k)
    }
}

pub(super) fn pcap_header(big: bool, nano: bool, linktype: u32) -> Vec<u8> {
    let magic: u32 = if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    let mut v = Vec::new();
    let w32 = |v: &mut Vec<u8>, x: u32| {
        v.extend_from_slice(&if big {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    w32(&mut v, magic);
    v.extend_from_slice(&if big { [0, 2, 0, 4] } else { [2, 0, 4, 0] });
    w32(&mut v, 0);
    w32(&mut v, 0);
    w32(&mut v, 65535);
    w32(&mut v, linktype);
    v
}

pub(super) fn pcap_record(v: &mut Vec<u8>, big: bool, sec: u32, frac: u32, data: &[u8], orig: u32) {
    for x in [sec, frac, data.len() as u32, orig] {
        v.extend_from_slice(&if big {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        });
    }
    v.extend_from_slice(data);
}

/// A capture with one small record, then one too large to read (caplen past
/// [`super::MAX_CAPLEN`], not fatal: it is skipped with an error), then the records of
/// `rest` (a capture of the same byte order, whose 24-byte header is dropped).
pub(super) fn oversize_then(big: bool, nano: bool, rest: &[u8]) -> Vec<u8> {
    let mut huge = pcap_header(big, nano, 1);
    pcap_record(&mut huge, big, 1, 0, &[3, 1], 2);
    let over = super::MAX_CAPLEN + 1;
    for x in [2, 0, over, 9] {
        huge.extend_from_slice(&if big {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        });
    }
    huge.resize(huge.len() + over as usize, 6);
    huge.extend_from_slice(rest.get(24..).unwrap_or_default());
    huge
}

/// The classic pcap captures a reader's shortcuts are held to `next_frame` on, per byte order
/// and timestamp unit: `n` records of `len(i)` bytes whole (first), then cut inside a record
/// header, inside a record's data and at the file header's end, then with a record too large
/// to read ahead of them ([`oversize_then`]). Each with a name for failure messages.
pub(super) fn pcap_edges(n: u32, len: impl Fn(u32) -> u32) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (big, nano) in [(false, false), (true, true)] {
        let mut f = pcap_header(big, nano, 1);
        for i in 0..n {
            let data: Vec<u8> = (0..len(i)).map(|k| (i ^ k) as u8).collect();
            pcap_record(&mut f, big, 1_700_000_000 + i, i, &data, data.len() as u32);
        }
        for cut in [f.len() - 1, f.len() - 20, 24 + 16 + 5, 24 + 7, 24] {
            out.push((format!("{big} {nano} cut at {cut}"), f[..cut].to_vec()));
        }
        out.push((
            format!("{big} {nano} too large"),
            oversize_then(big, nano, &f),
        ));
        out.insert(0, (format!("{big} {nano} whole"), f));
    }
    out
}

/// A little-endian pcapng capture of one interface and 50 packets of 40 bytes.
pub(super) fn small_pcapng() -> Vec<u8> {
    let mut ng = Ng {
        big: false,
        v: Vec::new(),
    };
    ng.shb();
    ng.idb(1, Some(9), None);
    for i in 0..50u32 {
        ng.epb(0, u64::from(i), &[i as u8; 40]);
    }
    ng.v
}

/// (index, offset, ts_ns, linktype, iface, data) of a frame, or the error text.
type Rec = Result<(u64, u64, i128, u32, Option<u32>, Vec<u8>), String>;

fn collect(bytes: &[u8]) -> Vec<Rec> {
    let mut rd = CaptureReader::new(bytes).expect("header");
    let mut out = Vec::new();
    while let Some(r) = rd.next_frame() {
        out.push(
            r.map(|f| {
                (
                    f.index,
                    f.offset,
                    f.ts_ns,
                    f.linktype,
                    f.iface,
                    f.data.to_vec(),
                )
            })
            .map_err(|e| format!("{} fatal={}", e, e.is_fatal())),
        );
    }
    out
}

#[test]
fn pcap_both_orders_and_resolutions() {
    for (big, nano) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut f = pcap_header(big, nano, 101);
        pcap_record(&mut f, big, 1_700_000_000, 123_456, &[0x45, 1, 2], 60);
        pcap_record(&mut f, big, 1_700_000_001, 7, &[], 0);
        let mut rd = CaptureReader::new(&f[..]).unwrap();
        assert_eq!(
            rd.format(),
            if nano {
                Format::PcapNano
            } else {
                Format::PcapMicro
            }
        );
        assert_eq!(rd.linktype(), Some(101));
        let a = rd.next_frame().unwrap().unwrap();
        let unit = if nano { 1 } else { 1000 };
        assert_eq!(
            (a.index, a.offset, a.linktype, a.iface, a.orig_len),
            (0, 24, 101, None, 60)
        );
        assert_eq!(a.ts_ns, 1_700_000_000_000_000_000 + 123_456 * unit);
        assert_eq!(a.data, &[0x45, 1, 2]);
        let b = rd.next_frame().unwrap().unwrap();
        assert_eq!(
            (b.index, b.offset, b.ts_ns),
            (1, 24 + 19, 1_700_000_001_000_000_000 + 7 * unit)
        );
        assert!(rd.next_frame().is_none());
    }
}

#[test]
fn invalid_fraction_is_reported_not_fatal() {
    let mut f = pcap_header(false, false, 1);
    pcap_record(&mut f, false, 10, 1_000_000, &[1], 1);
    pcap_record(&mut f, false, 10, 2_147_483_648, &[2], 1);
    let mut rd = CaptureReader::new(&f[..]).unwrap();
    let a = rd.next_frame().unwrap().unwrap();
    assert_eq!(
        a.anomaly,
        Some(Anomaly::TimestampFraction {
            frac: 1_000_000,
            limit: 1_000_000
        })
    );
    // As tcpdump prints it: 10.1000000 s, i.e. 11 s.
    assert_eq!(a.ts_ns, 11_000_000_000);
    let b = rd.next_frame().unwrap().unwrap();
    assert_eq!(b.ts_ns, 10_000_000_000 + 2_147_483_648_000);
    assert!(b.anomaly.unwrap().to_string().contains("2147483648"));
}

#[test]
fn largest_timestamps_are_exact() {
    for nano in [false, true] {
        let mut f = pcap_header(false, nano, 1);
        pcap_record(&mut f, false, u32::MAX, u32::MAX, &[1], 1);
        let mut rd = CaptureReader::new(&f[..]).unwrap();
        let unit = if nano { 1 } else { 1_000 };
        let want = i128::from(u32::MAX) * 1_000_000_000 + i128::from(u32::MAX) * unit;
        assert_eq!(rd.next_frame().unwrap().unwrap().ts_ns, want);
    }
}

#[test]
fn truncated_record_is_fatal_with_index_and_offset() {
    let mut f = pcap_header(false, false, 1);
    pcap_record(&mut f, false, 1, 0, &[1, 2, 3, 4], 4);
    pcap_record(&mut f, false, 1, 0, &[1, 2, 3, 4], 4);
    f.truncate(f.len() - 2);
    let got = collect(&f);
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[1].as_ref().unwrap_err(),
        "record 1 at byte offset 44: truncated packet data: 2 of 4 bytes fatal=true"
    );
    let mut g = pcap_header(false, false, 1);
    g.extend_from_slice(&[0; 7]);
    assert!(collect(&g)[0]
        .as_ref()
        .unwrap_err()
        .contains("truncated record header: 7 of 16"));
}

#[test]
fn huge_caplen_is_skipped_without_allocating() {
    let mut f = pcap_header(false, false, 1);
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(&[9; 100]);
    let mut rd = CaptureReader::new(&f[..]).unwrap();
    let e = rd.next_frame().unwrap().unwrap_err();
    assert!(!e.is_fatal());
    assert!(
        e.to_string()
            .contains("captured length 4294967295 exceeds the limit of 262144"),
        "{e}"
    );
    assert!(rd.buffered_bytes() < super::input::CHUNK + 1024);
    assert!(rd.next_frame().is_none());
}

#[test]
fn header_errors() {
    assert!(matches!(
        CaptureReader::new(&[1u8, 2, 3, 4, 5][..]),
        Err(CaptureError::BadMagic(0x0102_0304))
    ));
    assert!(matches!(
        CaptureReader::new(&[0xd4u8, 0xc3][..]),
        Err(CaptureError::ShortHeader { got: 2, need: 4 })
    ));
    let h = pcap_header(false, false, 1);
    assert!(matches!(
        CaptureReader::new(&h[..20]),
        Err(CaptureError::ShortHeader { got: 20, need: 24 })
    ));
}

/// pcapng builder in either byte order.
pub(super) struct Ng {
    pub(super) big: bool,
    pub(super) v: Vec<u8>,
}

impl Ng {
    /// A section in `big`- or little-endian order with two interfaces (Ethernet with
    /// microseconds; link type 101 with 2⁻²⁰ s and a −2 s offset) and a non-packet block.
    pub(super) fn two_interfaces(big: bool) -> Ng {
        let mut ng = Ng { big, v: Vec::new() };
        ng.shb();
        ng.idb(1, Some(9), None);
        ng.idb(101, Some(0x80 | 20), Some(-2));
        ng.block(5, &[1, 2, 3, 4]); // interface statistics: skipped
        ng
    }

    fn u16(&self, x: u16) -> [u8; 2] {
        if self.big {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    }
    pub(super) fn u32(&self, x: u32) -> [u8; 4] {
        if self.big {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    }
    pub(super) fn block(&mut self, ty: u32, body: &[u8]) {
        let mut body = body.to_vec();
        while body.len() % 4 != 0 {
            body.push(0);
        }
        let len = 12 + body.len() as u32;
        let (t, l) = (self.u32(ty), self.u32(len));
        self.v.extend_from_slice(&t);
        self.v.extend_from_slice(&l);
        self.v.extend_from_slice(&body);
        self.v.extend_from_slice(&l);
    }
    pub(super) fn shb(&mut self) {
        let mut b = self.u32(0x1a2b_3c4d).to_vec();
        b.extend_from_slice(&self.u16(1));
        b.extend_from_slice(&self.u16(0));
        b.extend_from_slice(&[0xff; 8]);
        self.block(0x0a0d_0d0a, &b);
    }
    pub(super) fn idb(&mut self, linktype: u16, tsresol: Option<u8>, tsoffset: Option<i64>) {
        let mut b = self.u16(linktype).to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&self.u32(0));
        if let Some(r) = tsresol {
            b.extend_from_slice(&self.u16(9));
            b.extend_from_slice(&self.u16(1));
            b.extend_from_slice(&[r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            b.extend_from_slice(&self.u16(14));
            b.extend_from_slice(&self.u16(8));
            b.extend_from_slice(&if self.big {
                o.to_be_bytes()
            } else {
                o.to_le_bytes()
            });
        }
        b.extend_from_slice(&[0; 4]);
        self.block(1, &b);
    }
    pub(super) fn epb(&mut self, iface: u32, ts: u64, data: &[u8]) {
        let mut b = Vec::new();
        for x in [
            iface,
            (ts >> 32) as u32,
            ts as u32,
            data.len() as u32,
            data.len() as u32 + 10,
        ] {
            b.extend_from_slice(&self.u32(x));
        }
        b.extend_from_slice(data);
        self.block(6, &b);
    }
}

#[test]
fn pcapng_interfaces_resolutions_offsets_both_orders() {
    for big in [false, true] {
        let mut ng = Ng::two_interfaces(big);
        ng.epb(0, 1_767_663_089_500_330_123, &[1, 2, 3]);
        ng.epb(1, 3 << 20, &[4]);
        let mut spb = ng.u32(2).to_vec();
        spb.extend_from_slice(&[7, 8, 0, 0]);
        ng.block(3, &spb);
        ng.epb(7, 0, &[5]);
        ng.epb(0, 1, &[6]);
        let got = collect(&ng.v);
        let ok = |i: usize| got[i].as_ref().unwrap().clone();
        assert_eq!(ok(0).2, 1_767_663_089_500_330_123);
        assert_eq!(
            (ok(0).3, ok(0).4, ok(0).5.clone()),
            (1, Some(0), vec![1, 2, 3])
        );
        assert_eq!(
            (ok(1).2, ok(1).3, ok(1).4),
            (3_000_000_000 - 2_000_000_000, 101, Some(1))
        );
        // SPB: interface 0, caplen = orig_len 2, no timestamp (previous one repeated).
        assert_eq!((ok(2).2, ok(2).5.clone()), (1_000_000_000, vec![7, 8]));
        let e = got[3].as_ref().unwrap_err();
        assert!(
            e.starts_with("record 3 at byte offset")
                && e.contains("interface 7")
                && e.ends_with("fatal=false"),
            "{e}"
        );
        assert_eq!((ok(4).0, ok(4).2), (4, 1));
        assert_eq!(got.len(), 5);
    }
}

#[test]
fn pcapng_new_section_resets_interfaces_and_trailer_mismatch_recovers() {
    let mut ng = Ng {
        big: false,
        v: Vec::new(),
    };
    ng.shb();
    ng.idb(1, None, None);
    ng.epb(0, 5, &[1]);
    let n = ng.v.len();
    ng.v[n - 4] ^= 0x40; // corrupt the trailing length of that EPB
    ng.epb(0, 6, &[2]);
    let mut be = Ng {
        big: true,
        v: Vec::new(),
    };
    be.shb();
    be.epb(0, 7, &[3]); // no interface in the new section yet
    be.idb(228, Some(3), None);
    be.epb(0, 8, &[4]);
    ng.v.extend_from_slice(&be.v);
    let got = collect(&ng.v);
    assert!(got[0]
        .as_ref()
        .unwrap_err()
        .contains("trailing block length"));
    assert_eq!(got[1].as_ref().unwrap().2, 6_000);
    assert!(got[2].as_ref().unwrap_err().contains("interface 0"));
    assert_eq!(
        (got[3].as_ref().unwrap().2, got[3].as_ref().unwrap().3),
        (8_000_000, 228)
    );
}

#[test]
fn pcapng_bad_block_length_is_fatal() {
    let mut ng = Ng {
        big: false,
        v: Vec::new(),
    };
    ng.shb();
    ng.idb(1, None, None);
    ng.v.extend_from_slice(&6u32.to_le_bytes());
    ng.v.extend_from_slice(&13u32.to_le_bytes());
    ng.v.extend_from_slice(&[0; 16]);
    let got = collect(&ng.v);
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .as_ref()
            .unwrap_err()
            .contains("invalid block length 13")
            && got[0].as_ref().unwrap_err().ends_with("fatal=true")
    );
}

#[test]
fn pcapng_oversized_packet_block_is_skipped() {
    let mut ng = Ng {
        big: false,
        v: Vec::new(),
    };
    ng.shb();
    ng.idb(1, None, None);
    ng.epb(0, 1, &vec![0u8; MAX_BLOCK as usize]);
    ng.epb(0, 2, &[1]);
    let mut rd = CaptureReader::new(&ng.v[..]).unwrap();
    let e = rd.next_frame().unwrap().unwrap_err();
    assert!(
        !e.is_fatal() && e.to_string().contains("exceeds the limit"),
        "{e}"
    );
    assert!(rd.buffered_bytes() < super::input::CHUNK + 4096);
    let f = rd.next_frame().unwrap().unwrap();
    assert_eq!((f.index, f.ts_ns, f.data), (1, 2_000, &[1u8][..]));
}

#[test]
fn corpus_invalid_timestamps_by_hand() {
    let p =
        std::path::Path::new("/work/shared/corpus/pcaps/tcpdump-timestamp-invalid-micro-sll.pcap");
    let Ok(mut rd) = CaptureReader::open(p) else {
        return eprintln!("corpus absent: skipped");
    };
    let mut ts = Vec::new();
    while let Some(Ok(f)) = rd.next_frame() {
        ts.push((f.ts_ns, f.anomaly.is_some()));
    }
    // tcpdump -tt: 1418145369.999999, 1418145370.1000000, 1418145370.2147483648
    assert_eq!(
        ts,
        [
            (1_418_145_369_999_999_000, false),
            (1_418_145_370_000_000_000 + 1_000_000_000, true),
            (1_418_145_370_000_000_000 + 2_147_483_648_000, true)
        ]
    );
}
