//! The threads of a sharded replay: N workers that each read the whole
//! capture and replay their own shard, and the calling thread, which merges
//! what they render into capture order.
//!
//! A worker reports to the calling thread in batches: the items it made (with
//! their numbers in the capture) and how far it has read. Every item below the
//! lowest point all workers have reported is known, so it can be emitted; the
//! calling thread only ever waits for the worker that is furthest behind,
//! which never waits for anything but room in its own bounded queue. The
//! queues and the report interval bound the memory held for reordering.

use super::stream::{self, Chunks};
use super::touch::Sorter;
use super::{add_counters, shard_key_of, shard_of, Finished, Item, Plan, Setup, Source};
use super::{Step, PROGRESS_EVERY};
use crate::eval::engine::Engine;
use crate::packet::capture::{Kept, Until};
use crate::packet::{CaptureError, CaptureReader, Frame};
use std::collections::VecDeque;
use std::io::Read;
use std::sync::mpsc::{self, Receiver, SyncSender};

/// Reports queued per worker before it waits for the calling thread.
const QUEUED: usize = 8;
/// A worker reports at least every this many bytes of capture read, so the
/// stream reader (which waits for the slowest worker) never waits for a
/// worker that the merge is not waiting for (see [`stream::QUEUED`]).
const REPORT_BYTES: u64 = 1 << 20;

/// What a worker tells the calling thread.
struct Report<T> {
    /// Its items since the last report, with their numbers, increasing.
    items: Vec<(u64, Item<T>)>,
    /// Every item numbered below this has been read (and, if it is this
    /// worker's to report, is in this report or an earlier one).
    upto: u64,
    /// Byte offset of the last record read.
    offset: u64,
    /// The worker has read its last item.
    done: bool,
}

/// What a worker leaves: its engine's counters and ipsets, the link type its
/// reader ended with, the packets that took the lane and the connections live
/// at the end, its state.
type Left<W> = (
    crate::ir::Ruleset,
    Option<crate::ipset::Sets>,
    Option<u32>,
    (u64, usize),
    W,
);

/// Runs the replay over `plan.workers` threads.
pub(super) fn run<W, T, Mk, Rf, Sk>(
    source: Source<'_>,
    setup: Setup<'_>,
    plan: &Plan,
    (state, render): (&Mk, &Rf),
    sink: &mut Sk,
) -> Finished<W>
where
    W: Send,
    T: Send,
    Mk: Fn(usize) -> W + Sync,
    Rf: Fn(&mut W, &Frame, &Step) -> Option<T> + Sync,
    Sk: FnMut(Item<T>) -> bool,
{
    let workers = plan.workers;
    let Setup {
        rs,
        host,
        params,
        opts,
    } = setup;
    // Files are opened here: one that cannot be opened is one error.
    let (feeds, dealt) = match feeds(source, workers) {
        Ok(f) => f,
        Err(e) => {
            sink(Item::Error(e));
            return Finished {
                counters: rs.clone(),
                ipsets: opts.ipsets,
                linktype: None,
                lane_packets: 0,
                live_connections: 0,
                states: (0..workers).map(state).collect(),
            };
        }
    };
    std::thread::scope(|s| {
        if let Some((source, to)) = dealt {
            s.spawn(move || stream::deal(source, to));
        }
        let mut inbox = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for (me, feed) in feeds.into_iter().enumerate() {
            let (tx, rx) = mpsc::sync_channel::<Report<T>>(QUEUED);
            inbox.push(rx);
            let (host, opts) = (host.clone(), opts.clone());
            let shard = Shard {
                me,
                workers,
                batch: plan.batch.max(1),
                limit: plan.limit.unwrap_or(u64::MAX),
            };
            handles.push(s.spawn(move || {
                let mut engine = Engine::new(rs, host, params, opts);
                let mut w = state(me);
                let linktype = shard.work(feed, &mut engine, (&mut w, render), &tx);
                (
                    engine.ruleset_with_counters(),
                    engine.ipsets().cloned(),
                    linktype,
                    (engine.lane_packets(), engine.live_connections()),
                    w,
                )
            }));
        }
        merge(&inbox, sink);
        // After `sink` said stop: the workers' sends fail, so they end.
        drop(inbox);
        let left: Vec<Left<W>> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
        finish(rs, left)
    })
}

/// The counters summed over the workers, the first worker's ipsets and link
/// type, every worker's state.
fn finish<W>(rs: &crate::ir::Ruleset, left: Vec<Left<W>>) -> Finished<W> {
    let mut done = Finished {
        counters: rs.clone(),
        ipsets: None,
        linktype: None,
        lane_packets: 0,
        live_connections: 0,
        states: Vec::with_capacity(left.len()),
    };
    for (i, (counters, ipsets, linktype, (lane, live), w)) in left.into_iter().enumerate() {
        done.lane_packets += lane;
        // Shards hold disjoint connections, each live at its own worker's latest
        // packet: near the capture's end, so about the table's size there.
        done.live_connections += live;
        if i == 0 {
            (done.counters, done.ipsets, done.linktype) = (counters, ipsets, linktype);
        } else {
            add_counters(&mut done.counters, &counters);
        }
        done.states.push(w);
    }
    done
}

/// A capture reader boxed over any source.
type Reader<'a> = CaptureReader<Box<dyn Read + Send + 'a>>;

/// Where one worker reads the capture.
enum Feed<'a> {
    /// Its own reader of the file.
    Own(Reader<'a>),
    /// The chunks the stream's reader deals it.
    Dealt(Receiver<stream::Shared>),
}

/// A byte source read once and the workers it is dealt to.
type Dealt<'a> = (Box<dyn Read + Send + 'a>, Vec<SyncSender<stream::Shared>>);

/// One feed per worker, and the stream to deal if the source is one.
fn feeds(
    source: Source<'_>,
    workers: usize,
) -> Result<(Vec<Feed<'_>>, Option<Dealt<'_>>), CaptureError> {
    match source {
        Source::File(path) => {
            let own = (0..workers)
                .map(|_| Source::File(path).open().map(Feed::Own))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((own, None))
        }
        Source::Stream(r) => {
            let (to, from): (Vec<_>, Vec<_>) = (0..workers)
                .map(|_| mpsc::sync_channel(stream::QUEUED))
                .unzip();
            Ok((from.into_iter().map(Feed::Dealt).collect(), Some((r, to))))
        }
    }
}

/// One worker's place in the replay.
struct Shard {
    me: usize,
    workers: usize,
    batch: usize,
    limit: u64,
}

impl Shard {
    /// Reads the whole capture, replays this worker's records and reports
    /// to `out`; returns the link type the reader ended with.
    fn work<W, T, Rf>(
        &self,
        feed: Feed<'_>,
        engine: &mut Engine,
        (w, render): (&mut W, &Rf),
        out: &SyncSender<Report<T>>,
    ) -> Option<u32>
    where
        Rf: Fn(&mut W, &Frame, &Step) -> Option<T>,
    {
        let mut to = Reporter::new(out, self.batch);
        let Some(mut reader) = self.reader(feed, &mut to) else {
            to.end(1);
            return None;
        };
        // Only this worker's records are handed out whole; the others are
        // passed over in the reader, counted, with no frame built.
        let mine = |linktype: u32, data: &[u8]| {
            shard_of(shard_key_of(linktype, data), self.workers) == self.me
        };
        let mut seq = 0u64;
        let mut sorter = Sorter::new(self.workers);
        while seq < self.limit {
            let until = || to.until(seq, self.limit);
            // One look ahead decides the shard of each record, once; the records not kept are
            // passed by their length (`Sorter::next_run`).
            let next = match sorter.next_run(&mut reader, engine.conntrack(), &mine, until) {
                Some(run) => {
                    if run.passed() > 0 {
                        (seq, to.offset) = (seq + run.passed(), run.last());
                    }
                    if run.kept() {
                        reader.next_frame().map_or(Kept::End, Kept::Item)
                    } else {
                        Kept::Paused
                    }
                }
                None => {
                    let mut keep = |linktype: u32, data: &[u8]| mine(linktype, data);
                    let skim = reader.next_kept(to.until(seq, self.limit), &mut keep);
                    if skim.passed > 0 {
                        (seq, to.offset) = (seq + skim.passed, skim.offset);
                    }
                    skim.next
                }
            };
            let mut fatal = false;
            match next {
                Kept::End => break,
                Kept::Paused => {}
                Kept::Item(Ok(frame)) => {
                    to.offset = frame.offset;
                    let step = engine.step(&frame);
                    if let Some(t) = render(w, &frame, &step) {
                        to.items.push((seq, Item::Record(t)));
                    }
                    seq += 1;
                }
                Kept::Item(Err(e)) => {
                    fatal = e.is_fatal();
                    if self.me == 0 {
                        to.items.push((seq, Item::Error(e)));
                    }
                    seq += 1;
                }
            }
            if fatal || !to.read(seq) {
                break;
            }
        }
        to.end(seq);
        reader.linktype()
    }
}

impl Shard {
    /// The worker's capture reader; `None` after reporting why there is none.
    fn reader<'a, T>(&self, feed: Feed<'a>, to: &mut Reporter<'_, T>) -> Option<Reader<'a>> {
        match feed {
            Feed::Own(r) => Some(r),
            // The header was checked by the caller on the same bytes: an
            // error here is the source failing, reported once.
            Feed::Dealt(rx) => match CaptureReader::new(Box::new(Chunks::new(rx)) as Box<_>) {
                Ok(r) => Some(r),
                Err(e) => {
                    if self.me == 0 {
                        to.items.push((0, Item::Error(e)));
                    }
                    None
                }
            },
        }
    }
}

/// A worker's side of its queue to the calling thread.
struct Reporter<'o, T> {
    out: &'o SyncSender<Report<T>>,
    items: Vec<(u64, Item<T>)>,
    /// Byte offset of the last record read.
    offset: u64,
    batch: usize,
    /// Records read, and their bytes, between two reports at most.
    every: u64,
    /// What the last report said: records read, offset.
    reported: (u64, u64),
}

impl<'o, T> Reporter<'o, T> {
    fn new(out: &'o SyncSender<Report<T>>, batch: usize) -> Self {
        Reporter {
            out,
            items: Vec::new(),
            offset: 0,
            batch,
            every: (batch as u64).saturating_mul(16),
            reported: (0, 0),
        }
    }

    /// How far the reader may pass over other workers' records, `seq` items
    /// read, before a report may be due: [`Reporter::read`]'s bounds.
    fn until(&self, seq: u64, limit: u64) -> Until {
        let since = seq - self.reported.0;
        Until {
            records: (limit - seq).min(self.every.saturating_sub(since)).max(1),
            offset: self.reported.1.saturating_add(REPORT_BYTES),
        }
    }

    /// `seq` items have been read: reports if a batch is full or the last
    /// report is far behind. False when the calling thread has stopped.
    fn read(&mut self, seq: u64) -> bool {
        let due = self.items.len() >= self.batch
            || seq - self.reported.0 >= self.every
            || self.offset - self.reported.1 >= REPORT_BYTES;
        if !due {
            return true;
        }
        self.reported = (seq, self.offset);
        let report = Report {
            items: std::mem::replace(&mut self.items, Vec::with_capacity(self.batch)),
            upto: seq,
            offset: self.offset,
            done: false,
        };
        self.out.send(report).is_ok()
    }

    /// The last report: `seq` items were read in all.
    fn end(self, seq: u64) {
        let _ = self.out.send(Report {
            items: self.items,
            upto: seq,
            offset: self.offset,
            done: true,
        });
    }
}

/// Emits the workers' items in capture order: everything below the lowest
/// point every running worker has reported is known.
fn merge<T, Sk>(inbox: &[Receiver<Report<T>>], sink: &mut Sk)
where
    Sk: FnMut(Item<T>) -> bool,
{
    let n = inbox.len();
    let mut queues: Vec<VecDeque<(u64, Item<T>)>> = (0..n).map(|_| VecDeque::new()).collect();
    let (mut upto, mut offset, mut done) = (vec![0u64; n], vec![0u64; n], vec![false; n]);
    let mut progress = 0u64;
    loop {
        let behind = (0..n).filter(|&w| !done[w]).min_by_key(|&w| upto[w]);
        let low = behind.map_or(u64::MAX, |w| upto[w]);
        loop {
            let head = (0..n)
                .filter_map(|w| queues[w].front().map(|(seq, _)| (*seq, w)))
                .min();
            let Some((_, w)) = head.filter(|(seq, _)| *seq < low) else {
                break;
            };
            let Some((_, item)) = queues[w].pop_front() else {
                break;
            };
            if !sink(item) {
                return;
            }
        }
        let Some(w) = behind else {
            return;
        };
        if low >= progress + PROGRESS_EVERY {
            progress = low - low % PROGRESS_EVERY;
            if !sink(Item::Progress(offset[w])) {
                return;
            }
        }
        match inbox[w].recv() {
            Ok(r) => {
                queues[w].extend(r.items);
                (upto[w], offset[w], done[w]) = (r.upto, r.offset, r.done);
            }
            Err(_) => done[w] = true,
        }
    }
}
