//! `replay --split DIR`: each capture record written, as read, to the classic
//! pcap file of what happened to it, so the packets can be opened in Wireshark.
//!
//! Files: `accepted.pcap`, `dropped.pcap`, `rejected.pcap` (the filter verdict),
//! `not_reached.pcap` (never reached the filter table: dropped in
//! raw/mangle/nat or by routing, or a fragment held for reassembly, whose
//! fate is that of the reassembled packet, on the last fragment) and
//! `skipped.pcap` (records that are not IPv4). All five are always created, so
//! their record counts add up to the capture's readable records; unreadable
//! records have no trustworthy bytes and are written nowhere.
//!
//! Link types: each file is classic pcap with the link type of the capture's
//! first record. A pcapng capture whose interfaces use other link types gets
//! one more file per category and link type, `accepted.linktype-113.pcap`
//! (classic pcap holds one link type per file). Timestamps: a microsecond
//! pcap stays microsecond; nanosecond pcap and pcapng (any `if_tsresol`, kept
//! to the nanosecond) are written with the nanosecond magic.
//!
//! Memory stays bounded: one buffered writer per file, records streamed.

use iptwalk::eval::outcome::{Record, Verdict};
use iptwalk::packet::{Format, Frame};
use iptwalk::report::pcap::{PcapWriter, Precision};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

/// The file names, in the order the summary lists them.
const CATEGORIES: [&str; 5] = ["accepted", "dropped", "rejected", "not_reached", "skipped"];

/// The category index of a record.
fn category(record: &Record) -> usize {
    match record {
        Record::Packet(o) => match o.verdict {
            Verdict::Accept => 0,
            Verdict::Drop => 1,
            Verdict::Reject => 2,
            Verdict::NotReached => 3,
        },
        Record::Skipped(_) => 4,
    }
}

/// What the split writes of a record, copied where the record is replayed
/// (a `--jobs` worker) to be written in capture order on the calling thread.
pub struct Kept {
    cat: usize,
    linktype: u32,
    ts_ns: i128,
    orig_len: u32,
    data: Vec<u8>,
}

impl Kept {
    pub fn of(frame: &Frame, record: &Record) -> Kept {
        Kept {
            cat: category(record),
            linktype: frame.linktype,
            ts_ns: frame.ts_ns,
            orig_len: frame.orig_len,
            data: frame.data.to_vec(),
        }
    }
}

/// The open files of one split.
pub struct Split {
    dir: PathBuf,
    precision: Precision,
    /// The first record's link type: the one the plain file names hold.
    primary: Option<u32>,
    files: BTreeMap<(usize, u32), PcapWriter<BufWriter<File>>>,
}

impl Split {
    /// Creates `dir` (and its parents) if needed.
    pub fn create(dir: &Path, format: Format) -> io::Result<Split> {
        std::fs::create_dir_all(dir)?;
        Ok(Split {
            dir: dir.to_path_buf(),
            precision: match format {
                Format::PcapMicro => Precision::Micro,
                Format::PcapNano | Format::Pcapng => Precision::Nano,
            },
            primary: None,
            files: BTreeMap::new(),
        })
    }

    fn path(&self, cat: usize, linktype: u32) -> PathBuf {
        let name = CATEGORIES[cat];
        if self.primary.is_none_or(|p| p == linktype) {
            self.dir.join(format!("{name}.pcap"))
        } else {
            self.dir.join(format!("{name}.linktype-{linktype}.pcap"))
        }
    }

    fn writer(
        &mut self,
        cat: usize,
        linktype: u32,
    ) -> io::Result<&mut PcapWriter<BufWriter<File>>> {
        if !self.files.contains_key(&(cat, linktype)) {
            let path = self.path(cat, linktype);
            let file = File::create(&path).map_err(|e| with_path(&path, e))?;
            let w = PcapWriter::new(BufWriter::new(file), linktype, self.precision)?;
            self.files.insert((cat, linktype), w);
        }
        self.files
            .get_mut(&(cat, linktype))
            .ok_or_else(|| io::Error::other("split file vanished"))
    }

    /// Writes `frame` to the file of what `record` says happened to it.
    #[cfg(test)]
    pub fn add(&mut self, frame: &Frame, record: &Record) -> io::Result<()> {
        self.write(&Kept::of(frame, record))
    }

    /// Writes a kept record to the file of what happened to it.
    pub fn write(&mut self, k: &Kept) -> io::Result<()> {
        self.primary.get_or_insert(k.linktype);
        self.writer(k.cat, k.linktype)?
            .write(k.ts_ns, k.orig_len, &k.data)
    }

    /// Creates the files no record went to (empty, with the first record's
    /// link type, or `fallback` for a capture without records), flushes all,
    /// and returns `(file name, records)` per file.
    pub fn finish(mut self, fallback: u32) -> io::Result<Vec<(String, u64)>> {
        let primary = *self.primary.get_or_insert(fallback);
        for cat in 0..CATEGORIES.len() {
            self.writer(cat, primary)?;
        }
        let mut counts = Vec::new();
        for ((cat, linktype), w) in std::mem::take(&mut self.files) {
            let name = self.path(cat, linktype);
            let name = name.file_name().unwrap_or_default().to_string_lossy();
            counts.push((name.into_owned(), w.records()));
            w.finish()?;
        }
        Ok(counts)
    }
}

fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iptwalk::eval::outcome::Skipped;
    use iptwalk::packet::CaptureReader;

    fn frame(linktype: u32, data: &[u8]) -> Frame<'_> {
        Frame {
            index: 0,
            offset: 0,
            ts_ns: 1_000_000_000,
            linktype,
            iface: None,
            orig_len: data.len() as u32,
            data,
            anomaly: None,
        }
    }

    #[test]
    fn other_link_types_get_their_own_files_and_every_category_exists() {
        let dir = std::env::temp_dir().join(format!("iptwalk-split-{}", std::process::id()));
        let mut s = Split::create(&dir, Format::Pcapng).unwrap();
        let skipped = Record::Skipped(Skipped {
            index: 0,
            skipped: Some("ethertype 0x86dd".into()),
            error: None,
        });
        s.add(&frame(1, &[0; 14]), &skipped).unwrap();
        s.add(&frame(113, &[0; 16]), &skipped).unwrap();
        s.add(&frame(1, &[0; 14]), &skipped).unwrap();
        let counts = s.finish(1).unwrap();
        let names: Vec<_> = counts.iter().map(|(n, c)| format!("{n} {c}")).collect();
        assert_eq!(
            names,
            [
                "accepted.pcap 0",
                "dropped.pcap 0",
                "rejected.pcap 0",
                "not_reached.pcap 0",
                "skipped.pcap 2",
                "skipped.linktype-113.pcap 1"
            ]
        );
        let mut r = CaptureReader::open(&dir.join("skipped.linktype-113.pcap")).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().linktype, 113);
        assert_eq!(r.format(), Format::PcapNano);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
