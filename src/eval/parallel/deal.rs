//! Dealing the records of a sharded replay: worker 0 reads the capture, once, replays its
//! own shard and deals every other record, with its number in the capture, to the worker of
//! its shard, which reads nothing itself.
//!
//! Why: when every worker read the whole capture, each paid for reading all of it (the
//! `read` copy of every byte, ~20 ms a worker on mix_1m) and for framing every record and
//! deciding its shard (~120 instructions a record), so two workers cost ~45 ms of CPU more
//! than one and gave ~1.5x one worker's speed on two cores. Now that work is done once, and
//! a worker gets batches of its records, lent where the dealer read them (see [`Batch`]).
//! The dealing is done by a worker, not a thread of its own: a third busy thread on two cores
//! was slower (measured: 140 ms against 107 ms with every worker reading), since the threads
//! then take turns on the cores.
//!
//! Which worker replays an address pair is decided when the first key of its bucket (one of
//! [`BUCKETS`], by the key's hash) is dealt, and never changes: a pair's state stays with one
//! engine, so the output is the same whatever the decisions. The decision keeps every worker
//! busy: a new bucket goes to the dealt worker furthest ahead if it has no batch waiting
//! besides the one it replays ([`KEEPING_UP`]), else the dealing worker keeps it.
//!
//! Why not a fixed share for the dealer (an earlier version's, set by callgrind): the
//! dealer's own costs (the `read`, the framing, the copy) weigh differently against a
//! record's replay on each machine, capture and output format, and whichever worker waits
//! leaves a core idle. With that share the dealt worker waited 40-70 ms of a ~200 ms replay
//! of mix_1m for its batches (per-thread CPU time from `/proc/thread-self/schedstat`); with
//! the decisions both workers are on a core for the whole replay. (`Spread::InTurn` gives
//! new buckets to the workers in turn instead, for tests that want every worker to replay.)
//!
//! Batches are dealt in lockstep: every [`DEAL_EVERY`] items read, every other worker gets
//! its batch (perhaps empty) with how far the capture has been read (`upto`). The dealing
//! worker reports all it knows to the calling thread before it waits for room in a queue
//! (`Dealer::send_all`'s `before_wait`), and a dealt worker before it waits for its next
//! batch (see `sharded::work`). So the worker the calling thread waits for (the one furthest
//! behind) is never one waiting on the dealer while the dealer waits for room in the queue of
//! a worker that itself waits for the calling thread. (Reporting before every deal instead
//! woke the calling thread twice a deal, ~500 times on mix_1m, each time taking a core from a
//! worker.)
//!
//! Capture errors are the dealing worker's items, in their place; a fatal one ends the
//! dealing. Items are numbered as one engine's replay numbers them, so the merge puts them in
//! the same order.

use super::touch::flow_of;
use super::Spread;
use crate::conntrack::Flow4;
use crate::packet::capture::{Anomaly, Framing, SharedWindow};
use crate::packet::Frame;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;

/// Items read between two deals: each dealt worker gets a batch this often. A deal may wake
/// a waiting worker (tens of microseconds on a virtual machine): with 512 the waits cost
/// more than the dealing; 4096 makes ~250 deals of mix_1m.
pub(super) const DEAL_EVERY: u64 = 4096;
/// Batches queued per dealt worker before the dealer waits for it.
pub(super) const QUEUED: usize = 8;
/// Buckets of shard keys, each dealt to one worker: a byte each, 256 KiB, which a core's
/// cache holds. mix_1m has ~60k address pairs, seen at a steady pace through the capture,
/// so new buckets keep coming for the decisions to balance the load with.
pub(super) const BUCKETS: usize = 1 << 18;
/// A bucket no key has been dealt from yet.
const UNSEEN: u8 = u8::MAX;
/// Most workers: a bucket's worker is a byte, [`UNSEEN`] excepted.
pub(super) const MAX_WORKERS: usize = UNSEEN as usize;
/// Batches a dealt worker may have not yet replayed (the one it replays) and still be
/// given new buckets: with more, it has fallen behind the dealer, which keeps them.
const KEEPING_UP: u64 = 1;

/// A record as dealt: its number, place and bytes (a range of one of the batch's lent
/// windows, or of its own bytes); its other fields are in its header among those bytes (a
/// classic pcap record as the file holds it, read with the batch's [`Framing`]), or, for a
/// record read the general way, in `fields`.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The item's number in the capture (records and errors).
    seq: u64,
    index: u64,
    offset: u64,
    start: usize,
    len: usize,
    /// Its place in `Batch::fields`, or [`RAW`].
    fields: u32,
    /// The place in `Batch::windows` of the window its bytes are in, or [`COPIED`].
    window: u32,
}

/// An [`Entry`] whose bytes are a whole classic pcap record, header first.
const RAW: u32 = u32::MAX;
/// An [`Entry`] whose bytes were copied into `Batch::bytes`.
const COPIED: u32 = u32::MAX;

/// The flow of a record that has none to touch ([`touch::flow_of`](super::touch::flow_of)
/// reads TCP and UDP only, so no flow it reads has protocol 0).
pub(super) const NO_FLOW: Flow4 = Flow4 {
    src: 0,
    dst: 0,
    proto: 0,
    sport: 0,
    dport: 0,
};

/// The fields of a dealt frame that its bytes do not hold.
#[derive(Debug, Clone, Copy)]
struct Fields {
    ts_ns: i128,
    linktype: u32,
    iface: Option<u32>,
    orig_len: u32,
    anomaly: Option<Anomaly>,
}

/// What one worker gets at a deal: its records since the last one.
///
/// Most records are lent where the dealer read them, in its reader's window (header and data,
/// as the file holds them: see [`SharedWindow`]), and framed by the worker that replays them:
/// the dealer then writes ~50 bytes a record, not its data (~100 bytes: the copy took ~5 ms
/// of `perf` samples on mix_1m, `--jobs 2`) nor a whole frame's fields (~100), and reads no
/// header fields for them. A window goes back to the reader when the last batch lending it
/// is emptied.
pub(super) struct Batch {
    /// The windows the records are lent from.
    windows: Vec<Arc<Vec<u8>>>,
    /// The bytes of records that were not lent (read the general way, or cut by a window's
    /// end), back to back.
    bytes: Vec<u8>,
    records: Vec<Entry>,
    /// Each record's conntrack flow as the dealer read it (`touch::flow_of`), or
    /// [`NO_FLOW`]: what the worker touches the table for ahead of the records (see
    /// `touch`), read here rather than from the records' bytes.
    flows: Vec<Flow4>,
    fields: Vec<Fields>,
    framing: Option<Framing>,
    /// Every item numbered below this has been read (and dealt to its worker).
    pub(super) upto: u64,
    /// Byte offset of the last record read.
    pub(super) offset: u64,
}

impl Batch {
    fn with_capacity(records: usize, bytes: usize, framing: Option<Framing>) -> Batch {
        Batch {
            windows: Vec::new(),
            bytes: Vec::with_capacity(bytes),
            records: Vec::with_capacity(records),
            flows: Vec::with_capacity(records),
            fields: Vec::new(),
            framing,
            upto: 0,
            offset: 0,
        }
    }

    /// Empties the batch for reuse (its memory stays).
    pub(super) fn clear(&mut self) {
        self.windows.clear();
        self.bytes.clear();
        self.records.clear();
        self.flows.clear();
        self.fields.clear();
    }

    /// Adds record `seq`, read the general way.
    fn push(&mut self, seq: u64, f: &Frame) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(f.data);
        let fields = u32::try_from(self.fields.len()).unwrap_or(RAW);
        self.fields.push(Fields {
            ts_ns: f.ts_ns,
            linktype: f.linktype,
            iface: f.iface,
            orig_len: f.orig_len,
            anomaly: f.anomaly,
        });
        let (index, offset, len) = (f.index, f.offset, f.data.len());
        // Read here, as the dealer reads a run's flows (a pcapng capture is all read so).
        self.flows
            .push(flow_of(f.linktype, f.data).unwrap_or(NO_FLOW));
        self.records.push(Entry {
            seq,
            index,
            offset,
            start,
            len,
            fields,
            window: COPIED,
        });
    }

    /// Adds record `seq`, number `index` at byte `offset`, whose bytes as the file holds
    /// them are `record`, lent from `window` (see
    /// [`CaptureReader::peek_records`](crate::packet::CaptureReader::peek_records)), and
    /// whose flow is `flow`.
    #[inline]
    fn push_lent(
        &mut self,
        seq: u64,
        (index, offset): (u64, u64),
        (window, record): (SharedWindow, &[u8]),
        flow: Flow4,
    ) {
        let lent = match self.windows.last() {
            Some(last) if Arc::ptr_eq(last, window.buffer) => self.windows.len() - 1,
            _ => {
                self.windows.push(Arc::clone(window.buffer));
                self.windows.len() - 1
            }
        };
        let range = window.range(offset, record.len());
        self.flows.push(flow);
        self.records.push(Entry {
            seq,
            index,
            offset,
            start: range.start,
            len: record.len(),
            fields: RAW,
            window: u32::try_from(lent).unwrap_or(COPIED),
        });
    }

    /// Records in the batch.
    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    /// Record `i`: its number in the capture and its frame (borrowing the batch's bytes).
    #[inline]
    pub(super) fn frame(&self, i: usize) -> Option<(u64, Frame<'_>)> {
        let e = self.records.get(i)?;
        let from = self
            .windows
            .get(e.window as usize)
            .map_or(&self.bytes, |w| &**w);
        let bytes = from.get(e.start..e.start + e.len)?;
        let frame = match self.fields.get(e.fields as usize) {
            Some(f) => Frame {
                index: e.index,
                offset: e.offset,
                ts_ns: f.ts_ns,
                linktype: f.linktype,
                iface: f.iface,
                orig_len: f.orig_len,
                data: bytes,
                anomaly: f.anomaly,
            },
            None => self.framing?.frame(e.index, e.offset, bytes)?,
        };
        Some((e.seq, frame))
    }

    /// The flows of records `i..i + most` (for touching the table ahead), [`NO_FLOW`] for
    /// a record without one.
    pub(super) fn flows(&self, i: usize, most: usize) -> &[Flow4] {
        let rest = self.flows.get(i..).unwrap_or_default();
        rest.get(..most).unwrap_or(rest)
    }
}

/// The dealing worker's side: the batches being filled for the other workers, and their
/// queues (`to[k]` is worker `k + 1`'s).
pub(super) struct Dealer<'t> {
    to: &'t [SyncSender<Batch>],
    /// Batches the dealt workers are done with, to fill again: a batch's memory is
    /// allocated once, not per deal (fresh memory costs a page fault per 4 KiB).
    back: &'t Receiver<Batch>,
    batches: Vec<Batch>,
    /// Records a batch is made for (a worker's share of a deal, with room to spare).
    share: usize,
    /// Each bucket's worker, [`UNSEEN`] until a key of it is dealt.
    buckets: Vec<u8>,
    spread: Spread,
    /// Buckets decided so far.
    decided: usize,
    /// Batches dealt to each other worker, and (counted by the worker) those it replayed.
    sent: Vec<u64>,
    replayed: &'t [AtomicU64],
    /// How the capture's records read (classic pcap), for the records dealt as the file
    /// holds them.
    framing: Option<Framing>,
}

impl<'t> Dealer<'t> {
    /// A dealer to the workers `to` (at most [`MAX_WORKERS`] in all), who hand their
    /// batches back through `back` and count them in `replayed` (one counter a worker),
    /// of the records of a capture that reads with `framing`.
    pub(super) fn new(
        to: &'t [SyncSender<Batch>],
        back: &'t Receiver<Batch>,
        (replayed, framing): (&'t [AtomicU64], Option<Framing>),
        spread: Spread,
    ) -> Dealer<'t> {
        let share = usize::try_from(DEAL_EVERY).unwrap_or(512) / to.len().max(1) + 16;
        Dealer {
            to,
            back,
            // Records are ~100 bytes.
            batches: to
                .iter()
                .map(|_| Batch::with_capacity(share, share * 128, framing))
                .collect(),
            share,
            buckets: vec![UNSEEN; BUCKETS],
            spread,
            decided: 0,
            sent: vec![0; to.len()],
            replayed,
            framing,
        }
    }

    /// The worker of a record whose shard key is `key`: its bucket's, decided when the bucket
    /// is first seen (see the module's comment).
    #[inline]
    pub(super) fn worker_of(&mut self, key: u64) -> usize {
        self.worker_of_bucket(bucket(key))
    }

    /// The worker of bucket `b` (see [`bucket`]).
    #[inline]
    pub(super) fn worker_of_bucket(&mut self, b: usize) -> usize {
        match self.buckets.get(b) {
            Some(&w) if w != UNSEEN => usize::from(w),
            _ => self.decide(b),
        }
    }

    /// Reads the bytes of `buckets` back to back, so that their cache misses overlap before
    /// [`Dealer::worker_of_bucket`] asks for each. The table is 256 KiB, read at random: asked
    /// one key at a time, its load took ~12% of the dealing loop's `perf` samples (mix_1m,
    /// `--jobs 2`); a run's buckets read together, the process's CPU time went from 191 to
    /// 186 ms (least of 10 interleaved runs; medians 206 and 196). A hint: nothing changes.
    #[inline]
    pub(super) fn touch(&self, buckets: impl Iterator<Item = usize>) {
        let mut seen = 0u8;
        for b in buckets {
            seen ^= self.buckets.get(b).copied().unwrap_or_default();
        }
        std::hint::black_box(seen);
    }

    /// The worker of bucket `b`, seen for the first time.
    #[cold]
    #[inline(never)]
    fn decide(&mut self, b: usize) -> usize {
        let workers = self.to.len() + 1;
        let w = match self.spread {
            Spread::InTurn => self.decided % workers,
            Spread::AsTheyKeepUp => {
                let behind = |k: usize| {
                    let done = self
                        .replayed
                        .get(k)
                        .map_or(0, |r| r.load(Ordering::Acquire));
                    self.sent.get(k).map_or(0, |s| s.saturating_sub(done))
                };
                let ahead = (0..self.to.len()).min_by_key(|&k| (behind(k), k));
                match ahead {
                    Some(k) if behind(k) <= KEEPING_UP => k + 1,
                    _ => 0,
                }
            }
        };
        self.decided += 1;
        if let (Some(slot), Ok(byte)) = (self.buckets.get_mut(b), u8::try_from(w)) {
            if byte != UNSEEN {
                *slot = byte;
            }
        }
        w
    }

    /// Deals record number `seq` to worker `worker` (1 or more).
    #[inline]
    pub(super) fn push(&mut self, worker: usize, seq: u64, frame: &Frame) {
        if let Some(b) = worker.checked_sub(1).and_then(|k| self.batches.get_mut(k)) {
            b.push(seq, frame);
        }
    }

    /// Deals record number `seq` to worker `worker` (1 or more): record `index` at byte
    /// `offset`, whose bytes as the file holds them are `record`, lent from `window` (the
    /// dealer's framing reads them), and whose flow is `flow` (or [`NO_FLOW`]).
    #[inline]
    pub(super) fn push_lent(
        &mut self,
        worker: usize,
        seq: u64,
        at: (u64, u64),
        (window, record, flow): (SharedWindow, &[u8], Flow4),
    ) {
        if let Some(b) = worker.checked_sub(1).and_then(|k| self.batches.get_mut(k)) {
            b.push_lent(seq, at, (window, record), flow);
        }
    }

    /// Deals every other worker its batch, saying how far the capture has been read (every
    /// item below `upto`, the last record at byte `offset`); false when a worker is gone, or
    /// when `before_wait`, called (once) before the dealer would wait for room in a queue,
    /// says stop.
    pub(super) fn send_all(
        &mut self,
        upto: u64,
        offset: u64,
        mut before_wait: impl FnMut() -> bool,
    ) -> bool {
        let mut may_wait = false;
        for (b, tx) in self.batches.iter_mut().zip(self.to) {
            let next = self.back.try_recv().unwrap_or_else(|_| {
                Batch::with_capacity(self.share, b.bytes.len() + b.bytes.len() / 4, self.framing)
            });
            let mut batch = std::mem::replace(b, next);
            (batch.upto, batch.offset) = (upto, offset);
            let sent = match tx.try_send(batch) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(batch)) => {
                    if !may_wait && !before_wait() {
                        return false;
                    }
                    may_wait = true;
                    tx.send(batch).map_err(|_| ())
                }
                Err(TrySendError::Disconnected(_)) => Err(()),
            };
            if sent.is_err() {
                return false;
            }
        }
        for sent in &mut self.sent {
            *sent += 1;
        }
        true
    }
}

/// The bucket of shard key `key`: the top bits of its bits mixed once more (the key's high
/// word alone steps by a near half of its range from one host to the next of a subnet).
#[inline]
pub(super) fn bucket(key: u64) -> usize {
    let mixed = (key ^ key >> 29).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    ((mixed ^ mixed >> 32) >> (64 - BUCKETS.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn frame(index: u64, data: &[u8]) -> Frame<'_> {
        Frame {
            index,
            offset: 24 + index * 100,
            ts_ns: -5 + i128::from(index),
            linktype: 1,
            iface: (index % 2 == 1).then_some(3),
            orig_len: 1500,
            data,
            anomaly: (index == 2).then_some(Anomaly::CaplenExceedsOrigLen),
        }
    }

    fn same(a: &Frame, b: &Frame) -> bool {
        (
            a.index, a.offset, a.ts_ns, a.linktype, a.iface, a.orig_len, a.data, a.anomaly,
        ) == (
            b.index, b.offset, b.ts_ns, b.linktype, b.iface, b.orig_len, b.data, b.anomaly,
        )
    }

    /// Each record reaches its worker whole, numbered, in order; every worker hears how far
    /// the capture was read; batches handed back are filled again.
    #[test]
    fn records_reach_their_worker_whole_and_in_order() {
        let bytes: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i; usize::from(i) * 3]).collect();
        let frames: Vec<Frame> = (0..7).map(|i| frame(i as u64, &bytes[i])).collect();
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..2).map(|_| mpsc::sync_channel(QUEUED)).unzip();
        let (back_tx, back) = mpsc::sync_channel(4);
        let replayed = [AtomicU64::new(0), AtomicU64::new(0)];
        let mut dealer = Dealer::new(&txs, &back, (&replayed, None), Spread::InTurn);
        // Records 0..7 to workers 1, 2, 1, 2, ...; items 10.. as numbers (errors in between).
        for (i, f) in frames.iter().enumerate() {
            dealer.push(1 + i % 2, 10 + 2 * i as u64, f);
        }
        assert!(dealer.send_all(30, 624, || true));
        for (w, rx) in rxs.iter().enumerate() {
            let batch = rx.try_recv().expect("dealt");
            assert_eq!((batch.upto, batch.offset), (30, 624));
            let want: Vec<usize> = (0..7).filter(|i| i % 2 == w).collect();
            assert_eq!(batch.len(), want.len());
            for (k, &i) in want.iter().enumerate() {
                let (seq, got) = batch.frame(k).expect("frame");
                assert_eq!(seq, 10 + 2 * i as u64);
                assert!(same(&got, &frames[i]), "{got:?}");
            }
            // These frames are too short to hold a flow.
            assert_eq!(batch.flows(1, 2), vec![NO_FLOW; want.len().min(3) - 1]);
            let mut batch = batch;
            batch.clear();
            back_tx.try_send(batch).expect("room");
        }
        // The next deal fills the batches handed back, and says how far the capture was read
        // even to a worker that got no record.
        dealer.push(2, 40, &frames[0]);
        assert!(dealer.send_all(41, 700, || true));
        let first = rxs[0].try_recv().expect("dealt");
        assert_eq!((first.len(), first.upto), (0, 41));
        let second = rxs[1].try_recv().expect("dealt");
        assert_eq!(
            (second.len(), second.frame(0).map(|(s, _)| s)),
            (1, Some(40))
        );
        // A worker gone: the dealer stops.
        drop(rxs);
        assert!(!dealer.send_all(42, 800, || true));
    }

    /// The dealer reports (`before_wait`) before it waits for room in a queue, once a deal,
    /// and never when there is room; a stop said there ends the deal without waiting.
    #[test]
    fn the_dealer_reports_before_it_waits() {
        let (tx, rx) = mpsc::sync_channel::<Batch>(1);
        let (_back_tx, back) = mpsc::sync_channel(4);
        let to = [tx];
        let replayed = [AtomicU64::new(0)];
        let mut dealer = Dealer::new(&to, &back, (&replayed, None), Spread::InTurn);
        assert!(dealer.send_all(1, 0, || panic!("there was room")));
        let mut asked = 0;
        assert!(!dealer.send_all(2, 0, || {
            asked += 1;
            false
        }));
        assert_eq!(asked, 1);
        // Room made while the dealer waits: the batch goes through.
        let rx = std::thread::scope(|s| {
            let drain = s.spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                assert_eq!(rx.recv().map(|b| b.upto).ok(), Some(1));
                rx
            });
            assert!(dealer.send_all(3, 0, || {
                asked += 1;
                true
            }));
            drain.join().expect("drained")
        });
        assert_eq!(asked, 2);
        assert_eq!(rx.try_recv().map(|b| b.upto).ok(), Some(3));
    }

    /// A classic pcap capture (little-endian, microseconds, Ethernet) of `records`, each
    /// with an odd timestamp fraction or length so that its fields differ.
    fn capture(records: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for (i, data) in records.iter().enumerate() {
            let i = i as u32;
            // Record 2 claims more bytes than it had on the wire, record 3 a fraction
            // over a second (anomalies the frame carries).
            let frac = if i == 3 { 1_000_007 } else { 17 * i };
            let orig = if i == 2 { 1 } else { data.len() as u32 + i };
            for word in [1_700_000_000 + i, frac, data.len() as u32, orig] {
                out.extend_from_slice(&word.to_le_bytes());
            }
            out.extend_from_slice(data);
        }
        out
    }

    /// A record dealt as the file holds it reaches its worker as the frame the reader hands
    /// out, and one dealt as a frame too, side by side in a batch.
    #[test]
    fn records_dealt_as_the_file_holds_them_frame_as_read() {
        let data: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i; 14 + usize::from(i) * 5]).collect();
        let bytes = capture(&data);
        let mut reader = crate::packet::CaptureReader::new(&bytes[..]).expect("capture");
        let framing = reader.framing();
        assert!(framing.is_some());
        let mut want = Vec::new();
        while let Some(Ok(f)) = reader.next_frame() {
            want.push(format!("{f:?}"));
        }
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..1).map(|_| mpsc::sync_channel(QUEUED)).unzip();
        let (_back_tx, back) = mpsc::sync_channel(4);
        let replayed = [AtomicU64::new(0)];
        let mut dealer = Dealer::new(&txs, &back, (&replayed, framing), Spread::InTurn);
        let mut reader = crate::packet::CaptureReader::new(&bytes[..]).expect("capture");
        // The first three as the file holds them, the others as frames.
        let flow = |index: u64| Flow4 {
            proto: 6,
            sport: index as u16,
            ..NO_FLOW
        };
        let window = reader.shared_window();
        let run = reader.peek_records(3, |index, offset, record| {
            dealer.push_lent(
                1,
                10 + index,
                (index, offset),
                (window, record, flow(index)),
            );
        });
        assert_eq!(run.records, 3);
        reader.consume_run(run);
        while let Some(Ok(f)) = reader.next_frame() {
            dealer.push(1, 10 + f.index, &f);
        }
        assert!(dealer.send_all(20, 0, || true));
        let batch = rxs[0].try_recv().expect("dealt");
        let got: Vec<String> = (0..batch.len())
            .filter_map(|i| batch.frame(i))
            .map(|(seq, f)| {
                assert_eq!(seq, 10 + f.index);
                format!("{f:?}")
            })
            .collect();
        assert_eq!(got, want);
        assert!(want.iter().any(|f| f.contains("CaplenExceedsOrigLen")));
        assert!(want.iter().any(|f| f.contains("TimestampFraction")));
        // Each record's flow is the one dealt with it, side by side with its bytes.
        let flows = [flow(0), flow(1), flow(2), NO_FLOW, NO_FLOW, NO_FLOW];
        assert_eq!(batch.flows(0, 6), flows);
        assert_eq!(batch.flows(4, 6), &flows[4..]);
    }

    /// A record dealt as a frame (read the general way, as all of a pcapng capture is) takes
    /// its flow along too, for its worker's touch.
    #[test]
    fn a_frame_dealt_the_general_way_carries_its_flow() {
        let tcp = [
            0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0,
        ];
        let data = crate::packet::plain::tests::frame(6, 5, &tcp, 0);
        let f = frame(0, &data);
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..1).map(|_| mpsc::sync_channel(QUEUED)).unzip();
        let (_back_tx, back) = mpsc::sync_channel(4);
        let replayed = [AtomicU64::new(0)];
        let mut dealer = Dealer::new(&txs, &back, (&replayed, None), Spread::InTurn);
        dealer.push(1, 7, &f);
        assert!(dealer.send_all(8, 0, || true));
        let batch = rxs[0].try_recv().expect("dealt");
        let want = flow_of(f.linktype, f.data).expect("a TCP frame has a flow");
        assert_eq!(batch.flows(0, 16), [want]);
        assert_eq!(want.dport, 80);
    }

    /// Keys of 64 hosts talking to one server, as `shard_key` makes them.
    fn hosts() -> Vec<u64> {
        (0..64u32)
            .map(|h| super::super::pair_key(0x0a00_0000 | h, 0x0a00_0101))
            .collect()
    }

    /// Dealt in turn, every worker gets some of the pairs of one subnet, and a pair's worker
    /// never changes.
    #[test]
    fn pairs_dealt_in_turn_reach_every_worker() {
        let (back_tx, back) = mpsc::sync_channel::<Batch>(1);
        drop(back_tx);
        for workers in 2..6 {
            let (txs, _rxs): (Vec<_>, Vec<_>) =
                (1..workers).map(|_| mpsc::sync_channel(QUEUED)).unzip();
            let replayed: Vec<AtomicU64> = (1..workers).map(|_| AtomicU64::new(0)).collect();
            let mut dealer = Dealer::new(&txs, &back, (&replayed, None), Spread::InTurn);
            let first: Vec<usize> = hosts().iter().map(|&k| dealer.worker_of(k)).collect();
            assert!(
                (0..workers).all(|w| first.contains(&w)),
                "{workers}: {first:?}"
            );
            let again: Vec<usize> = hosts().iter().map(|&k| dealer.worker_of(k)).collect();
            assert_eq!(first, again);
        }
    }

    /// New pairs go to the dealt worker furthest ahead while it keeps up, to the dealer when
    /// every dealt worker has fallen behind; a pair once placed stays where it is.
    #[test]
    fn new_pairs_go_where_a_worker_keeps_up() {
        let (txs, _rxs): (Vec<_>, Vec<_>) = (0..2).map(|_| mpsc::sync_channel(QUEUED)).unzip();
        let (_back_tx, back) = mpsc::sync_channel(QUEUED * 3);
        let replayed = [AtomicU64::new(0), AtomicU64::new(0)];
        let mut dealer = Dealer::new(&txs, &back, (&replayed, None), Spread::AsTheyKeepUp);
        let keys = hosts();
        // Nothing dealt yet: both keep up, the first (worker 1) is furthest ahead.
        assert_eq!(dealer.worker_of(keys[0]), 1);
        // Three deals: each worker has three batches it has not replayed.
        for upto in 1..=3 {
            assert!(dealer.send_all(upto, 0, || true));
        }
        assert_eq!(dealer.worker_of(keys[1]), 0);
        // Worker 2 replays two of them: one left, it keeps up.
        replayed[1].store(2, Ordering::Release);
        assert_eq!(dealer.worker_of(keys[2]), 2);
        // Worker 1 replays all three: now it is furthest ahead.
        replayed[0].store(3, Ordering::Release);
        assert_eq!(dealer.worker_of(keys[3]), 1);
        // Placed pairs stay.
        replayed[0].store(0, Ordering::Release);
        let placed: Vec<usize> = keys[..4].iter().map(|&k| dealer.worker_of(k)).collect();
        assert_eq!(placed, [1, 0, 2, 1]);
    }
}
