//! The threads of a sharded replay: N workers that each replay their own
//! shard, the first of which also reads the capture and deals the others
//! their records ([`deal`]), and the calling thread, which merges what they
//! render into capture order.
//!
//! A worker reports to the calling thread in batches: the items it made (with
//! their numbers in the capture) and how far the capture has been read. Every
//! item below the lowest point all workers have reported is known, so it can
//! be emitted; the calling thread only ever waits for the worker that is
//! furthest behind, and a worker reports all it knows before it may wait for
//! another (see [`deal`]). The queues and the report interval bound the
//! memory held for reordering.

use super::deal::{self, Batch, Dealer};
use super::touch::{flow_of, AHEAD};
use super::{emptied, flow_key, shard_key_of, Finished, Item, Plan, Setup, Source};
use super::{Step, PROGRESS_EVERY};
use crate::conntrack::Flow4;
use crate::eval::engine::{Compiling, Engine};
use crate::eval::walk::TableCounters;
use crate::packet::capture::Run;
use crate::packet::{CaptureReader, Frame};
use std::collections::VecDeque;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};

/// Reports queued per worker before it waits for the calling thread.
const QUEUED: usize = 8;
/// A worker reports at least every this many bytes of capture read.
const REPORT_BYTES: u64 = 4 << 20;
/// A worker reports at least every this many batches' worth of records read: each
/// report may wake the calling thread, which then takes a core from a worker for a while
/// (every 16 batches, ~500 wake-ups on mix_1m with two workers).
const REPORT_BATCHES: u64 = 64;
/// How much less often a worker reports when nothing waits for its reports but the
/// progress bar ([`Plan::renders_nothing`]): every 64 MiB read, or 1,024 batches' worth of
/// records. (Reports before a worker waits are what keeps the replay from deadlocking, not
/// these: see `deal`.)
const QUIET: u64 = 16;

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

/// What a worker leaves: its engine's counters and ipsets, the packets that
/// took the lane and the connections live at the end, its state, and (the
/// dealing worker) the link type its reader ended with.
type Left<W> = (
    Vec<TableCounters>,
    Option<crate::ipset::Sets>,
    (u64, usize),
    (W, Option<u32>),
);

/// A capture reader boxed over any source.
type Reader<'a> = CaptureReader<Box<dyn Read + Send + 'a>>;

/// Where a worker's records come from.
enum Feed<'a, 'c> {
    /// The capture, which this worker reads (boxed: a reader is ~250 bytes, the
    /// other feeds ~40), the other workers' queues, the batches they hand back, and
    /// their counts of batches replayed.
    Deals(
        Box<Reader<'a>>,
        Vec<SyncSender<Batch>>,
        Receiver<Batch>,
        &'c [AtomicU64],
    ),
    /// The batches the dealing worker deals this one, where they go back, and
    /// where this worker counts those it replayed.
    Dealt(Receiver<Batch>, SyncSender<Batch>, &'c AtomicU64),
}

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
    // The capture is opened here: one that cannot be opened is one error.
    let reader = match source.open() {
        Ok(r) => r,
        Err(e) => {
            sink(Item::Error(e));
            return Finished {
                counters: rs.tables.iter().map(TableCounters::for_table).collect(),
                ipsets: opts.ipsets,
                linktype: None,
                lane_packets: 0,
                live_connections: 0,
                states: (0..workers).map(state).collect(),
            };
        }
    };
    let limit = plan.limit.unwrap_or(u64::MAX);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let spins = if workers <= cores { 4096 } else { 0 };
    let replayed: Vec<AtomicU64> = (1..workers).map(|_| AtomicU64::new(0)).collect();
    // What the workers' engines compile alike, made once, by the workers (see `Compiling`).
    let compiling = Compiling::default();
    let compiling = &compiling;
    let spread = plan.spread;
    std::thread::scope(|s| {
        let (deals, dealt): (Vec<_>, Vec<_>) = (1..workers)
            .map(|_| mpsc::sync_channel::<Batch>(deal::QUEUED))
            .unzip();
        // Batches handed back to the dealing worker (see `Dealer`): room for all.
        let (back_tx, back) = mpsc::sync_channel::<Batch>((deal::QUEUED + 2) * workers);
        // Worker 0 reads and deals; the others are dealt their records.
        let dealt = dealt
            .into_iter()
            .zip(&replayed)
            .map(|(rx, count)| Feed::Dealt(rx, back_tx.clone(), count));
        let feeds =
            std::iter::once(Feed::Deals(Box::new(reader), deals, back, &replayed)).chain(dealt);
        let mut inbox = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for (me, feed) in feeds.enumerate() {
            let (tx, rx) = mpsc::sync_channel::<Report<T>>(QUEUED);
            inbox.push(rx);
            let (host, opts) = (host.clone(), opts.clone());
            let batch = plan.batch.max(1);
            let quiet = plan.renders_nothing;
            // A worker may start milliseconds late: on a two-vCPU machine the second of two
            // threads spawned together often waited 1-4 ms for the scheduler to move it off
            // the first one's core. The dealer keeps new address pairs meanwhile (see `deal`),
            // and the compile is made by whichever worker gets to it (see `Compiling`).
            handles.push(s.spawn(move || {
                let compiling = (compiling, me == 0);
                let mut engine = Engine::sharing(rs, compiling, host, params, opts);
                let mut w = state(me);
                let mut to = Reporter::new(&tx, batch, quiet);
                let linktype = match feed {
                    Feed::Deals(reader, deals, back, replayed) => {
                        let framing = reader.framing();
                        let dealer = Dealer::new(&deals, &back, (replayed, framing), spread);
                        let w = (&mut w, render);
                        lead(*reader, dealer, limit, &mut engine, w, &mut to)
                    }
                    Feed::Dealt(feed, back, replayed) => {
                        let feed = (&feed, &back, replayed, spins);
                        work(feed, &mut engine, (&mut w, render), &mut to);
                        None
                    }
                };
                (
                    engine.counters(),
                    engine.ipsets().cloned(),
                    (engine.lane_packets(), engine.live_connections()),
                    (w, linktype),
                )
            }));
        }
        merge(&inbox, sink);
        // After `sink` said stop: the workers' reports fail, so they end
        // (and with them worker 0's deals).
        drop(inbox);
        let left: Vec<Left<W>> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
        finish(left)
    })
}

/// The counters summed over the workers, the first worker's ipsets and the
/// link type its reader ended with, every worker's state.
fn finish<W>(left: Vec<Left<W>>) -> Finished<W> {
    // Only the counters come back from the workers, summed here (a copy of the ruleset a
    // worker cost ~6 ms with 10,000 rules); the caller writes them into the ruleset if it
    // wants them (`Finished::ruleset_with_counters`).
    let mut done = Finished {
        counters: Vec::new(),
        ipsets: None,
        linktype: None,
        lane_packets: 0,
        live_connections: 0,
        states: Vec::with_capacity(left.len()),
    };
    for (i, (theirs, ipsets, (lane, live), (w, linktype))) in left.into_iter().enumerate() {
        done.lane_packets += lane;
        // Shards hold disjoint connections, each live at its own worker's latest
        // packet: near the capture's end, so about the table's size there.
        done.live_connections += live;
        if i == 0 {
            (done.counters, done.ipsets, done.linktype) = (theirs, ipsets, linktype);
        } else {
            for (sum, t) in done.counters.iter_mut().zip(&theirs) {
                sum.add(t);
            }
        }
        done.states.push(w);
    }
    done
}

/// A record of the dealing worker's run: its number, offset, bytes and flow, and its bucket.
type Looked<'r> = (u64, u64, (&'r [u8], Flow4), usize);

/// The dealing worker: reads the capture (at most `limit` items), replays the
/// records of its own shard and deals the others through `dealer`, in
/// lockstep (see [`deal`]); returns the link type its reader ended with.
///
/// It reads in runs of up to [`AHEAD`] records whole in the read window
/// ([`CaptureReader::peek_records`]): each record's shard is decided, a dealt one lent to
/// its worker where it lies in the window (its worker frames it; see `deal::Batch`), and
/// this worker's own ones framed and replayed after their flows are touched together (see
/// `touch`). What a run cannot show
/// (a record cut by the window's end, an error, a pcapng capture) is read one record at a
/// time.
fn lead<W, T, Rf>(
    mut reader: Reader<'_>,
    mut dealer: Dealer<'_>,
    limit: u64,
    engine: &mut Engine,
    (w, render): (&mut W, &Rf),
    report: &mut Reporter<'_, T>,
) -> Option<u32>
where
    Rf: Fn(&mut W, &Frame, &Step) -> Option<T>,
{
    let mut flows = Vec::with_capacity(AHEAD);
    let mut spare: Vec<(u64, Frame<'static>)> = Vec::with_capacity(AHEAD);
    // A run's records (number, offset, bytes and flow) and their buckets, between the two
    // looks.
    let mut spare_looked: Vec<Looked<'static>> = Vec::with_capacity(AHEAD);
    let (mut seq, mut next_deal) = (0u64, deal::DEAL_EVERY);
    // Dealt records are lent as the file holds them, and framed by their worker.
    let framing = reader.framing();
    while seq < limit {
        let most = usize::try_from(limit - seq).map_or(AHEAD, |left| left.min(AHEAD));
        let mut own = emptied(std::mem::take(&mut spare));
        flows.clear();
        let mut n = seq;
        // A pcapng capture has no runs: every record is read the general way below.
        let mut looked = emptied(std::mem::take(&mut spare_looked));
        let run = framing.map_or_else(Run::default, |framing| {
            let linktype = framing.linktype();
            // The run's buckets first, then their workers: the bucket table's misses overlap
            // (see `Dealer::touch`). A record's flow is read once, here, where its bytes are
            // in the cache: it gives the shard key of nearly every record, and goes with the
            // record to whichever worker touches the table for it.
            let run = reader.peek_records(most, |index, offset, record| {
                let data = framing.data(record);
                let (key, flow) = match flow_of(linktype, data) {
                    Some(flow) => (flow_key(&flow), flow),
                    None => (shard_key_of(linktype, data), deal::NO_FLOW),
                };
                looked.push((index, offset, (record, flow), deal::bucket(key)));
            });
            dealer.touch(looked.iter().map(|l| l.3));
            let window = reader.shared_window();
            for &(index, offset, (record, flow), bucket) in &looked {
                report.offset = offset;
                match dealer.worker_of_bucket(bucket) {
                    0 => {
                        if flow != deal::NO_FLOW {
                            flows.push(flow);
                        }
                        own.extend(framing.frame(index, offset, record).map(|f| (n, f)));
                    }
                    k => dealer.push_lent(k, n, (index, offset), (window, record, flow)),
                }
                n += 1;
            }
            run
        });
        spare_looked = emptied(looked);
        let mut fatal = false;
        if run.records > 0 {
            engine.conntrack().touch(&flows);
            for (n, frame) in own.drain(..) {
                let step = engine.step(&frame);
                if let Some(t) = render(w, &frame, &step) {
                    report.items.push((n, Item::Record(t)));
                }
            }
            spare = emptied(own);
            reader.consume_run(run);
            seq += run.records as u64;
        } else {
            let Some(next) = reader.next_frame() else {
                break;
            };
            match next {
                Ok(frame) => {
                    report.offset = frame.offset;
                    match dealer.worker_of(shard_key_of(frame.linktype, frame.data)) {
                        0 => {
                            let step = engine.step(&frame);
                            if let Some(t) = render(w, &frame, &step) {
                                report.items.push((seq, Item::Record(t)));
                            }
                        }
                        k => dealer.push(k, seq, &frame),
                    }
                }
                Err(e) => {
                    fatal = e.is_fatal();
                    report.items.push((seq, Item::Error(e)));
                }
            }
            seq += 1;
        }
        if fatal {
            break;
        }
        if seq >= next_deal {
            next_deal = seq + deal::DEAL_EVERY;
            // All this worker knows is reported before the dealing waits (see `deal`).
            if !(report.read(seq) && dealer.send_all(seq, report.offset, || report.flush(seq))) {
                break;
            }
        }
    }
    dealer.send_all(seq, report.offset, || report.flush(seq));
    report.end(seq);
    reader.linktype()
}

/// The next batch if it comes within `spins` tries: a dealt worker as fast
/// as the dealer finds its queue empty at most deals, and sleeping on it (a
/// futex wait and a wake-up, tens of microseconds on a virtual machine) at
/// each of them cost more than spinning the few microseconds until the batch
/// is there. (Only while every worker has a core: otherwise the spinning
/// takes the time of the dealer it waits for.)
fn next_batch(feed: &Receiver<Batch>, spins: u32) -> Result<Batch, TryRecvError> {
    for _ in 0..spins {
        match feed.try_recv() {
            Err(TryRecvError::Empty) => std::hint::spin_loop(),
            got => return got,
        }
    }
    feed.try_recv()
}

/// A dealt worker: replays the records dealt to it from `feed` and reports
/// them until the dealing worker is done or the calling thread has stopped.
fn work<W, T, Rf>(
    (feed, back, replayed, spins): (&Receiver<Batch>, &SyncSender<Batch>, &AtomicU64, u32),
    engine: &mut Engine,
    (w, render): (&mut W, &Rf),
    report: &mut Reporter<'_, T>,
) where
    Rf: Fn(&mut W, &Frame, &Step) -> Option<T>,
{
    let mut seq = 0u64;
    let mut flows = Vec::with_capacity(AHEAD);
    loop {
        let dealt = match next_batch(feed, spins) {
            Ok(b) => b,
            Err(TryRecvError::Disconnected) => break,
            // All this worker knows is reported before it waits: see `deal`.
            Err(TryRecvError::Empty) => match report.flush(seq).then(|| feed.recv()) {
                Some(Ok(b)) => b,
                _ => break,
            },
        };
        for i in 0..dealt.len() {
            if i % AHEAD == 0 {
                // The table is touched for the records ahead, a run at a time (see `touch`),
                // by the flows the dealer read.
                flows.clear();
                let ahead = dealt.flows(i, AHEAD).iter();
                flows.extend(ahead.filter(|&&f| f != deal::NO_FLOW));
                engine.conntrack().touch(&flows);
            }
            if let Some((n, frame)) = dealt.frame(i) {
                report.offset = frame.offset;
                let step = engine.step(&frame);
                if let Some(t) = render(w, &frame, &step) {
                    report.items.push((n, Item::Record(t)));
                }
            }
        }
        (seq, report.offset) = (dealt.upto, dealt.offset);
        // What the dealer decides new address pairs by (see `deal`).
        replayed.fetch_add(1, Ordering::Release);
        let mut dealt = dealt;
        dealt.clear();
        // Handed back to be filled again; dropped if there is no room (never waits).
        let _ = back.try_send(dealt);
        if !report.read(seq) {
            break;
        }
    }
    report.end(seq);
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
    /// Bytes of capture read between two reports at most.
    every_bytes: u64,
    /// What the last report said: records read, offset.
    reported: (u64, u64),
}

impl<'o, T> Reporter<'o, T> {
    /// A reporter of batches of `batch` items; `quiet` when there are none
    /// ([`Plan::renders_nothing`]).
    fn new(out: &'o SyncSender<Report<T>>, batch: usize, quiet: bool) -> Self {
        let stretch = if quiet { QUIET } else { 1 };
        Reporter {
            out,
            items: Vec::new(),
            offset: 0,
            batch,
            every: (batch as u64).saturating_mul(REPORT_BATCHES * stretch),
            every_bytes: REPORT_BYTES * stretch,
            reported: (0, 0),
        }
    }

    /// `seq` items have been read: reports if a batch is full or the last
    /// report is far behind. False when the calling thread has stopped.
    fn read(&mut self, seq: u64) -> bool {
        let due = self.items.len() >= self.batch
            || seq - self.reported.0 >= self.every
            || self.offset - self.reported.1 >= self.every_bytes;
        !due || self.send(seq)
    }

    /// Reports what has not been reported yet, if anything: before the worker
    /// waits for its next batch. False when the calling thread has stopped.
    fn flush(&mut self, seq: u64) -> bool {
        (self.items.is_empty() && seq == self.reported.0) || self.send(seq)
    }

    /// Reports the items so far, `seq` items having been read.
    fn send(&mut self, seq: u64) -> bool {
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
    fn end(&mut self, seq: u64) {
        let _ = self.out.send(Report {
            items: std::mem::take(&mut self.items),
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
