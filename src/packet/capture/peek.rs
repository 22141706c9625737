//! Looking ahead without reading: the records [`CaptureReader::next_frame`] will hand out
//! next, shown in place while they are still in the read window, as the [`Frame`]s it would
//! hand out ([`CaptureReader::peek_run`]); [`CaptureReader::consume_run`] then takes them as
//! read.
//!
//! A replay uses this to warm the memory the next few packets will need before it replays
//! them (see `eval::parallel::touch`), and a sharded replay's dealing worker to decide their
//! workers, each record framed once. The look is strictly read-only (`&self`): nothing is
//! consumed, numbered or read from the source, so what the reader hands out afterwards is
//! exactly what it would have handed out without the look. Only classic pcap records that
//! are whole in the window are shown ([`pcap::State::whole`](super::pcap::State::whole), the
//! test [`CaptureReader::next_frame`]'s own in-place path uses); the look stops at the first
//! record that is not (cut by the window's end, too large, truncated), and a pcapng capture
//! shows nothing: a caller gets fewer records, never different ones.

use std::io::Read;
use std::sync::Arc;

use super::{CaptureReader, Frame, State};

/// The read window as a shared buffer ([`CaptureReader::shared_window`]): what the records
/// [`CaptureReader::peek_records`] shows are slices of, so that a caller may lend them to
/// another thread (an [`Arc::clone`] of [`SharedWindow::buffer`]) instead of copying them.
/// Bytes lent never change: the reader moves on to another buffer when it next reads.
#[derive(Debug, Clone, Copy)]
pub struct SharedWindow<'r> {
    /// The window's bytes.
    pub buffer: &'r Arc<Vec<u8>>,
    /// Byte offset in the file of the buffer's first byte.
    at: u64,
}

impl SharedWindow<'_> {
    /// Where in [`SharedWindow::buffer`] the `len` bytes at byte `offset` of the file are
    /// (a record [`CaptureReader::peek_records`] showed: its offset and length).
    #[inline]
    pub fn range(&self, offset: u64, len: usize) -> std::ops::Range<usize> {
        let start = usize::try_from(offset.saturating_sub(self.at)).unwrap_or(usize::MAX);
        start..start.saturating_add(len)
    }
}

/// How the records of a classic pcap capture read: what makes a record's [`Frame`] from its
/// bytes as the file holds them, wherever they are (lent, or copied elsewhere).
#[derive(Debug, Clone, Copy)]
pub struct Framing(super::pcap::State);

impl Framing {
    /// The frame of record number `index` at byte `offset`, whose bytes (header, then
    /// data) are `record`, as [`CaptureReader::next_frame`] hands it out; `None` if
    /// `record` is not a whole record.
    #[inline]
    pub fn frame(self, index: u64, offset: u64, record: &[u8]) -> Option<Frame<'_>> {
        let (hdr, data) = self.0.whole(record)?;
        let f = self.0.fields(hdr);
        Some(Frame {
            index,
            offset,
            ts_ns: f.ts_ns,
            linktype: self.0.linktype(),
            iface: None,
            orig_len: f.orig_len,
            data,
            anomaly: f.anomaly,
        })
    }

    /// The link type of every record.
    pub fn linktype(self) -> u32 {
        self.0.linktype()
    }

    /// The captured bytes of `record` (its bytes as the file holds them): what follows its
    /// 16-byte header.
    #[inline]
    pub fn data(self, record: &[u8]) -> &[u8] {
        record.get(16..).unwrap_or_default()
    }
}

/// What a [`CaptureReader::peek_run`] showed: to hand to [`CaptureReader::consume_run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct Run {
    /// Records shown.
    pub records: usize,
    /// Their bytes in the file, headers included.
    bytes: usize,
}

impl<R: Read> CaptureReader<R> {
    /// Calls `each` with each of the next (at most) `most` records as long as they are whole
    /// classic pcap records in the read window, as the frames [`CaptureReader::next_frame`]
    /// will hand out (numbered, at their offsets); returns what it showed. The reader is not
    /// changed: [`CaptureReader::consume_run`] takes the records as read, or `next_frame`
    /// hands them out again.
    #[inline]
    pub fn peek_run<'r, F>(&'r self, most: usize, mut each: F) -> Run
    where
        F: FnMut(Frame<'r>),
    {
        let Some(framing) = self.framing() else {
            return Run::default();
        };
        self.peek_records(most, |index, offset, record| {
            if let Some(frame) = framing.frame(index, offset, record) {
                each(frame);
            }
        })
    }

    /// [`CaptureReader::peek_run`], each record shown as its number, its offset and its
    /// bytes as the file holds them (the 16-byte header, then the data), which
    /// [`CaptureReader::framing`] makes into its [`Frame`]: for a caller that hands most
    /// records to another thread (the dealing worker of `replay --jobs`, which lends them:
    /// see [`CaptureReader::shared_window`]) and frames them there.
    #[inline]
    pub fn peek_records<'r, F>(&'r self, most: usize, mut each: F) -> Run
    where
        F: FnMut(u64, u64, &'r [u8]),
    {
        let State::Pcap(s) = &self.state else {
            return Run::default();
        };
        if self.done {
            return Run::default();
        }
        let unread = self.input.unread();
        let base = self.input.pos();
        let mut run = Run::default();
        while run.records < most {
            let rest = unread.get(run.bytes..).unwrap_or_default();
            let Some((_, data)) = s.whole(rest) else {
                break;
            };
            let len = 16 + data.len();
            let index = self.index + run.records as u64;
            each(
                index,
                base + run.bytes as u64,
                rest.get(..len).unwrap_or_default(),
            );
            run.bytes += len;
            run.records += 1;
        }
        run
    }

    /// The read window as a shared buffer: see [`SharedWindow`].
    #[inline]
    pub fn shared_window(&self) -> SharedWindow<'_> {
        let (buffer, at) = self.input.window_buffer();
        SharedWindow { buffer, at }
    }

    /// How this capture's records read from their bytes ([`CaptureReader::peek_records`]):
    /// classic pcap only.
    pub fn framing(&self) -> Option<Framing> {
        match &self.state {
            State::Pcap(s) => Some(Framing(*s)),
            State::Pcapng(_) => None,
        }
    }

    /// Takes the records `run` showed as read: `run` must come from the last
    /// [`CaptureReader::peek_run`], with no record read since.
    #[inline]
    pub fn consume_run(&mut self, run: Run) {
        self.input.consume(run.bytes);
        self.index += run.records as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{pcap_edges, small_pcapng, Trickle};
    use super::super::Frame;
    use super::*;

    fn event(r: Result<Frame, super::super::CaptureError>) -> String {
        match r {
            Ok(f) => format!(
                "{} {} {} {} {:?} {} {:?} {:?}",
                f.index, f.offset, f.ts_ns, f.linktype, f.iface, f.orig_len, f.anomaly, f.data
            ),
            Err(e) => format!("{e} fatal={}", e.is_fatal()),
        }
    }

    /// Reads `bytes` to the end, peeking `most` records before every record (and not taking
    /// them as read); checks that each peek shows exactly the frame read next, and returns
    /// what was read.
    fn read_peeking(bytes: &[u8], piece: usize, most: usize) -> Option<(Vec<String>, usize)> {
        let mut rd = CaptureReader::new(Trickle(bytes, piece)).ok()?;
        let (mut out, mut shown_total) = (Vec::new(), 0);
        let mut pending = std::collections::VecDeque::new();
        loop {
            pending.clear();
            let run = rd.peek_run(most, |f| pending.push_back(event(Ok(f))));
            assert_eq!(run.records, pending.len());
            assert!(run.records <= most);
            shown_total += run.records;
            // Every record shown is the next one handed out, in order.
            let Some(r) = rd.next_frame() else {
                assert_eq!(run.records, 0, "peeked past the end");
                return Some((out, shown_total));
            };
            let got = event(r);
            if let Some(shown) = pending.pop_front() {
                assert_eq!(shown, got);
            }
            out.push(got);
        }
    }

    fn plain_read(bytes: &[u8], piece: usize) -> Vec<String> {
        let Ok(mut rd) = CaptureReader::new(Trickle(bytes, piece)) else {
            return Vec::new();
        };
        std::iter::from_fn(|| rd.next_frame().map(event)).collect()
    }

    /// Reads `bytes` to the end in runs of at most `most` records shown and taken as read,
    /// reading a record with `next_frame` whenever a run shows none; returns what was read
    /// and how many records came in runs.
    fn read_in_runs(bytes: &[u8], piece: usize, most: usize) -> Option<(Vec<String>, usize)> {
        let mut rd = CaptureReader::new(Trickle(bytes, piece)).ok()?;
        let (mut out, mut in_runs) = (Vec::new(), 0);
        loop {
            let mut seen = Vec::new();
            let run = rd.peek_run(most, |f| seen.push(event(Ok(f))));
            assert_eq!(run.records, seen.len());
            assert!(run.records <= most);
            if run.records > 0 {
                in_runs += run.records;
                out.extend(seen);
                rd.consume_run(run);
                continue;
            }
            match rd.next_frame() {
                Some(r) => out.push(event(r)),
                None => return Some((out, in_runs)),
            }
        }
    }

    fn same_with_and_without_peeks(name: &str, bytes: &[u8]) -> usize {
        let mut shown = 0;
        for piece in [usize::MAX, 7, 4093] {
            let want = plain_read(bytes, piece);
            for most in [0, 1, 3, 16, 1000] {
                if let Some((got, n)) = read_peeking(bytes, piece, most) {
                    assert_eq!(got, want, "{name}, reads of {piece}, peeks of {most}");
                    shown += n;
                }
                if let Some((got, n)) = read_in_runs(bytes, piece, most) {
                    assert_eq!(got, want, "{name}, reads of {piece}, runs of {most}");
                    shown += n;
                }
            }
        }
        shown
    }

    /// Records of 0 to 1499 bytes, enough to cross several 64 KiB windows: whole, cut, and
    /// with an unreadable record (the peek stops there), in both byte orders.
    #[test]
    fn peeking_never_changes_what_is_read() {
        for (name, bytes) in pcap_edges(400, |i| (i * 131) % 1500) {
            let shown = same_with_and_without_peeks(&name, &bytes);
            assert!(shown > 0 || !name.ends_with("whole"), "{name}");
        }
    }

    #[test]
    fn pcapng_shows_nothing() {
        assert_eq!(same_with_and_without_peeks("pcapng", &small_pcapng()), 0);
    }
}
