//! The threads of a sharded replay: a reader that deals records to workers in batches, the
//! workers (one [`Engine`] each), and the calling thread that emits their results in capture
//! order through a reorder ring.
//!
//! Memory crosses threads in a loop, not one way: emptied batches go back to the reader,
//! emitted frames' buffers go back to the reader with the credits, and emitted records go
//! back to the worker that made them, to be dropped there. Freed one way, every record and
//! frame was allocated on one core and released on another: the allocator kept faulting in
//! fresh pages, and the shared rule names' reference counts bounced between cores on every
//! packet.

use super::{add_counters, shard_key, shard_of, Finished, Item, OwnedFrame, Setup};
use crate::eval::engine::Engine;
use crate::eval::outcome::Record;
use crate::packet::{CaptureError, CaptureReader, Frame};
use std::io::Read;
use std::sync::mpsc;

/// Records per batch sent to a worker: one channel operation (and at most
/// one wake-up) per batch instead of per record.
const BATCH: usize = 256;
/// Emitted records per credit message back to the reader.
const CREDIT_BATCH: usize = 512;
/// Emitted records handed back to their worker at a time.
const RETURN_BATCH: usize = 256;

/// One replayed item, as the emitting thread receives it.
enum Out<T> {
    Record {
        frame: OwnedFrame,
        record: Record,
        rendered: T,
        /// The worker that made the record, which gets it back to drop.
        worker: usize,
    },
    Error(CaptureError),
}

/// What the workers and the reader send to the emitting thread.
enum Msg<T> {
    /// Items with their sequence numbers, in increasing order.
    Batch(Vec<(u64, Out<T>)>),
    /// The reader is done: this many items were numbered.
    End(u64),
}

/// A batch of records for one worker.
type Batch = Vec<(u64, OwnedFrame)>;

/// The emitter's answer to the reader: room for `n` more items in flight, and frame buffers
/// to read into again.
struct Credit {
    n: usize,
    buffers: Vec<Vec<u8>>,
}

/// Runs the replay over `workers` threads with at most `window` items in flight.
pub(super) fn run<R, T, Rf, Sk>(
    reader: &mut CaptureReader<R>,
    setup: Setup<'_>,
    (workers, window): (usize, usize),
    render: &Rf,
    sink: &mut Sk,
) -> Finished
where
    R: Read + Send,
    T: Send,
    Rf: Fn(&Frame, &Record) -> T + Sync,
    Sk: FnMut(Item<'_, T>) -> bool,
{
    let (done_tx, done_rx) = mpsc::channel::<Msg<T>>();
    let (credit_tx, credit_rx) = mpsc::channel::<Credit>();
    let (recycle_tx, recycle_rx) = mpsc::channel::<Batch>();
    let Setup {
        rs,
        host,
        params,
        opts,
    } = setup;
    std::thread::scope(|s| {
        let mut inputs = Vec::with_capacity(workers);
        let mut returns = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (tx, rx) = mpsc::channel::<Batch>();
            inputs.push(tx);
            let (back_tx, back_rx) = mpsc::channel::<Vec<Record>>();
            returns.push(back_tx);
            let (done, host, opts) = (done_tx.clone(), host.clone(), opts.clone());
            let recycle = recycle_tx.clone();
            handles.push(s.spawn(move || {
                let mut engine = Engine::new(rs, host, params, opts);
                for mut batch in rx {
                    // Records emitted since the last batch die here, where they were made.
                    while let Ok(emitted) = back_rx.try_recv() {
                        drop(emitted);
                    }
                    let out = batch
                        .drain(..)
                        .map(|(seq, frame)| {
                            let view = frame.frame();
                            let record = engine.process(&view);
                            let rendered = render(&view, &record);
                            let out = Out::Record {
                                frame,
                                record,
                                rendered,
                                worker,
                            };
                            (seq, out)
                        })
                        .collect();
                    // The reader may be gone already (end of capture): then the batch is
                    // simply freed.
                    let _ = recycle.send(batch);
                    if done.send(Msg::Batch(out)).is_err() {
                        break;
                    }
                }
                (engine.ruleset_with_counters(), engine.ipsets().cloned())
            }));
        }
        let reader_done = done_tx;
        drop(recycle_tx);
        s.spawn(move || {
            let mut dealer = Dealer {
                inputs,
                batches: vec![Vec::new(); workers],
                done: reader_done,
                credits: credit_rx,
                recycled: recycle_rx,
                buffers: Vec::new(),
                free: window,
            };
            dealer.run(reader);
        });
        let mut emitter = Emitter {
            credits: credit_tx,
            returns,
            emitted: vec![Vec::new(); workers],
            buffers: Vec::new(),
            owed: 0,
        };
        emitter.run(&done_rx, window, sink);
        // After `sink` said stop: the workers' sends and the reader's wait for
        // credits fail, so every thread ends.
        drop(done_rx);
        drop(emitter);
        let mut merged: Option<Finished> = None;
        for h in handles {
            let Ok((counters, ipsets)) = h.join() else {
                continue;
            };
            match &mut merged {
                None => merged = Some(Finished { counters, ipsets }),
                Some(m) => add_counters(&mut m.counters, &counters),
            }
        }
        merged.unwrap_or_else(|| Finished {
            counters: rs.clone(),
            ipsets: None,
        })
    })
}

/// The reader thread's side: numbers every item and deals records to the
/// workers in batches, holding at most `free` more unemitted ones.
struct Dealer<T> {
    inputs: Vec<mpsc::Sender<Batch>>,
    batches: Vec<Batch>,
    done: mpsc::Sender<Msg<T>>,
    credits: mpsc::Receiver<Credit>,
    /// Batches the workers emptied, for reuse.
    recycled: mpsc::Receiver<Batch>,
    /// Frame buffers the emitter is done with, for reuse.
    buffers: Vec<Vec<u8>>,
    free: usize,
}

impl<T> Dealer<T> {
    fn run<R: Read>(&mut self, reader: &mut CaptureReader<R>) {
        let mut seq = 0u64;
        while let Some(next) = reader.next_frame() {
            if self.free == 0 && !self.wait_for_credit() {
                return; // the emitter stopped
            }
            self.free -= 1;
            match next {
                Ok(frame) => {
                    let shard = shard_of(shard_key(&frame), self.inputs.len());
                    let owned = OwnedFrame::of_into(&frame, self.buffers.pop().unwrap_or_default());
                    self.batches[shard].push((seq, owned));
                    if self.batches[shard].len() >= BATCH && !self.flush(shard) {
                        return;
                    }
                }
                Err(e) => {
                    let fatal = e.is_fatal();
                    let sent = self.done.send(Msg::Batch(vec![(seq, Out::Error(e))]));
                    if sent.is_err() || fatal {
                        seq += 1;
                        break;
                    }
                }
            }
            seq += 1;
        }
        for shard in 0..self.batches.len() {
            self.flush(shard);
        }
        let _ = self.done.send(Msg::End(seq));
    }

    /// Sends every partial batch (the emitter may be waiting for one of
    /// their records), then blocks until some records were emitted.
    fn wait_for_credit(&mut self) -> bool {
        for shard in 0..self.batches.len() {
            if !self.flush(shard) {
                return false;
            }
        }
        match self.credits.recv() {
            Ok(mut c) => {
                self.free += c.n;
                self.buffers.append(&mut c.buffers);
                true
            }
            Err(_) => false,
        }
    }

    fn flush(&mut self, shard: usize) -> bool {
        if self.batches[shard].is_empty() {
            return true;
        }
        let fresh = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let batch = std::mem::replace(&mut self.batches[shard], fresh);
        self.inputs[shard].send(batch).is_ok()
    }
}

/// The calling thread's side: emits items in sequence order and hands memory back.
struct Emitter {
    credits: mpsc::Sender<Credit>,
    /// Per worker: where its emitted records go back.
    returns: Vec<mpsc::Sender<Vec<Record>>>,
    emitted: Vec<Vec<Record>>,
    buffers: Vec<Vec<u8>>,
    /// Items emitted since the last credit.
    owed: usize,
}

impl Emitter {
    /// Emits items in sequence order until the reader's end or the sink stops.
    /// At most `window` items are in flight, so a ring of that size reorders.
    fn run<T, Sk>(&mut self, done: &mpsc::Receiver<Msg<T>>, window: usize, sink: &mut Sk)
    where
        Sk: FnMut(Item<'_, T>) -> bool,
    {
        let mut ring: Vec<Option<Out<T>>> = std::iter::repeat_with(|| None).take(window).collect();
        let (mut next, mut end) = (0u64, None::<u64>);
        let slot = |seq: u64| (seq % window as u64) as usize;
        while end != Some(next) {
            let Some(item) = ring[slot(next)].take() else {
                // Return credits before blocking: the reader may be waiting for
                // them (once it has finished, nobody listens: that is fine).
                if self.owed > 0 {
                    self.credit();
                }
                match done.recv() {
                    Ok(Msg::End(n)) => end = Some(n),
                    Ok(Msg::Batch(items)) => {
                        for (seq, out) in items {
                            ring[slot(seq)] = Some(out);
                        }
                    }
                    Err(_) => return,
                }
                continue;
            };
            next += 1;
            let go = match item {
                Out::Record {
                    frame,
                    record,
                    rendered,
                    worker,
                } => {
                    let go = sink(Item::Record(&frame.frame(), &record, rendered));
                    self.give_back(frame, record, worker);
                    go
                }
                Out::Error(e) => sink(Item::Error(e)),
            };
            self.owed += 1;
            if self.owed >= CREDIT_BATCH {
                self.credit();
            }
            if !go {
                return;
            }
        }
    }

    fn give_back(&mut self, frame: OwnedFrame, record: Record, worker: usize) {
        self.buffers.push(frame.data);
        let (Some(list), Some(to)) = (self.emitted.get_mut(worker), self.returns.get(worker))
        else {
            return;
        };
        list.push(record);
        if list.len() >= RETURN_BATCH {
            // A worker that has finished drops nothing more: the records die here then.
            let _ = to.send(std::mem::take(list));
        }
    }

    fn credit(&mut self) {
        let c = Credit {
            n: std::mem::take(&mut self.owed),
            buffers: std::mem::take(&mut self.buffers),
        };
        let _ = self.credits.send(c);
    }
}
