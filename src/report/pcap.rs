//! Classic pcap output (`replay --split`): the file header and one record
//! header per packet, as libpcap's `sf-pcap.c` writes them, in little-endian
//! byte order.
//!
//! Invariants: the records are written as read (captured bytes and original
//! length unchanged), so Wireshark and `tcpdump -r` show the capture's own
//! packets; timestamps keep their precision when the chosen magic allows it
//! (`a1b23c4d` = nanoseconds, `a1b2c3d4` = microseconds, truncated).
//! Nothing is buffered here beyond what the caller's writer buffers.

use std::io::{self, Write};

/// Microsecond-precision magic (libpcap `TCPDUMP_MAGIC`).
const MAGIC_MICRO: u32 = 0xa1b2_c3d4;
/// Nanosecond-precision magic (libpcap `NSEC_TCPDUMP_MAGIC`).
const MAGIC_NANO: u32 = 0xa1b2_3c4d;
/// The snapshot length in the header: libpcap's `MAXIMUM_SNAPLEN`, which is
/// also the largest record the reader accepts.
const SNAPLEN: u32 = crate::packet::capture::MAX_CAPLEN;

/// Timestamp precision of the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Micro,
    Nano,
}

/// A classic pcap writer over any [`Write`].
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    precision: Precision,
    records: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte file header (version 2.4, `linktype` as the
    /// capture's LINKTYPE_ value).
    pub fn new(mut out: W, linktype: u32, precision: Precision) -> io::Result<Self> {
        let magic = match precision {
            Precision::Micro => MAGIC_MICRO,
            Precision::Nano => MAGIC_NANO,
        };
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&magic.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0, as every modern libpcap writes them.
        h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        h[20..24].copy_from_slice(&linktype.to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            precision,
            records: 0,
        })
    }

    /// Appends one record. `ts_ns` is nanoseconds since the epoch; times
    /// outside what the 32-bit seconds field holds (before 1970, after 2106)
    /// are clamped to its range.
    pub fn write(&mut self, ts_ns: i128, orig_len: u32, data: &[u8]) -> io::Result<()> {
        let ts = ts_ns.clamp(0, i128::from(u32::MAX) * 1_000_000_000 + 999_999_999);
        let secs = (ts / 1_000_000_000) as u32;
        let frac = (ts % 1_000_000_000) as u32;
        let frac = match self.precision {
            Precision::Micro => frac / 1000,
            Precision::Nano => frac,
        };
        let caplen = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&frac.to_le_bytes());
        h[8..12].copy_from_slice(&caplen.to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.max(caplen).to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)?;
        self.records += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{CaptureReader, Format};

    fn round_trip(precision: Precision, ts: i128) -> (Format, i128, u32, Vec<u8>) {
        let mut w = PcapWriter::new(Vec::new(), 101, precision).unwrap();
        w.write(ts, 60, &[0x45, 1, 2, 3]).unwrap();
        assert_eq!(w.records(), 1);
        let bytes = w.finish().unwrap();
        let mut r = CaptureReader::new(&bytes[..]).unwrap();
        let f = r.next_frame().unwrap().unwrap();
        let got = (f.ts_ns, f.orig_len, f.data.to_vec());
        assert_eq!(f.linktype, 101);
        assert!(r.next_frame().is_none());
        (r.format(), got.0, got.1, got.2)
    }

    #[test]
    fn nanosecond_files_keep_the_timestamp_exactly() {
        let ts = 1_700_000_000_123_456_789;
        let (fmt, got, orig, data) = round_trip(Precision::Nano, ts);
        assert_eq!(
            (fmt, got, orig, data),
            (Format::PcapNano, ts, 60, vec![0x45, 1, 2, 3])
        );
    }

    #[test]
    fn microsecond_files_truncate_to_the_microsecond() {
        let (fmt, got, _, _) = round_trip(Precision::Micro, 1_700_000_000_123_456_789);
        assert_eq!((fmt, got), (Format::PcapMicro, 1_700_000_000_123_456_000));
    }

    #[test]
    fn out_of_range_times_are_clamped_not_wrapped() {
        assert_eq!(round_trip(Precision::Nano, -5).1, 0);
        let max = i128::from(u32::MAX) * 1_000_000_000 + 999_999_999;
        assert_eq!(round_trip(Precision::Nano, i128::MAX).1, max);
    }
}
