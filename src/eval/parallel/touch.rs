//! Touching ahead in the replay loop: before a run of packets is replayed, the conntrack
//! memory their lookups need is read for all of them at once ([`Table::touch`]), so that
//! the cache misses of the run overlap instead of stalling each packet in turn (memory-level
//! parallelism; see `conntrack::touch` for why a plain read and not a prefetch instruction).
//!
//! The packets ahead are the records the capture reader already holds: it shows them in
//! place without consuming them ([`CaptureReader::peek_whole`], classic pcap only), and
//! [`flow_of`] reads the tuple of those the plain-frame parser
//! ([`packet::plain`](mod@crate::packet::plain): untagged Ethernet, IPv4 TCP or UDP, nearly every
//! record) accepts, at the same offsets but without its checks: run on every record ahead,
//! `plain` itself cost some 130 instructions a packet, more than the rest of the touch.
//! Anything else simply gets no touch. A sharded worker ([`Sorter`]) looks at each record
//! once: the same look decides the record's shard, touches the flows of its own records and
//! leaves the reader runs of the others' records to pass over by their length
//! ([`CaptureReader::sort_whole`]), instead of a touch that decided the shards and handed the
//! decisions on to a reader that walked every header again (mix_1m/fwd_100 `--jobs 2`,
//! callgrind: 911M → 870M instructions per worker, against 748M for half of one engine's).
//!
//! Cost and gain (fwd_100, one worker): about 165 instructions a packet (callgrind, mix_1m),
//! against some 2,400; the gain is in the memory stalls and shows only in time: on mix_10m
//! (~450k connections) a fifth less replay time and CPU time (medians of 7 interleaved runs
//! each on a shared 2-core VM), on mix_1m about a sixth.
//!
//! Invariant: nothing here changes what is replayed: the reader is only looked at, and the
//! table only read; a touch that turns out useless (the record was not kept, the entry changed
//! meanwhile) costs time, never a different result.

use std::io::Read;

use crate::conntrack::{Flow4, Table};
use crate::packet::capture::{Sorted, Until};
use crate::packet::link::linktype;
use crate::packet::CaptureReader;

/// Packets touched together: enough misses in flight to fill a core's miss buffers (10 to
/// 16 on x86); 4 to 32 measured within the noise of one another.
pub(super) const AHEAD: usize = 16;

/// The look-ahead state of one engine's replay loop.
pub(super) struct Ahead {
    /// The flows of the run being touched (reused).
    flows: Vec<Flow4>,
    /// Records still to be read that the last touch covered.
    covered: usize,
}

impl Ahead {
    pub(super) fn new() -> Ahead {
        Ahead {
            flows: Vec::with_capacity(AHEAD),
            covered: 0,
        }
    }

    /// Called before each record is read: once per run of records, touches the table for the
    /// next ones.
    #[inline]
    pub(super) fn before_next<R: Read>(&mut self, reader: &CaptureReader<R>, ct: &Table) {
        if self.covered > 0 {
            self.covered -= 1;
            return;
        }
        self.touch_run(reader, ct);
    }

    #[inline(never)]
    fn touch_run<R: Read>(&mut self, reader: &CaptureReader<R>, ct: &Table) {
        let flows = &mut self.flows;
        flows.clear();
        let seen = reader.peek_whole(AHEAD, |linktype, data| {
            flows.extend(flow_of(linktype, data));
        });
        ct.touch(&self.flows);
        // This call covers the record about to be read, if it saw it.
        self.covered = seen.saturating_sub(1);
    }
}

/// The look-ahead of a sharded worker, which keeps about one record in `workers`: each look
/// shows `mine` the next records once ([`CaptureReader::sort_whole`]), touches the table for
/// those it keeps, and leaves runs of records to pass over, each ended by a kept one, which
/// the reader then passes by their length ([`CaptureReader::pass_sorted`]) without reading
/// their headers a second time.
pub(super) struct Sorter {
    flows: Vec<Flow4>,
    /// The runs of the last look, and the next one to pass.
    runs: Vec<Sorted>,
    next: usize,
    /// Records to look at per look: [`AHEAD`] kept records' worth.
    scan: usize,
}

impl Sorter {
    pub(super) fn new(workers: usize) -> Sorter {
        let scan = AHEAD.saturating_mul(workers.max(1));
        Sorter {
            flows: Vec::with_capacity(scan),
            runs: Vec::with_capacity(scan),
            next: 0,
            scan,
        }
    }

    /// Passes over the next run of records `mine` does not keep (looking ahead first when
    /// the last look's runs are used up) and returns it: when [`Sorted::kept`], the reader's
    /// next record is one `mine` keeps. `None` when the look found no whole record (a pcapng
    /// capture, the window's end, a bad record): the caller reads on with
    /// [`CaptureReader::next_kept`]. A look covers at most `until().records` records and
    /// ends after the first that starts at `until().offset` or later, as far as `next_kept`
    /// would have read before pausing (`until` is asked only when a look is due).
    #[inline]
    pub(super) fn next_run<R, F, U>(
        &mut self,
        reader: &mut CaptureReader<R>,
        ct: &Table,
        mine: &F,
        until: U,
    ) -> Option<Sorted>
    where
        R: Read,
        F: Fn(u32, &[u8]) -> bool,
        U: FnOnce() -> Until,
    {
        if self.next >= self.runs.len() {
            self.look(reader, ct, mine, until());
        }
        let run = *self.runs.get(self.next)?;
        self.next += 1;
        if reader.pass_sorted(&run) {
            return Some(run);
        }
        // Not where the look was (cannot happen in the worker's loop): look again.
        self.runs.clear();
        None
    }

    #[inline(never)]
    fn look<R, F>(&mut self, reader: &CaptureReader<R>, ct: &Table, mine: &F, until: Until)
    where
        R: Read,
        F: Fn(u32, &[u8]) -> bool,
    {
        self.runs.clear();
        self.next = 0;
        let flows = &mut self.flows;
        flows.clear();
        let most = usize::try_from(until.records).map_or(self.scan, |r| r.min(self.scan));
        reader.sort_whole(most, until.offset, &mut self.runs, |linktype, data| {
            let keep = mine(linktype, data);
            if keep {
                flows.extend(flow_of(linktype, data));
            }
            keep
        });
        ct.touch(&self.flows);
    }
}

/// The conntrack tuple of an untagged Ethernet IPv4 TCP or UDP frame that is not a fragment,
/// read at fixed offsets: the fields [`packet::plain`](mod@crate::packet::plain) reads for the
/// frames it accepts (see the test), without its checks of lengths and header sizes, which a
/// hint does not need (and which cost more than the touch itself).
#[inline]
fn flow_of(link: u32, data: &[u8]) -> Option<Flow4> {
    const ETH: usize = 14;
    let h: &[u8; ETH + 20] = data.get(..ETH + 20)?.try_into().ok()?;
    let fragment = u16::from_be_bytes([h[ETH + 6], h[ETH + 7]]) & 0x3fff != 0;
    let proto = h[ETH + 9];
    if link != linktype::ETHERNET
        || h[12..ETH] != [0x08, 0x00]
        || h[ETH] >> 4 != 4
        || fragment
        || !matches!(proto, 6 | 17)
    {
        return None;
    }
    let at = ETH + usize::from(h[ETH] & 0x0f) * 4;
    let ports: &[u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    let be32 = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    Some(Flow4 {
        src: be32(ETH + 12),
        dst: be32(ETH + 16),
        proto,
        sport: u16::from_be_bytes([ports[0], ports[1]]),
        dport: u16::from_be_bytes([ports[2], ports[3]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::plain::plain;

    /// A frame as the plain-frame parser's tests build it, without padding.
    fn frame(proto: u8, ihl: u8, l4: &[u8]) -> Vec<u8> {
        crate::packet::plain::tests::frame(proto, ihl, l4, 0)
    }

    /// Wherever the plain-frame parser reads a frame, the flow read here is its tuple.
    fn agree(link: u32, data: &[u8]) -> bool {
        let Some(p) = plain(link, data) else {
            return false;
        };
        let (sport, dport) = p.ports();
        let want = Flow4 {
            src: p.src(),
            dst: p.dst(),
            proto: p.proto(),
            sport,
            dport,
        };
        assert_eq!(flow_of(link, data), Some(want), "{data:02x?}");
        true
    }

    /// A sharded worker's loop (see `sharded::Shard::work`): the records it reads through
    /// the [`Sorter`]'s runs are exactly those `mine` keeps, numbered as the reader numbers
    /// them, pausing every few records, and `mine` is asked about every record once.
    #[test]
    fn sorted_runs_keep_what_mine_keeps() {
        use crate::conntrack::{Params, Table};
        use crate::packet::capture::Kept;
        use std::cell::Cell;
        let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        file.extend_from_slice(&[0; 8]);
        file.extend_from_slice(&65535u32.to_le_bytes());
        file.extend_from_slice(&linktype::ETHERNET.to_le_bytes());
        let n = 300u32;
        let mut records = Vec::new();
        for i in 0..n {
            let mut f = frame(
                if i % 3 == 0 { 17 } else { 6 },
                5,
                &[0x30, 0x39, 0, 80, 0, 0, 0, 1],
            );
            // Source addresses that vary, so that about half the records are kept.
            f[14 + 15] = (i.wrapping_mul(0x9e37) >> 3) as u8;
            for word in [i, 0, f.len() as u32, f.len() as u32] {
                file.extend_from_slice(&word.to_le_bytes());
            }
            file.extend_from_slice(&f);
            records.push(f);
        }
        let asked = Cell::new(0u32);
        let mine = |_: u32, data: &[u8]| {
            asked.set(asked.get() + 1);
            data.get(14 + 15).is_some_and(|b| b % 2 == 0)
        };
        let want: Vec<u64> = (0..u64::from(n))
            .filter(|&i| records[i as usize][14 + 15] % 2 == 0)
            .collect();
        asked.set(0);
        let mut reader = CaptureReader::new(&file[..]).expect("pcap");
        let table = Table::new(Params::default());
        let mut sorter = Sorter::new(2);
        let until = Until {
            records: 7,
            offset: u64::MAX,
        };
        let (mut kept, mut seq) = (Vec::new(), 0u64);
        loop {
            let next = match sorter.next_run(&mut reader, &table, &mine, || until) {
                Some(run) => {
                    assert!(run.passed() <= until.records, "{run:?}");
                    seq += run.passed();
                    if !run.kept() {
                        continue;
                    }
                    reader.next_frame().map_or(Kept::End, Kept::Item)
                }
                None => {
                    let mut keep = |linktype: u32, data: &[u8]| mine(linktype, data);
                    let skim = reader.next_kept(until, &mut keep);
                    seq += skim.passed;
                    skim.next
                }
            };
            match next {
                Kept::Item(Ok(f)) => {
                    assert_eq!(f.index, seq);
                    seq += 1;
                    kept.push(f.index);
                }
                Kept::Item(Err(e)) => panic!("{e}"),
                Kept::Paused => {}
                Kept::End => break,
            }
        }
        assert_eq!(kept, want);
        assert_eq!(seq, u64::from(n));
        assert!(want.len() > 100 && want.len() < 200, "{}", want.len());
        assert_eq!(asked.get(), n, "every record asked about once");
    }

    #[test]
    fn the_flow_is_the_plain_frames_tuple() {
        let tcp = [
            0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0,
        ];
        let udp = [0x30, 0x39, 0, 53, 0, 10, 0, 0, 1, 2];
        let mut accepted = 0;
        for (proto, l4) in [(6, &tcp[..]), (17, &udp[..])] {
            for ihl in [5, 6, 15] {
                let base = frame(proto, ihl, l4);
                for cut in 0..=base.len() {
                    accepted += usize::from(agree(linktype::ETHERNET, &base[..cut]));
                }
                // Every header byte through values that change a decision.
                for at in 0..base.len() {
                    for v in [
                        0u8, 1, 4, 5, 6, 8, 0x11, 0x20, 0x3f, 0x40, 0x45, 0x4f, 0x81, 0xff,
                    ] {
                        let mut f = base.clone();
                        f[at] = v;
                        accepted += usize::from(agree(linktype::ETHERNET, &f));
                    }
                }
            }
        }
        assert!(accepted > 1000, "{accepted}");
        // Not Ethernet, not IPv4, not TCP or UDP, a fragment: no flow.
        let f = frame(6, 5, &tcp);
        assert_eq!(flow_of(linktype::RAW, &f), None);
        for (at, v) in [(12, 0x86), (14, 0x65), (23, 1), (20, 0x20)] {
            let mut g = f.clone();
            g[at] = v;
            assert_eq!(flow_of(linktype::ETHERNET, &g), None, "{at}");
        }
    }
}
