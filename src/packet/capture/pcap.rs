//! Classic libpcap format (<https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html>):
//! a 24-byte file header, then records of a 16-byte header and `caplen` bytes.
//!
//! Framing is the record header alone, so a record whose `caplen` is over [`MAX_CAPLEN`] is
//! reported and its bytes skipped (as libpcap, which refuses such records); the file is over
//! when a record header or its data is cut short.

use std::io::Read;

use super::input::Input;
use super::{Anomaly, CaptureError, Format, Meta, RecordErrorKind, Step, MAX_CAPLEN};

const MAGIC_MICRO: u32 = 0xa1b2_c3d4;
const MAGIC_NANO: u32 = 0xa1b2_3c4d;
/// The link type is the low 28 bits; the top bits carry FCS information (pcap draft §4).
const LINKTYPE_MASK: u32 = 0x0fff_ffff;

#[derive(Debug, Clone, Copy)]
pub(super) struct State {
    big_endian: bool,
    nano: bool,
    linktype: u32,
}

impl State {
    /// Parses the file header; `magic` holds its first four bytes, already read.
    pub(super) fn start<R: Read>(
        input: &mut Input<R>,
        magic: [u8; 4],
    ) -> Result<Self, CaptureError> {
        let (big_endian, nano) = match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
            (MAGIC_MICRO, _) => (false, false),
            (MAGIC_NANO, _) => (false, true),
            (_, MAGIC_MICRO) => (true, false),
            (_, MAGIC_NANO) => (true, true),
            _ => return Err(CaptureError::BadMagic(u32::from_be_bytes(magic))),
        };
        let mut rest = [0u8; 20];
        let got = input.read_full(&mut rest).map_err(|e| input.io_error(e))?;
        if got < rest.len() {
            return Err(CaptureError::ShortHeader {
                got: 4 + got as u64,
                need: 24,
            });
        }
        let mut st = State {
            big_endian,
            nano,
            linktype: 0,
        };
        st.linktype = st.u32_at(&rest, 16) & LINKTYPE_MASK;
        Ok(st)
    }

    pub(super) fn format(&self) -> Format {
        if self.nano {
            Format::PcapNano
        } else {
            Format::PcapMicro
        }
    }

    pub(super) fn linktype(&self) -> u32 {
        self.linktype
    }

    fn u32_at(&self, b: &[u8], off: usize) -> u32 {
        let mut w = [0u8; 4];
        if let Some(s) = b.get(off..off + 4) {
            w.copy_from_slice(s);
        }
        if self.big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    }

    /// Reads one record into `buf`.
    pub(super) fn next<R: Read>(&mut self, input: &mut Input<R>) -> Step {
        let offset = input.pos();
        // The header is read in place (a fixed-size load, not a copy call): this runs for
        // every record, and every `replay --jobs` worker reads every record.
        let hdr: [u8; 16] = match input.take(16) {
            Ok(b) => match <[u8; 16]>::try_from(b) {
                Ok(h) => h,
                Err(_) if b.is_empty() => return Step::Eof,
                Err(_) => {
                    return Step::truncated(offset, "record header", b.len() as u64, 16, true)
                }
            },
            Err(e) => return Step::Io(e),
        };
        let caplen = self.u32_at(&hdr, 8);
        if caplen > MAX_CAPLEN {
            // Skip the claimed bytes without buffering them; if the length was garbage the next
            // header read meets the end of file (or garbage) and says so.
            let kind = RecordErrorKind::TooLarge {
                len: caplen.into(),
                limit: MAX_CAPLEN.into(),
            };
            return match input.skip(u64::from(caplen)) {
                Ok(_) => Step::Bad {
                    offset,
                    kind,
                    fatal: false,
                    counts: true,
                },
                Err(e) => Step::Io(e),
            };
        }
        // caplen <= MAX_CAPLEN, so the window stays bounded; the bytes stay where they were
        // read (zero-copy) until the next record is read.
        let len = caplen as usize;
        match input.take_range(len) {
            Ok(r) if r.len() < len => {
                Step::truncated(offset, "packet data", r.len() as u64, len as u64, true)
            }
            Ok(r) => Step::Packet(self.meta(offset, &hdr, r.start)),
            Err(e) => Step::Io(e),
        }
    }

    /// The header and data of the record at the start of `unread` when the whole record is
    /// there and [`State::next`] would hand it out as a packet (a record is bad only when its
    /// length is over [`MAX_CAPLEN`] or it is cut short); `None` when `next` must read it.
    #[inline]
    pub(super) fn whole<'u>(&self, unread: &'u [u8]) -> Option<(&'u [u8; 16], &'u [u8])> {
        let hdr: &[u8; 16] = unread.get(..16)?.try_into().ok()?;
        let caplen = self.u32_at(hdr, 8);
        if caplen > MAX_CAPLEN {
            return None;
        }
        Some((hdr, unread.get(16..16 + caplen as usize)?))
    }

    /// Consumes the record at the start of the input's unread bytes if [`State::whole`] finds
    /// it there: its [`Meta`], as [`State::next`] would read it.
    #[inline]
    pub(super) fn take_whole<R: Read>(&self, input: &mut Input<R>) -> Option<Meta> {
        let (hdr, data) = self.whole(input.unread())?;
        let (hdr, len) = (*hdr, data.len());
        let (offset, start) = (input.pos(), input.unread_start() + 16);
        input.consume(16 + len);
        Some(self.meta(offset, &hdr, start))
    }

    /// Timestamp, lengths and anomalies of a record whose data is in the buffer. Inlined:
    /// every record's (a call cost ~55 instructions a record, call included).
    #[inline]
    fn meta(&self, offset: u64, hdr: &[u8; 16], start: usize) -> Meta {
        let f = self.fields(hdr);
        Meta {
            offset,
            ts_ns: f.ts_ns,
            linktype: self.linktype,
            iface: None,
            orig_len: f.orig_len,
            start,
            len: f.caplen as usize,
            in_window: true,
            anomaly: f.anomaly,
        }
    }

    /// What a record header says: the four fields read with one test of the byte order
    /// (per field, it was a fifth of the framing's instructions).
    #[inline]
    pub(super) fn fields(&self, hdr: &[u8; 16]) -> Fields {
        let word = |i: usize| [hdr[i], hdr[i + 1], hdr[i + 2], hdr[i + 3]];
        let [sec, frac, caplen, orig_len] = if self.big_endian {
            [0, 4, 8, 12].map(|i| u32::from_be_bytes(word(i)))
        } else {
            [0, 4, 8, 12].map(|i| u32::from_le_bytes(word(i)))
        };
        let (unit, limit) = if self.nano {
            (1, 1_000_000_000)
        } else {
            (1_000, 1_000_000)
        };
        let anomaly = if frac >= limit {
            Some(Anomaly::TimestampFraction { frac, limit })
        } else {
            (caplen > orig_len).then_some(Anomaly::CaplenExceedsOrigLen)
        };
        Fields {
            ts_ns: i128::from(sec) * 1_000_000_000 + i128::from(frac) * unit,
            caplen,
            orig_len,
            anomaly,
        }
    }
}

/// A record header's fields ([`State::fields`]).
pub(super) struct Fields {
    pub(super) ts_ns: i128,
    pub(super) caplen: u32,
    pub(super) orig_len: u32,
    pub(super) anomaly: Option<Anomaly>,
}
