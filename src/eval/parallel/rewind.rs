//! A capture that can be read only once (standard input, a pipe): [`Rewind`] gives back the
//! bytes the caller's first reader consumed to check the header, so that the replay (one
//! engine, or the dealing worker of a sharded replay) reads it from byte 0 like a file.

use std::io::{self, Read};

/// A source that keeps a copy of what it hands out until [`Rewind::rewound`],
/// so the capture's header can be checked on a pipe and then read again from
/// its first byte.
pub struct Rewind<R> {
    inner: R,
    kept: Vec<u8>,
}

impl<R: Read> Rewind<R> {
    pub fn new(inner: R) -> Rewind<R> {
        Rewind {
            inner,
            kept: Vec::new(),
        }
    }

    /// Everything read so far, then the rest of the source.
    pub fn rewound(self) -> io::Chain<io::Cursor<Vec<u8>>, R> {
        io::Cursor::new(self.kept).chain(self.inner)
    }
}

impl<R: Read> Read for Rewind<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.kept.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rewound_source_starts_at_its_first_byte() {
        let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let mut first = Rewind::new(&data[..]);
        let mut head = [0u8; 10];
        first.read_exact(&mut head).expect("head");
        let mut got = Vec::new();
        first.rewound().read_to_end(&mut got).expect("read");
        assert!(got == data, "{} of {} bytes", got.len(), data.len());
    }
}
