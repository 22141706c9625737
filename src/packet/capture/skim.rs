//! A reading path for a caller that uses only some of the records: a `replay --jobs` worker
//! reads the whole capture and replays only its own shard, about 1 record in N.
//!
//! [`CaptureReader::next_kept`] shows `keep` each packet record's link type and bytes and
//! passes over, counting them, the records it does not keep. A classic pcap record that is
//! whole in the read window is looked at in place: its header's length, then its bytes; no
//! timestamp arithmetic, no anomaly checks, no [`Frame`] (what
//! [`CaptureReader::next_frame`] spends on every record, some 170 instructions, against a few
//! dozen here). Everything else (a record across a refill of the window, a bad record, every
//! pcapng block) goes through `next_frame`'s own path. So a record passed over is exactly one
//! that `next_frame` would have handed out as a frame, `keep` sees every packet record once,
//! in order, and the numbering, offsets and errors of what is handed out are `next_frame`'s.

use std::io::Read;

use super::pcap::After;
use super::{CaptureError, CaptureReader, Frame, Raw, State};

/// Where [`CaptureReader::next_kept`] stops passing over records, so that its caller can
/// report how far it has read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Until {
    /// Once this many records have been passed over.
    pub records: u64,
    /// Once a record passed over started at this byte offset or later.
    pub offset: u64,
}

/// What one call of [`CaptureReader::next_kept`] read.
#[derive(Debug)]
pub struct Skim<'a> {
    /// Packet records passed over (`keep` said no), all before `next`.
    pub passed: u64,
    /// Byte offset of the last record passed over; 0 when none was.
    pub offset: u64,
    /// What came after them.
    pub next: Kept<'a>,
}

/// Where [`CaptureReader::next_kept`] stopped.
#[derive(Debug)]
pub enum Kept<'a> {
    /// A record `keep` kept, or an error (errors are never passed over): what
    /// [`CaptureReader::next_frame`] returns.
    Item(Result<Frame<'a>, CaptureError>),
    /// [`Until`] was reached; the next call goes on from there.
    Paused,
    /// The end of the capture, or a fatal error was handed out before.
    End,
}

impl<R: Read> CaptureReader<R> {
    /// Reads on to the next record for which `keep(linktype, data)` is true, or the next
    /// error, passing over the records in between, or until [`Until`] says to pause. The same
    /// sequence as [`CaptureReader::next_frame`]'s, less the frames not kept.
    pub fn next_kept<F>(&mut self, until: Until, keep: &mut F) -> Skim<'_>
    where
        F: FnMut(u32, &[u8]) -> bool,
    {
        let (mut passed, mut offset) = (0u64, 0u64);
        loop {
            if passed >= until.records || (passed > 0 && offset >= until.offset) {
                let next = Kept::Paused;
                return Skim {
                    passed,
                    offset,
                    next,
                };
            }
            // The light path: the classic pcap records whole in the window.
            if let (State::Pcap(s), false) = (&self.state, self.done) {
                let pos = self.input.pos();
                let stop = usize::try_from(until.offset.saturating_sub(pos)).unwrap_or(usize::MAX);
                let run = s.pass(self.input.unread(), until.records - passed, stop, keep);
                if run.records > 0 {
                    offset = pos + run.last as u64;
                    self.input.consume(run.bytes);
                    (self.index, passed) = (self.index + run.records, passed + run.records);
                }
                match run.after {
                    After::Kept => {
                        if let Some(m) = s.take_whole(&mut self.input) {
                            let next = Kept::Item(Ok(self.frame(m)));
                            return Skim {
                                passed,
                                offset,
                                next,
                            };
                        }
                    }
                    After::Budget => continue,
                    After::Unread => {}
                }
            }
            let next = match self.next_raw() {
                Raw::Packet(m) => {
                    if !keep(m.linktype, self.data(&m)) {
                        offset = m.offset;
                        (self.index, passed) = (self.index + 1, passed + 1);
                        continue;
                    }
                    Kept::Item(Ok(self.frame(m)))
                }
                Raw::Error(e) => Kept::Item(Err(e)),
                Raw::End => Kept::End,
            };
            return Skim {
                passed,
                offset,
                next,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{oversize_then, pcap_header, pcap_record, Ng, Trickle};
    use super::*;

    /// What a reader handed out, with runs of records passed over merged:
    /// (how many, offset of the last).
    #[derive(Debug, PartialEq)]
    enum Event {
        /// A frame: index, offset, ts_ns, linktype, iface, orig_len, anomaly, data.
        Frame(u64, u64, i128, u32, Option<u32>, u32, String, Vec<u8>),
        Error(String),
        Passed(u64, u64),
    }

    fn frame_event(f: &Frame) -> Event {
        let anomaly = format!("{:?}", f.anomaly);
        let (ix, off, ts, lt, ifc, orig) =
            (f.index, f.offset, f.ts_ns, f.linktype, f.iface, f.orig_len);
        Event::Frame(ix, off, ts, lt, ifc, orig, anomaly, f.data.to_vec())
    }

    fn error_event(e: &CaptureError) -> Event {
        Event::Error(format!("{e} fatal={}", e.is_fatal()))
    }

    fn push_passed(out: &mut Vec<Event>, n: u64, offset: u64) {
        if let Some(Event::Passed(m, last)) = out.last_mut() {
            (*m, *last) = (*m + n, offset);
        } else {
            out.push(Event::Passed(n, offset));
        }
    }

    /// The `keep` of a test: a rule, and every (linktype, data) it was asked about.
    struct Keep {
        rule: fn(usize, &[u8]) -> bool,
        asked: Vec<(u32, Vec<u8>)>,
    }

    impl Keep {
        fn ask(&mut self, linktype: u32, data: &[u8]) -> bool {
            self.asked.push((linktype, data.to_vec()));
            (self.rule)(self.asked.len(), data)
        }
    }

    /// `next_frame`, and `keep` asked about each frame.
    fn by_next_frame<R: Read>(mut rd: CaptureReader<R>, keep: &mut Keep) -> Vec<Event> {
        let mut out = Vec::new();
        while let Some(r) = rd.next_frame() {
            match r {
                Ok(f) if !keep.ask(f.linktype, f.data) => push_passed(&mut out, 1, f.offset),
                Ok(f) => out.push(frame_event(&f)),
                Err(e) => out.push(error_event(&e)),
            }
        }
        out
    }

    /// `next_kept` with `until`, checking that it pauses where it says.
    fn by_next_kept<R: Read>(
        mut rd: CaptureReader<R>,
        until: Until,
        keep: &mut Keep,
    ) -> Vec<Event> {
        let mut out = Vec::new();
        let mut ask = |linktype: u32, data: &[u8]| keep.ask(linktype, data);
        loop {
            let skim = rd.next_kept(until, &mut ask);
            assert!(skim.passed <= until.records, "{skim:?}");
            if skim.passed > 0 {
                push_passed(&mut out, skim.passed, skim.offset);
            }
            match skim.next {
                Kept::Item(Ok(f)) => out.push(frame_event(&f)),
                Kept::Item(Err(e)) => out.push(error_event(&e)),
                Kept::Paused => assert!(
                    skim.passed == until.records || skim.offset >= until.offset,
                    "paused early: {} passed, at {}",
                    skim.passed,
                    skim.offset
                ),
                Kept::End => return out,
            }
        }
    }

    const RULES: [fn(usize, &[u8]) -> bool; 4] = [
        |_, _| true,
        |_, _| false,
        |_, d| d.first().is_some_and(|b| b % 3 == 0),
        |n, _| n % 4 == 1,
    ];

    /// Every way of reading `bytes` gives `next_frame`'s records and errors.
    fn same_as_next_frame(name: &str, bytes: &[u8]) {
        let untils = [
            (1, u64::MAX),
            (3, u64::MAX),
            (u64::MAX, u64::MAX),
            (1000, 5000),
            (u64::MAX, 0),
        ];
        for rule in RULES {
            for piece in [usize::MAX, 7, 4093] {
                let reader = || CaptureReader::new(Trickle(bytes, piece));
                let mut want = Keep {
                    rule,
                    asked: Vec::new(),
                };
                let expected = match reader() {
                    Ok(rd) => by_next_frame(rd, &mut want),
                    Err(_) => return,
                };
                for (records, offset) in untils {
                    let mut got = Keep {
                        rule,
                        asked: Vec::new(),
                    };
                    let until = Until { records, offset };
                    let rd = reader().expect("header read before");
                    let skimmed = by_next_kept(rd, until, &mut got);
                    assert_eq!(skimmed, expected, "{name}, {until:?}, reads of {piece}");
                    assert!(got.asked == want.asked, "{name}: keep asked otherwise");
                }
            }
        }
    }

    /// Records of 0 to 96 bytes whose first byte varies, over several windows.
    fn many_pcap_records(big: bool, nano: bool) -> Vec<u8> {
        let mut f = pcap_header(big, nano, 1);
        for i in 0..3000u32 {
            let data: Vec<u8> = (0..(i * 7) % 97).map(|k| (i + k) as u8).collect();
            // Now and then an odd timestamp or caplen over orig_len (anomalies).
            let frac = if i % 500 == 7 { 1_000_000_000 } else { i };
            let orig = if i % 301 == 5 {
                0
            } else {
                data.len() as u32 + 4
            };
            pcap_record(&mut f, big, 1_700_000_000 + i, frac, &data, orig);
        }
        f
    }

    #[test]
    fn pcap_records_errors_and_numbering_are_next_frames() {
        for (big, nano) in [(false, false), (true, false), (false, true), (true, true)] {
            let f = many_pcap_records(big, nano);
            same_as_next_frame("whole", &f);
            // Cut short: inside a record header, inside a record's data, at its end.
            for cut in [f.len() - 1, f.len() - 20, 24 + 16 * 40 + 77, 24 + 7, 24] {
                same_as_next_frame(&format!("cut at {cut}"), &f[..cut]);
            }
            // A record too large to read (not fatal) among good ones.
            let huge = oversize_then(big, nano, &f);
            same_as_next_frame("too large", &huge);
        }
    }

    #[test]
    fn small_pcap_cut_at_every_byte() {
        let mut f = pcap_header(false, false, 101);
        for i in 0..6u8 {
            pcap_record(&mut f, false, 9, 1, &[i * 3, 2, 3][..usize::from(i % 4)], 3);
        }
        for cut in 0..=f.len() {
            same_as_next_frame(&format!("cut at {cut}"), &f[..cut]);
        }
    }

    #[test]
    fn pcapng_records_errors_and_numbering_are_next_frames() {
        for big in [false, true] {
            let mut ng = Ng::two_interfaces(big);
            for i in 0..400u32 {
                let data: Vec<u8> = (0..i % 61).map(|k| (i * 5 + k) as u8).collect();
                ng.epb(i % 2, u64::from(i) << 20, &data);
            }
            ng.epb(7, 0, &[5]); // unknown interface: an error, not fatal
            let n = ng.v.len();
            ng.epb(0, 3, &[3, 3]);
            ng.v[n + 8] ^= 0x40; // a corrupt trailer: an error, not fatal
            ng.epb(1, 1, &[6]);
            same_as_next_frame("pcapng", &ng.v);
            for cut in [ng.v.len() - 3, ng.v.len() / 2, 200] {
                same_as_next_frame(&format!("pcapng cut at {cut}"), &ng.v[..cut]);
            }
            // A bad block length is fatal.
            let mut bad = ng.v[..n].to_vec();
            bad.extend_from_slice(&ng.u32(6));
            bad.extend_from_slice(&ng.u32(13));
            bad.extend_from_slice(&[0; 16]);
            same_as_next_frame("pcapng bad length", &bad);
        }
    }
}
