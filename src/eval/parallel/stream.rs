//! A capture that can be read only once (standard input, a pipe) shared by
//! every worker: one thread reads it in chunks and hands each worker the
//! same chunks (reference-counted, never copied per worker), which the
//! worker's own [`CaptureReader`](crate::packet::CaptureReader) parses as if
//! it read the file. [`Rewind`] gives back the bytes the caller's first
//! reader consumed to check the header, so the workers start at byte 0.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;

/// Bytes read from the source at a time.
pub(super) const CHUNK: usize = 1 << 18;
/// Chunks queued per worker. A worker may run at most this many chunks
/// ahead of the slowest; it must exceed what a worker holds unreported
/// (its read window, one record, the bytes between two reports), else the
/// reader could wait for a slow worker that the merge does not wait for.
pub(super) const QUEUED: usize = 16;

/// A read error as every worker gets it: `io::Error` does not clone.
pub(super) type Shared = Result<Arc<Vec<u8>>, (io::ErrorKind, String)>;

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

/// Reads `source` to its end (or until every worker has stopped), sending
/// each chunk to every worker.
pub(super) fn deal(mut source: impl Read, to: Vec<SyncSender<Shared>>) {
    loop {
        let mut buf = vec![0u8; CHUNK];
        let n = match source.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let shared = (e.kind(), e.to_string());
                for t in &to {
                    let _ = t.send(Err(shared.clone()));
                }
                return;
            }
        };
        buf.truncate(n);
        let chunk = Arc::new(buf);
        // A worker stops only at a fatal error or when the caller stops the
        // replay; the others then stop at the same record or soon after.
        if to.iter().any(|t| t.send(Ok(chunk.clone())).is_err()) {
            return;
        }
    }
}

/// One worker's view of the dealt chunks, as a byte source.
pub(super) struct Chunks {
    from: Receiver<Shared>,
    cur: Arc<Vec<u8>>,
    at: usize,
}

impl Chunks {
    pub(super) fn new(from: Receiver<Shared>) -> Chunks {
        Chunks {
            from,
            cur: Arc::default(),
            at: 0,
        }
    }
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.cur.len() {
            match self.from.recv() {
                Ok(Ok(chunk)) => (self.cur, self.at) = (chunk, 0),
                Ok(Err((kind, msg))) => return Err(io::Error::new(kind, msg)),
                // The reader is done: the end of the source.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.at);
        buf[..n].copy_from_slice(&self.cur[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn every_worker_reads_the_whole_source_from_its_first_byte() {
        let data: Vec<u8> = (0..=255u8).cycle().take(CHUNK * 2 + 77).collect();
        let mut first = Rewind::new(&data[..]);
        let mut head = [0u8; 10];
        first.read_exact(&mut head).expect("head");
        let source = first.rewound();
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..3).map(|_| mpsc::sync_channel(QUEUED)).unzip();
        std::thread::scope(|s| {
            s.spawn(move || deal(source, txs));
            for rx in rxs {
                let mut got = Vec::new();
                Chunks::new(rx).read_to_end(&mut got).expect("read");
                assert!(got == data, "{} of {} bytes", got.len(), data.len());
            }
        });
    }

    /// A source that fails after its first bytes.
    struct Failing(bool);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "gone"));
            }
            buf[..4].copy_from_slice(b"abcd");
            Ok(4)
        }
    }

    #[test]
    fn a_read_error_reaches_every_worker_after_the_bytes_before_it() {
        let (tx, rx) = mpsc::sync_channel(QUEUED);
        deal(Failing(false), vec![tx]);
        let mut chunks = Chunks::new(rx);
        let mut got = Vec::new();
        let err = chunks.read_to_end(&mut got).expect_err("error");
        assert_eq!(
            (got.as_slice(), err.kind()),
            (&b"abcd"[..], io::ErrorKind::BrokenPipe)
        );
        assert_eq!(err.to_string(), "gone");
    }
}
