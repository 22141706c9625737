//! Streaming capture reader: classic pcap (µs and ns magic, both byte orders) and pcapng
//! (several sections and interfaces, `if_tsresol` powers of 10 and of 2, `if_tsoffset`).
//!
//! Invariants:
//! - The reader never holds more than one record (one pcapng block) in memory; the record buffer
//!   is reused, so [`Frame::data`] borrows it until the next call to
//!   [`CaptureReader::next_frame`].
//! - No length read from the file is used to allocate without a cap: packet data is bounded by
//!   [`MAX_CAPLEN`], pcapng blocks read into memory by [`MAX_BLOCK`]; larger blocks are skipped
//!   by streaming them to a sink.
//! - Every problem is an error value carrying the record index and the byte offset where the
//!   record starts. [`CaptureError::is_fatal`] says whether reading can go on: a corrupt record
//!   whose length field is still plausible is skipped and the next call yields the next record.
//! - Timestamps are computed here (not by `pcap-file`, whose 2.x/3.0.0-rc.2 pcapng timestamp
//!   handling of `if_tsresol`/`if_tsoffset` is wrong) as signed nanoseconds since the epoch.

mod input;
mod pcap;
mod pcapng;
mod peek;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use input::Input;
pub use peek::{Framing, Run, SharedWindow};

/// Largest packet record accepted (libpcap's `MAXIMUM_SNAPLEN`, 262144).
pub const MAX_CAPLEN: u32 = 262_144;
/// Largest pcapng block read into memory (a maximal packet plus generous room for options).
pub const MAX_BLOCK: u32 = MAX_CAPLEN + 65_536;

/// Which container the file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap with microsecond timestamps (magic `a1b2c3d4`).
    PcapMicro,
    /// Classic pcap with nanosecond timestamps (magic `a1b23c4d`).
    PcapNano,
    /// pcapng (Section Header Block magic `0a0d0d0a`).
    Pcapng,
}

/// Something odd about a record that does not stop it from being used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anomaly {
    /// The sub-second part is not below one second (e.g. usec >= 1_000_000); `ts_ns` is still
    /// `sec * 1e9 + frac * unit`, as tcpdump prints it, so ordering is preserved.
    TimestampFraction { frac: u32, limit: u32 },
    /// A pcapng Simple Packet Block carries no timestamp; `ts_ns` repeats the previous record's.
    NoTimestamp,
    /// The captured length is larger than the original length.
    CaplenExceedsOrigLen,
}

impl std::fmt::Display for Anomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Anomaly::TimestampFraction { frac, limit } => {
                write!(f, "invalid timestamp: fraction {frac} is not below {limit}")
            }
            Anomaly::NoTimestamp => f.write_str("simple packet block without timestamp"),
            Anomaly::CaplenExceedsOrigLen => f.write_str("captured length exceeds original length"),
        }
    }
}

/// One capture record. `data` borrows the reader's buffer (zero-copy, reused per record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 0-based number of the packet record in the file (pcapng non-packet blocks not counted).
    pub index: u64,
    /// Byte offset of the record (pcap record header or pcapng block) in the file.
    pub offset: u64,
    /// Nanoseconds since the Unix epoch (signed: `if_tsoffset` may be negative).
    pub ts_ns: i128,
    /// LINKTYPE_* value of the record's interface (pcap: of the file).
    pub linktype: u32,
    /// pcapng interface id; `None` for classic pcap.
    pub iface: Option<u32>,
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// Captured bytes.
    pub data: &'a [u8],
    /// A non-fatal oddity of this record, to report.
    pub anomaly: Option<Anomaly>,
}

/// What went wrong inside one record or block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordErrorKind {
    #[error("truncated {what}: {got} of {need} bytes")]
    Truncated {
        what: &'static str,
        got: u64,
        need: u64,
    },
    #[error("captured length {len} exceeds the limit of {limit} bytes")]
    TooLarge { len: u64, limit: u64 },
    #[error("invalid block length {0} (must be a multiple of 4 and at least 12)")]
    BadBlockLength(u32),
    #[error("trailing block length {trailer} differs from leading length {leader}")]
    BlockLengthMismatch { leader: u32, trailer: u32 },
    #[error("captured length {caplen} does not fit in the block body of {room} bytes")]
    CaplenExceedsBlock { caplen: u32, room: u32 },
    #[error("packet on interface {0}, which no Interface Description Block described")]
    UnknownInterface(u32),
    #[error("section header with invalid byte-order magic {0:#010x}")]
    BadByteOrder(u32),
    #[error("block before the first Section Header Block")]
    NoSection,
}

/// Errors of [`CaptureReader`].
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("not a pcap or pcapng file (magic {0:#010x})")]
    BadMagic(u32),
    #[error("file header truncated: {got} of {need} bytes")]
    ShortHeader { got: u64, need: u64 },
    #[error("record {index} at byte offset {offset}: {kind}")]
    Record {
        index: u64,
        offset: u64,
        kind: RecordErrorKind,
        fatal: bool,
    },
    #[error("read error at byte offset {offset}: {source}")]
    Io { offset: u64, source: std::io::Error },
    #[error("cannot open: {0}")]
    Open(std::io::Error),
}

impl CaptureError {
    /// True when no further record can be read after this error.
    pub fn is_fatal(&self) -> bool {
        match self {
            CaptureError::Record { fatal, .. } => *fatal,
            _ => true,
        }
    }
}

/// Metadata of a record whose bytes are `buf[start..start + len]`.
#[derive(Debug, Clone, Copy)]
struct Meta {
    offset: u64,
    ts_ns: i128,
    linktype: u32,
    iface: Option<u32>,
    orig_len: u32,
    start: usize,
    len: usize,
    /// Where `start..start + len` indexes: the record buffer (pcapng blocks, parsed whole) or
    /// the input's read window (classic pcap: the record's bytes are handed out in place,
    /// never copied).
    in_window: bool,
    anomaly: Option<Anomaly>,
}

/// A record-level failure before it is numbered: kind, byte offset, and whether it is fatal.
#[derive(Debug)]
enum Step {
    /// A packet record was read.
    Packet(Meta),
    /// A block that is not a packet was consumed (pcapng only).
    Other,
    /// Clean end of file.
    Eof,
    /// The packet record at `offset` is bad.
    Bad {
        offset: u64,
        kind: RecordErrorKind,
        fatal: bool,
        counts: bool,
    },
    /// Reading failed.
    Io(std::io::Error),
}

impl Step {
    /// A record cut short by the end of the file: nothing after it can be read.
    fn truncated(offset: u64, what: &'static str, got: u64, need: u64, counts: bool) -> Step {
        let kind = RecordErrorKind::Truncated { what, got, need };
        Step::Bad {
            offset,
            kind,
            fatal: true,
            counts,
        }
    }
}

enum State {
    Pcap(pcap::State),
    Pcapng(pcapng::State),
}

/// What [`CaptureReader::next_raw`] found.
enum Raw {
    Packet(Meta),
    Error(CaptureError),
    End,
}

/// Streaming reader over any [`Read`]; it buffers by itself (64 KiB reads), so a `BufReader`
/// around the source only adds a copy.
pub struct CaptureReader<R> {
    input: Input<R>,
    state: State,
    buf: Vec<u8>,
    index: u64,
    done: bool,
}

impl CaptureReader<File> {
    /// Opens a capture file.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let f = File::open(path).map_err(CaptureError::Open)?;
        Self::new(f)
    }
}

impl CaptureReader<Box<dyn Read + Send>> {
    /// Opens a capture file, or reads standard input when `path` is `-` (a capture piped in:
    /// `tcpdump -w - ... | iptwalk replay RULES -`). The reader streams either way.
    pub fn open_or_stdin(path: &Path) -> Result<Self, CaptureError> {
        let source: Box<dyn Read + Send> = if path == Path::new("-") {
            Box::new(std::io::stdin())
        } else {
            let f = File::open(path).map_err(CaptureError::Open)?;
            Box::new(f)
        };
        Self::new(source)
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header (pcap) or the first Section Header Block (pcapng).
    pub fn new(reader: R) -> Result<Self, CaptureError> {
        let mut input = Input::new(reader);
        let mut magic = [0u8; 4];
        let got = input.read_full(&mut magic).map_err(|e| input.io_error(e))?;
        if got < 4 {
            return Err(CaptureError::ShortHeader {
                got: got as u64,
                need: 4,
            });
        }
        let mut buf = Vec::new();
        let state = if magic == pcapng::SHB_TYPE.to_le_bytes() {
            State::Pcapng(pcapng::State::start(&mut input, &mut buf)?)
        } else {
            State::Pcap(pcap::State::start(&mut input, magic)?)
        };
        Ok(CaptureReader {
            input,
            state,
            buf,
            index: 0,
            done: false,
        })
    }

    /// The container format.
    pub fn format(&self) -> Format {
        match &self.state {
            State::Pcap(s) => s.format(),
            State::Pcapng(_) => Format::Pcapng,
        }
    }

    /// The link type of a classic pcap file, or of pcapng's first interface (if any yet).
    pub fn linktype(&self) -> Option<u32> {
        match &self.state {
            State::Pcap(s) => Some(s.linktype()),
            State::Pcapng(s) => s.first_linktype(),
        }
    }

    /// Bytes held by the record buffer and the read window (each bounded by [`MAX_BLOCK`],
    /// the window by 64 KiB until a record needs more), and by windows lent before and kept
    /// for reuse (see [`CaptureReader::shared_window`]; at most 8 MiB).
    pub fn buffered_bytes(&self) -> usize {
        self.buf.capacity() + self.input.window_bytes()
    }

    /// The source, and the bytes read from it that no record consumed yet (the read window
    /// runs ahead of the records handed out).
    pub fn into_parts(self) -> (R, Vec<u8>) {
        self.input.into_parts()
    }

    /// Next record, `None` at the end of the file or after a fatal error. Inlined into the
    /// replay loop, which calls it for every record: its own path is a few dozen
    /// instructions, the general one (`CaptureReader::next_raw`) stays out of line.
    #[inline(always)]
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, CaptureError>> {
        // A classic pcap record whole in the read window: read in place, not through the
        // general path's steps (every record of almost every capture).
        if let (State::Pcap(s), false) = (&self.state, self.done) {
            if let Some(m) = s.take_whole(&mut self.input) {
                return Some(Ok(self.frame(m)));
            }
        }
        match self.next_raw() {
            Raw::Packet(m) => Some(Ok(self.frame(m))),
            Raw::Error(e) => Some(Err(e)),
            Raw::End => None,
        }
    }

    /// Next record as [`Meta`] (not numbered yet: [`CaptureReader::frame`] numbers it), or
    /// the next error (numbered), or the end.
    #[inline(never)]
    fn next_raw(&mut self) -> Raw {
        loop {
            if self.done {
                return Raw::End;
            }
            let step = match &mut self.state {
                State::Pcap(s) => s.next(&mut self.input),
                State::Pcapng(s) => s.next(&mut self.input, &mut self.buf),
            };
            match step {
                Step::Other => continue,
                Step::Eof => {
                    self.done = true;
                    return Raw::End;
                }
                Step::Io(source) => {
                    self.done = true;
                    return Raw::Error(self.input.io_error(source));
                }
                Step::Bad {
                    offset,
                    kind,
                    fatal,
                    counts,
                } => {
                    let index = self.index;
                    if counts {
                        self.index += 1;
                    }
                    self.done = fatal;
                    return Raw::Error(CaptureError::Record {
                        index,
                        offset,
                        kind,
                        fatal,
                    });
                }
                Step::Packet(m) => return Raw::Packet(m),
            }
        }
    }

    /// The bytes of the record `m` describes.
    fn data(&self, m: &Meta) -> &[u8] {
        let range = m.start..m.start.saturating_add(m.len);
        let data = if m.in_window {
            self.input.window(range)
        } else {
            self.buf.get(range)
        };
        data.unwrap_or(&[])
    }

    fn frame(&mut self, m: Meta) -> Frame<'_> {
        let index = self.index;
        self.index += 1;
        Frame {
            index,
            offset: m.offset,
            ts_ns: m.ts_ns,
            linktype: m.linktype,
            iface: m.iface,
            orig_len: m.orig_len,
            data: self.data(&m),
            anomaly: m.anomaly,
        }
    }
}

/// Makes sure `buf` holds at least `n` bytes (growing only, so the zero-fill happens once per
/// high-water mark) and returns the first `n`. `n` is always capped by the caller.
fn ensure(buf: &mut Vec<u8>, n: usize) -> &mut [u8] {
    if buf.len() < n {
        buf.resize(n, 0);
    }
    &mut buf[..n]
}

#[cfg(test)]
mod tests;
