//! Byte source with a position counter: exact reads that tell a clean end of file from a
//! truncated record, and bounded skipping that never buffers what it skips.

use std::io::{self, Read};

use super::CaptureError;

pub(super) struct Input<R> {
    r: R,
    pos: u64,
}

impl<R: Read> Input<R> {
    pub(super) fn new(r: R) -> Self {
        Input { r, pos: 0 }
    }

    /// Byte offset of the next byte to be read.
    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    /// Fills `buf` as far as the source allows; returns how many bytes were read (less than
    /// `buf.len()` only at end of file).
    pub(super) fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while let Some(rest) = buf.get_mut(n..) {
            if rest.is_empty() {
                break;
            }
            match self.r.read(rest) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// Discards up to `n` bytes through a small stack buffer; returns how many were skipped.
    pub(super) fn skip(&mut self, n: u64) -> io::Result<u64> {
        let k = io::copy(&mut (&mut self.r).take(n), &mut io::sink())?;
        self.pos += k;
        Ok(k)
    }

    pub(super) fn io_error(&self, source: io::Error) -> CaptureError {
        CaptureError::Io {
            offset: self.pos,
            source,
        }
    }
}
