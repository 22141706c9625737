//! Byte source with a position counter: exact reads that tell a clean end of file from a
//! truncated record, and bounded skipping that never buffers what it skips.
//!
//! Input keeps its own read window (64 KiB, grown only to the largest record a caller asks
//! for, which the formats bound by `MAX_CAPLEN`/`MAX_BLOCK`): reading a record is then a slice
//! of the window, not a `Read::read` call per header and per body, which cost more than the
//! rest of the record's framing at millions of records per second.
//!
//! The window is a shared buffer ([`Input::window_buffer`]): a caller may lend its records to
//! another thread without copying them. A refill that finds the window still lent moves on to
//! a buffer whose borrowers are done with it (or a new one), so lent bytes never change.

use std::io::{self, Read};
use std::sync::Arc;

use super::CaptureError;

/// Bytes asked of the source at a time.
pub(super) const CHUNK: usize = 1 << 16;
/// Bytes of windows kept for reuse once their borrowers are done with them. A sharded replay
/// lends each window to its other workers until they have replayed the records in it (a few
/// dozen 64 KiB windows in its queues); past this, a window still lent is left to its
/// borrowers to free.
pub(super) const KEPT_BYTES: usize = 8 << 20;

pub(super) struct Input<R> {
    r: R,
    /// Bytes read from `r`: `win[head..tail]` are not consumed yet.
    win: Arc<Vec<u8>>,
    /// Windows lent before (see [`Input::window_buffer`]), to reuse once no one else holds
    /// them.
    kept: Vec<Arc<Vec<u8>>>,
    head: usize,
    tail: usize,
    /// The source said end of file.
    eof: bool,
    pos: u64,
}

impl<R: Read> Input<R> {
    pub(super) fn new(r: R) -> Self {
        Input {
            r,
            win: Arc::default(),
            kept: Vec::new(),
            head: 0,
            tail: 0,
            eof: false,
            pos: 0,
        }
    }

    /// Byte offset of the next byte to be read.
    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    /// Makes at least `want` unconsumed bytes available, unless the source ends first.
    /// Once per 64 KiB: kept out of line so the per-record [`Input::take_range`] inlines
    /// to a few instructions.
    #[cold]
    #[inline(never)]
    fn fill(&mut self, want: usize) -> io::Result<()> {
        match Arc::get_mut(&mut self.win) {
            Some(win) => win.copy_within(self.head..self.tail, 0),
            None => self.move_window(),
        }
        self.tail -= self.head;
        self.head = 0;
        // Held here only (see `move_window`): never a copy.
        let win = Arc::make_mut(&mut self.win);
        let size = want.max(CHUNK);
        if win.len() < size {
            win.resize(size, 0);
        }
        while self.tail < want && !self.eof {
            match self.r.read(&mut win[self.tail..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.tail += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Copies the unconsumed bytes of the window, which is lent, to the start of a window no
    /// one else holds (one kept, or a new one), and keeps the lent one for later.
    #[cold]
    #[inline(never)]
    fn move_window(&mut self) {
        let free = self.kept.iter_mut().position(|w| Arc::get_mut(w).is_some());
        let next = free.map_or_else(Arc::default, |i| self.kept.swap_remove(i));
        let lent = std::mem::replace(&mut self.win, next);
        let unconsumed = lent.get(self.head..self.tail).unwrap_or_default();
        let win = Arc::make_mut(&mut self.win);
        // A kept window is overwritten, not cleared, so that `fill` need not zero it again.
        match win.get_mut(..unconsumed.len()) {
            Some(start) => start.copy_from_slice(unconsumed),
            None => {
                win.clear();
                win.extend_from_slice(unconsumed);
            }
        }
        if self.window_bytes() + lent.capacity() <= KEPT_BYTES {
            self.kept.push(lent);
        }
    }

    /// The read window as a shared buffer, and the byte offset in the file of its first
    /// byte: what [`Input::unread`] and the ranges of [`Input::take_range`] are slices of,
    /// for a caller that lends them (an [`Arc::clone`] of it) to another thread. Once lent,
    /// these bytes never change: the next refill moves on to another buffer.
    pub(super) fn window_buffer(&self) -> (&Arc<Vec<u8>>, u64) {
        (&self.win, self.pos - self.head as u64)
    }

    /// The next `n` bytes, consumed; shorter only at end of file.
    pub(super) fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        let r = self.take_range(n)?;
        Ok(&self.win[r])
    }

    /// Like [`Input::take`], but names the bytes by their place in the window (see
    /// [`Input::window`]), so the caller may hand them out after releasing `self`.
    #[inline]
    pub(super) fn take_range(&mut self, n: usize) -> io::Result<std::ops::Range<usize>> {
        if self.tail - self.head < n {
            self.fill(n)?;
        }
        let k = n.min(self.tail - self.head);
        let start = self.head;
        self.head += k;
        self.pos += k as u64;
        Ok(start..start + k)
    }

    /// The bytes read from the source and not consumed yet, without reading more: what a
    /// caller may look at in place before it [`Input::consume`]s them.
    #[inline]
    pub(super) fn unread(&self) -> &[u8] {
        self.win.get(self.head..self.tail).unwrap_or(&[])
    }

    /// Where [`Input::unread`] starts in the window (see [`Input::window`]).
    #[inline]
    pub(super) fn unread_start(&self) -> usize {
        self.head
    }

    /// Consumes `n` bytes of [`Input::unread`] (at most all of them).
    #[inline]
    pub(super) fn consume(&mut self, n: usize) {
        let k = n.min(self.tail - self.head);
        self.head += k;
        self.pos += k as u64;
    }

    /// Bytes a [`Input::take_range`] named; valid until the next read moves the window.
    pub(super) fn window(&self, r: std::ops::Range<usize>) -> Option<&[u8]> {
        self.win.get(..self.tail)?.get(r)
    }

    /// Fills `buf` as far as the source allows; returns how many bytes were read (less than
    /// `buf.len()` only at end of file).
    pub(super) fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let got = self.take(buf.len())?;
        let n = got.len();
        buf[..n].copy_from_slice(got);
        Ok(n)
    }

    /// Discards up to `n` bytes, first from the window, the rest through a small stack
    /// buffer; returns how many were skipped.
    pub(super) fn skip(&mut self, n: u64) -> io::Result<u64> {
        let buffered = (self.tail - self.head).min(usize::try_from(n).unwrap_or(usize::MAX));
        self.head += buffered;
        self.pos += buffered as u64;
        let rest = n - buffered as u64;
        let k = io::copy(&mut (&mut self.r).take(rest), &mut io::sink())?;
        self.pos += k;
        Ok(buffered as u64 + k)
    }

    /// The source, and the bytes read from it but not consumed yet.
    pub(super) fn into_parts(self) -> (R, Vec<u8>) {
        let mut win = Arc::unwrap_or_clone(self.win);
        win.truncate(self.tail);
        win.drain(..self.head);
        (self.r, win)
    }

    /// Bytes held by the read window and the windows kept (at most [`KEPT_BYTES`] of them).
    pub(super) fn window_bytes(&self) -> usize {
        self.win.capacity() + self.kept.iter().map(|w| w.capacity()).sum::<usize>()
    }

    pub(super) fn io_error(&self, source: io::Error) -> CaptureError {
        CaptureError::Io {
            offset: self.pos,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that hands out at most 3 bytes per read, to exercise refills.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let k = buf.len().min(3).min(self.0.len());
            buf[..k].copy_from_slice(&self.0[..k]);
            self.0 = &self.0[k..];
            Ok(k)
        }
    }

    #[test]
    fn takes_across_refills_skips_and_stops_short_at_the_end() {
        let data: Vec<u8> = (0..=255u8).cycle().take(CHUNK * 2 + 10).collect();
        let mut input = Input::new(Trickle(&data));
        assert_eq!(
            input.take(5).map(<[u8]>::to_vec).ok(),
            Some(data[..5].to_vec())
        );
        assert_eq!(input.skip(CHUNK as u64).ok(), Some(CHUNK as u64));
        assert_eq!(input.pos(), CHUNK as u64 + 5);
        let mut buf = vec![0u8; CHUNK + 100];
        assert_eq!(input.read_full(&mut buf).ok(), Some(CHUNK + 5));
        assert_eq!(&buf[..CHUNK + 5], &data[CHUNK + 5..]);
        assert_eq!(input.take(1).map(<[u8]>::len).ok(), Some(0));
        assert_eq!(input.pos(), data.len() as u64);
    }

    /// Windows lent while reading never change, reading goes on as if nothing were lent, and
    /// a window handed back is read into again rather than a new one made.
    #[test]
    fn lent_windows_never_change_and_come_back() {
        let data: Vec<u8> = (0..=250u8).cycle().take(CHUNK * 9 + 77).collect();
        let mut input = Input::new(Trickle(&data));
        let (mut lent, mut read) = (Vec::new(), Vec::new());
        while let Ok(r) = input.take_range(1000) {
            if r.is_empty() {
                break;
            }
            let (window, at) = input.window_buffer();
            // Every third take lends the window, with what those bytes were.
            if read.len() % 3 == 0 {
                let copy = window.get(r.clone()).map(<[u8]>::to_vec);
                lent.push((Arc::clone(window), r.clone(), copy));
            }
            // `at` places the window in the file.
            assert_eq!(at + r.start as u64, read.len() as u64);
            read.extend_from_slice(input.window(r).unwrap_or_default());
            // Borrowers hand back all but the last few windows now and then.
            if read.len() % 7_000 < 1000 && lent.len() > 4 {
                for (window, r, copy) in lent.drain(..lent.len() - 4) {
                    assert_eq!(window.get(r).map(<[u8]>::to_vec), copy);
                }
            }
        }
        assert_eq!(read, data);
        for (window, r, copy) in &lent {
            assert_eq!(window.get(r.clone()).map(<[u8]>::to_vec), *copy);
        }
        // Windows handed back were reused: far fewer were made than refills lent one.
        let made = input.kept.len() + 1;
        assert!((2..=8).contains(&made), "{made} windows");
    }

    /// Windows grown for large records and lent all at once: the windows kept stay within
    /// their bound, whatever the borrowers hold.
    #[test]
    fn windows_kept_stay_bounded() {
        let data = vec![7u8; 300_000 * 60];
        let mut input = Input::new(&data[..]);
        let mut held = Vec::new();
        while let Ok(r) = input.take_range(300_000) {
            if r.is_empty() {
                break;
            }
            held.push(Arc::clone(input.window_buffer().0));
            assert!(input.window_bytes() <= KEPT_BYTES + 2 * 300_000);
        }
        assert_eq!(held.len(), 60);
        assert!(held.iter().all(|w| w.iter().all(|&b| b == 7)));
    }
}
