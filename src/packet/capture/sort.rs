//! Sorting the records ahead in one look: a caller that uses only some of the records (a
//! `replay --jobs` worker, about 1 record in N) has each whole classic pcap record in the read
//! window shown once ([`CaptureReader::sort_whole`]), says which it keeps, and then passes
//! over the others by their total length ([`CaptureReader::pass_sorted`]) without reading
//! their headers again.
//!
//! Before this, every record a worker did not keep was read twice: once by the read-ahead
//! touch, which decided its shard, and once by [`CaptureReader::next_kept`], which walked its
//! header again (and asked for the decision the touch had handed on). A [`Sorted`] run holds
//! what the look found, and the reader's byte position when it looked: passing it over is
//! one comparison and one addition, and only where the reader still is at that position
//! (the window holds the same file bytes there, whatever it read or moved in between), so
//! what is handed out afterwards is exactly what [`CaptureReader::next_kept`] would hand out.
//!
//! Only classic pcap records whole in the window are sorted, as [`CaptureReader::peek_whole`]
//! shows them: a pcapng capture, a record across the window's end, a bad record end the look,
//! and the caller reads on through [`CaptureReader::next_kept`].

use std::io::Read;

use super::{CaptureReader, State};

/// A run of records [`CaptureReader::sort_whole`] found: some not kept, then (unless the
/// look ended) one kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sorted {
    /// Byte offset of the run's first record (the reader's position when it is passed).
    at: u64,
    /// Records not kept, and their bytes (headers included), before the kept one.
    passed: u32,
    bytes: u32,
    /// Byte offset of the last record not kept (meaningful when `passed > 0`).
    last: u64,
    /// A kept record follows the ones passed over.
    kept: bool,
}

impl Sorted {
    /// The run of `passed` records from byte `start` of the unread bytes (which start at
    /// offset `base`) to byte `end`, the last of them at byte `last`.
    fn new(base: u64, start: usize, passed: u32, end: usize, last: usize, kept: bool) -> Self {
        Sorted {
            at: base + start as u64,
            passed,
            // A window is far below 4 GiB (records are bounded by `MAX_CAPLEN`).
            bytes: (end - start) as u32,
            last: base + last as u64,
            kept,
        }
    }

    /// Records the run passes over.
    pub fn passed(&self) -> u64 {
        u64::from(self.passed)
    }

    /// Byte offset of the last record passed over.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Whether a record `keep` kept comes after the ones passed over: the reader's next
    /// record once the run is passed.
    pub fn kept(&self) -> bool {
        self.kept
    }
}

impl<R: Read> CaptureReader<R> {
    /// Shows `keep(linktype, data)` each of the next (at most) `most` packet records that are
    /// whole classic pcap records in the read window, in order, stopping after the first that
    /// starts at byte offset `stop` or later; appends to `runs` what it said, as runs of
    /// records not kept each ended by a kept one (the last run may end without one). The
    /// reader is not changed; `runs` is consumed, in order, by [`CaptureReader::pass_sorted`].
    pub fn sort_whole<F>(&self, most: usize, stop: u64, runs: &mut Vec<Sorted>, mut keep: F)
    where
        F: FnMut(u32, &[u8]) -> bool,
    {
        let State::Pcap(s) = &self.state else {
            return;
        };
        if self.done {
            return;
        }
        let (unread, base) = (self.input.unread(), self.input.pos());
        let linktype = s.linktype();
        // Where the look ends, in `unread`: one comparison a record.
        let stop = usize::try_from(stop.saturating_sub(base)).unwrap_or(usize::MAX);
        // The run being looked at: where it starts, its records not kept so far, where the
        // last of them starts; and where the next record starts. Only a kept record (and
        // the look's end) writes a run out: a record passed costs a count and a move.
        let (mut start, mut passed, mut last, mut at) = (0usize, 0u32, 0usize, 0usize);
        let mut seen = 0usize;
        while seen < most {
            let Some(len) = unread.get(at..).and_then(|rest| s.whole_len(rest)) else {
                break;
            };
            let data = unread.get(at + 16..at + len).unwrap_or_default();
            seen += 1;
            if keep(linktype, data) {
                runs.push(Sorted::new(base, start, passed, at, last, true));
                (start, passed) = (at + len, 0);
            } else {
                (passed, last) = (passed + 1, at);
            }
            let here = at;
            at += len;
            if here >= stop {
                break;
            }
        }
        if passed > 0 {
            runs.push(Sorted::new(base, start, passed, at, last, false));
        }
    }

    /// Passes over the records of `run` not kept (numbering them) when the reader is where
    /// the run starts; false, having done nothing, when it is not (the run is stale).
    #[inline]
    pub fn pass_sorted(&mut self, run: &Sorted) -> bool {
        let bytes = run.bytes as usize;
        // Runs are made by `sort_whole` of this reader (classic pcap, not done) from its
        // unread bytes: where the position is the run's, its bytes are still unread.
        let fresh = self.input.pos() == run.at && bytes <= self.input.unread().len();
        if fresh {
            self.input.consume(bytes);
            self.index += u64::from(run.passed);
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{pcap_edges, small_pcapng, Trickle};
    use super::super::{Kept, Until};
    use super::*;

    /// Index and data of every record kept, read by sorting runs of `most` and falling back
    /// to `next_kept` where the look found nothing; and the records passed over.
    fn by_sorting<R: Read>(mut rd: CaptureReader<R>, most: usize, stop: u64) -> Vec<String> {
        let keep = |_: u32, d: &[u8]| d.first().is_some_and(|b| b % 3 == 0);
        let mut out = Vec::new();
        let mut runs = Vec::new();
        loop {
            runs.clear();
            let at = rd.input.pos();
            rd.sort_whole(most, at.saturating_add(stop), &mut runs, keep);
            if runs.is_empty() {
                let mut k = keep;
                let skim = rd.next_kept(
                    Until {
                        records: 1,
                        offset: u64::MAX,
                    },
                    &mut k,
                );
                out.extend((0..skim.passed).map(|_| "passed".to_string()));
                match skim.next {
                    Kept::Item(Ok(f)) => out.push(format!("{} {} {:?}", f.index, f.offset, f.data)),
                    Kept::Item(Err(e)) => out.push(format!("{e}")),
                    Kept::Paused => {}
                    Kept::End => return out,
                }
                continue;
            }
            for run in &runs {
                assert!(rd.pass_sorted(run), "{run:?}");
                assert!(run.passed() == 0 || run.last() < rd.input.pos());
                out.extend((0..run.passed()).map(|_| "passed".to_string()));
                if run.kept() {
                    let f = rd.next_frame().expect("kept").expect("whole");
                    out.push(format!("{} {} {:?}", f.index, f.offset, f.data));
                }
            }
            // A run already passed is stale.
            if let Some(run) = runs.first() {
                assert!(!rd.pass_sorted(run), "{run:?}");
            }
        }
    }

    fn by_next_frame<R: Read>(mut rd: CaptureReader<R>) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(r) = rd.next_frame() {
            out.push(match r {
                Ok(f) if f.data.first().is_some_and(|b| b % 3 == 0) => {
                    format!("{} {} {:?}", f.index, f.offset, f.data)
                }
                Ok(_) => "passed".to_string(),
                Err(e) => format!("{e}"),
            });
        }
        out
    }

    fn same_as_next_frame(name: &str, bytes: &[u8]) -> usize {
        let mut sorted = 0;
        for piece in [usize::MAX, 7, 4093] {
            let Ok(rd) = CaptureReader::new(Trickle(bytes, piece)) else {
                return 0;
            };
            let want = by_next_frame(rd);
            for (most, stop) in [(1, u64::MAX), (5, u64::MAX), (64, u64::MAX), (64, 300)] {
                let rd = CaptureReader::new(Trickle(bytes, piece)).expect("read before");
                let got = by_sorting(rd, most, stop);
                assert_eq!(got, want, "{name}, reads of {piece}, {most} {stop}");
                sorted += got.len();
            }
        }
        sorted
    }

    /// Whole, cut, and with an unreadable record (the look stops there), in both byte orders.
    #[test]
    fn sorted_runs_read_as_next_frame() {
        for (name, bytes) in pcap_edges(2000, |i| (i * 37) % 301) {
            let sorted = same_as_next_frame(&name, &bytes);
            assert!(sorted > 0 || !name.ends_with("whole"), "{name}");
        }
    }

    #[test]
    fn pcapng_sorts_nothing() {
        let ng = small_pcapng();
        let rd = CaptureReader::new(&ng[..]).expect("pcapng");
        let mut runs = Vec::new();
        rd.sort_whole(64, u64::MAX, &mut runs, |_, _| false);
        assert!(runs.is_empty());
        assert_eq!(same_as_next_frame("pcapng", &ng), 4 * 3 * 50);
    }
}
