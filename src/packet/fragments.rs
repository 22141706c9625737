//! IPv4 reassembly as `nf_defrag_ipv4` does it before raw PREROUTING / OUTPUT (priority -400):
//! `ip_defrag` → `ip_find` / `ip_frag_queue` / `inet_frag_queue_insert` / `ip_frag_reasm` in
//! net/ipv4/ip_fragment.c and net/ipv4/inet_fragment.c (Linux 6.x).
//!
//! Kernel behaviour modelled:
//! - queues are keyed by (src, dst, id, protocol, defrag user, vif); the timer is armed once, at
//!   queue creation, for `ipfrag_time` (30 s), measured here on capture time;
//! - a last fragment (MF clear) whose end is below data already seen, or differs from an earlier
//!   last fragment, a non-last fragment reaching past a known end, and an empty fragment kill
//!   the whole queue (`discard_qp`); a non-last fragment's end is rounded down to 8 bytes;
//! - insertion keeps "runs" of fragments appended in order: a fragment entirely inside one run
//!   is a duplicate (dropped, queue kept); any other overlap kills the queue (RFC 5722 as
//!   amended by errata 3089, applied to IPv4 since 2018);
//! - completion when first and last are in and the bytes add up; the result takes the first
//!   fragment's header, total length, checksum recomputed, DF only when every fragment had DF
//!   at the maximal size (`max_df_size == max_size`), ECN merged by `ip_frag_ecn_table`
//!   (not-ECT mixed with CE drops the datagram); a datagram over 65535 bytes is dropped;
//! - new fragments are refused while the memory in use exceeds `ipfrag_high_thresh` (4 MiB).
//!
//! - `ipfrag_max_dist` (64): every fragment from a source bumps that peer's counter; when the
//!   counter moved by more than 64 since this queue's previous fragment (i.e. 64 or more
//!   fragments of other datagrams from that source came in between), the queue is emptied and
//!   restarted with the new fragment (`ip_frag_too_far` + `ip_frag_reinit`).
//!
//! Approximation: the kernel ages its `inet_peer` entries; here the peer table is simply
//! cleared when it reaches [`MAX_PEERS`] sources.
//! Invariant: memory is bounded: every held byte is counted against the threshold (payload plus
//! a fixed per-fragment overhead standing in for `skb->truesize`), so at most about 4 MiB plus
//! one datagram is ever held, however many queues a capture opens.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::checksum;
use super::decode::Packet;

/// `net.ipv4.ipfrag_high_thresh` default.
pub const HIGH_THRESH: usize = 4 * 1024 * 1024;
/// `net.ipv4.ipfrag_time` default, in nanoseconds.
pub const FRAG_TIME_NS: i128 = 30_000_000_000;
/// Stand-in for the `sk_buff` overhead the kernel adds to each fragment's truesize.
pub const FRAG_OVERHEAD: usize = 768;
/// `net.ipv4.ipfrag_max_dist` default.
pub const MAX_DIST: u32 = 64;
/// Sources whose fragment counters are kept (bounds memory).
pub const MAX_PEERS: usize = 65_536;
/// `IP_DEFRAG_CONNTRACK_IN` and `IP_DEFRAG_CONNTRACK_OUT` (include/net/ip.h), the users
/// `nf_ct_defrag_user` picks for PREROUTING and LOCAL_OUT (zone 0).
pub const USER_CONNTRACK_IN: u32 = 2;
pub const USER_CONNTRACK_OUT: u32 = 2 + 65_536;

/// Why a fragment (and maybe its queue) was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Overlaps held data (whole queue dropped).
    Overlap,
    /// Inside held data: this fragment dropped, queue kept.
    Duplicate,
    /// Conflicts with the known end of the datagram (whole queue dropped).
    BadEnd,
    /// No payload after rounding (whole queue dropped).
    Empty,
    /// Reassembled length over 65535 (whole queue dropped).
    Oversize,
    /// Not-ECT and CE fragments mixed (whole queue dropped).
    EcnMismatch,
    /// Fragment memory above `ipfrag_high_thresh`.
    MemoryLimit,
    /// The header is malformed (the kernel drops such packets before defrag).
    Malformed,
}

/// Outcome of [`Defrag::feed`].
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// The packet is not a fragment: use it as it is.
    NotFragment,
    /// Stored, waiting for the rest.
    Held,
    /// The datagram is complete: its IPv4 bytes (decode with `decode_ipv4`). This is what
    /// the hooks after defrag see; the replay's per-record summary stays the captured
    /// fragment's, as in the oracle.
    Complete(&'a [u8]),
    Dropped(DropReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    id: u16,
    proto: u8,
    user: u32,
}

#[derive(Debug, Default)]
struct Queue {
    deadline: i128,
    /// The source's fragment counter when this queue last got a fragment (`qp->rid`).
    rid: u32,
    /// Contiguous runs (start, end) in offset order, as the kernel's rb-tree of fragrun heads.
    runs: Vec<(u32, u32)>,
    /// Known datagram payload length so far (`q.len`).
    len: u32,
    first_in: bool,
    last_in: bool,
    /// Payload bytes received (`q.meat`).
    meat: u32,
    ecn: u8,
    max_size: u32,
    max_df_size: u32,
    /// Header of the offset-0 fragment.
    head: Vec<u8>,
    /// Payload, indexed by fragment offset.
    data: Vec<u8>,
    mem: usize,
}

/// Reassembly state for one network namespace.
#[derive(Debug, Default)]
pub struct Defrag {
    queues: HashMap<Key, Queue>,
    mem: usize,
    next_deadline: Option<i128>,
    /// Per-source fragment counters (`inet_peer.rid`).
    peers: HashMap<Ipv4Addr, u32>,
    out: Vec<u8>,
    /// Queues restarted because of `ipfrag_max_dist`.
    pub too_far: u64,
    /// Queues that timed out (the kernel's `ReasmTimeout`).
    pub expired: u64,
}

impl Defrag {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes currently accounted (payload plus per-fragment overhead).
    pub fn memory(&self) -> usize {
        self.mem
    }

    /// Number of datagrams being reassembled.
    pub fn pending(&self) -> usize {
        self.queues.len()
    }

    /// Feeds one decoded packet seen at `ts_ns` (capture time) by defrag user `user`
    /// ([`USER_CONNTRACK_IN`] in PREROUTING, [`USER_CONNTRACK_OUT`] in OUTPUT). As in the
    /// kernel, the caller has already dropped packets `ip_rcv_core` rejects (bad header
    /// checksum); packets with a [`Packet::problem`] are refused here as `Malformed`.
    pub fn feed(&mut self, ts_ns: i128, user: u32, pkt: &Packet<'_>) -> Outcome<'_> {
        let ip = &pkt.ip;
        if !ip.is_fragment() {
            return Outcome::NotFragment;
        }
        if pkt.problem.is_some() || ip.ihl() < 5 {
            return Outcome::Dropped(DropReason::Malformed);
        }
        self.expire(ts_ns);
        // inet_frag_find refuses lookups and creations alike while over the threshold.
        if self.mem > HIGH_THRESH {
            return Outcome::Dropped(DropReason::MemoryLimit);
        }
        if self.peers.len() >= MAX_PEERS && !self.peers.contains_key(&ip.src()) {
            self.peers.clear();
        }
        let peer = self.peers.entry(ip.src()).or_insert(0);
        *peer = peer.wrapping_add(1);
        let rid = *peer;
        let key = Key {
            src: ip.src(),
            dst: ip.dst(),
            id: ip.id(),
            proto: ip.proto(),
            user,
        };
        let q = self.queues.entry(key).or_insert_with(|| Queue {
            deadline: ts_ns + FRAG_TIME_NS,
            ..Queue::default()
        });
        let before = q.mem;
        let (start, had_fragments) = (std::mem::replace(&mut q.rid, rid), !q.runs.is_empty());
        if had_fragments && rid.wrapping_sub(start) > MAX_DIST {
            q.reinit(ts_ns);
            self.too_far += 1;
        }
        let deadline = q.deadline;
        let step = q.insert(pkt);
        let after = q.mem;
        self.mem = self.mem.saturating_sub(before) + after;
        self.next_deadline = Some(self.next_deadline.map_or(deadline, |d| d.min(deadline)));
        match step {
            Step::Held => Outcome::Held,
            Step::Duplicate => Outcome::Dropped(DropReason::Duplicate),
            Step::Kill(reason) => {
                self.remove(&key);
                Outcome::Dropped(reason)
            }
            Step::Complete => self.complete(&key),
        }
    }

    fn remove(&mut self, key: &Key) -> Option<Queue> {
        let q = self.queues.remove(key)?;
        self.mem = self.mem.saturating_sub(q.mem);
        Some(q)
    }

    /// `ip_expire`: drops every queue whose timer ran out by `now`.
    fn expire(&mut self, now: i128) {
        if !matches!(self.next_deadline, Some(d) if d <= now) {
            return;
        }
        let before = self.queues.len();
        let mut freed = 0;
        self.queues.retain(|_, q| {
            let keep = q.deadline > now;
            if !keep {
                freed += q.mem;
            }
            keep
        });
        self.expired += (before - self.queues.len()) as u64;
        self.mem = self.mem.saturating_sub(freed);
        self.next_deadline = self.queues.values().map(|q| q.deadline).min();
    }

    /// `ip_frag_reasm`: builds the datagram into the reused output buffer.
    fn complete(&mut self, key: &Key) -> Outcome<'_> {
        let Some(q) = self.remove(key) else {
            return Outcome::Dropped(DropReason::Malformed);
        };
        let Some(ecn) = merge_ecn(q.ecn) else {
            return Outcome::Dropped(DropReason::EcnMismatch);
        };
        let total = q.head.len() + q.len as usize;
        let Ok(total16) = u16::try_from(total) else {
            return Outcome::Dropped(DropReason::Oversize);
        };
        self.out.clear();
        self.out.extend_from_slice(&q.head);
        self.out
            .extend_from_slice(q.data.get(..q.len as usize).unwrap_or(&[]));
        let frag: u16 = if q.max_df_size == q.max_size {
            0x4000
        } else {
            0
        };
        if let Some(h) = self.out.get_mut(..20) {
            h[1] |= ecn;
            h[2..4].copy_from_slice(&total16.to_be_bytes());
            h[6..8].copy_from_slice(&frag.to_be_bytes());
            h[10..12].copy_from_slice(&[0, 0]);
        }
        let c = checksum::finish(checksum::sum(
            self.out.get(..q.head.len()).unwrap_or(&[]),
            0,
        ));
        if let Some(h) = self.out.get_mut(10..12) {
            h.copy_from_slice(&c.to_be_bytes());
        }
        Outcome::Complete(&self.out)
    }
}

/// What inserting one fragment did to its queue.
enum Step {
    Held,
    Duplicate,
    Kill(DropReason),
    Complete,
}

/// `ip4_frag_ecn` bits: NOT_ECT 1, ECT_1 2, ECT_0 4, CE 8.
fn ecn_bit(tos: u8) -> u8 {
    1 << (tos & 3)
}

/// `ip_frag_ecn_table`: CE with ECT gives CE; not-ECT mixed with CE is invalid.
fn merge_ecn(bits: u8) -> Option<u8> {
    if bits & 8 != 0 && bits & 1 != 0 {
        None
    } else if bits & 8 != 0 && bits & 6 != 0 {
        Some(3)
    } else {
        Some(0)
    }
}

impl Queue {
    /// `ip_frag_reinit`: drop every fragment, re-arm the timer, keep the queue.
    fn reinit(&mut self, now: i128) {
        *self = Queue {
            deadline: now + FRAG_TIME_NS,
            rid: self.rid,
            max_size: self.max_size,
            max_df_size: self.max_df_size,
            ..Queue::default()
        };
    }

    /// `ip_frag_queue` for one fragment.
    fn insert(&mut self, pkt: &Packet<'_>) -> Step {
        let ip = &pkt.ip;
        let payload = ip.payload();
        let offset = ip.frag_offset_bytes();
        let mut end = offset + payload.len() as u32;
        if !ip.mf() {
            if end < self.len || (self.last_in && end != self.len) {
                return Step::Kill(DropReason::BadEnd);
            }
            self.last_in = true;
            self.len = end;
        } else {
            end &= !7;
            if end > self.len {
                if self.last_in {
                    return Step::Kill(DropReason::BadEnd);
                }
                self.len = end;
            }
        }
        if end <= offset {
            return Step::Kill(DropReason::Empty);
        }
        match self.place(offset, end) {
            Some(Step::Held) => {}
            Some(other) => return other,
            None => return Step::Kill(DropReason::Overlap),
        }
        let size = (end - offset) as usize;
        if self.data.len() < end as usize {
            self.data.resize(end as usize, 0);
        }
        if let (Some(dst), Some(src)) = (
            self.data.get_mut(offset as usize..end as usize),
            payload.get(..size),
        ) {
            dst.copy_from_slice(src);
        }
        self.meat += end - offset;
        self.mem += size + FRAG_OVERHEAD;
        self.ecn |= ecn_bit(ip.tos());
        if offset == 0 {
            self.first_in = true;
            self.head.clear();
            self.head
                .extend_from_slice(ip.bytes().get(..ip.header_len()).unwrap_or(&[]));
        }
        let fragsize = end - offset + ip.header_len() as u32;
        self.max_size = self.max_size.max(fragsize);
        if ip.df() {
            self.max_df_size = self.max_df_size.max(fragsize);
        }
        if self.first_in && self.last_in && self.meat == self.len {
            if self.head.len() + self.len as usize > 65_535 {
                return Step::Kill(DropReason::Oversize);
            }
            return Step::Complete;
        }
        Step::Held
    }

    /// `inet_frag_queue_insert`: `Some(Held)` when placed, `Some(Duplicate)`, or `None` on
    /// overlap.
    fn place(&mut self, offset: u32, end: u32) -> Option<Step> {
        let Some(&(last_start, last_end)) = self.runs.last() else {
            self.runs.push((offset, end));
            return Some(Step::Held);
        };
        if last_end < end {
            if offset < last_end {
                return None;
            }
            if offset == last_end {
                self.runs.pop();
                self.runs.push((last_start, end));
            } else {
                self.runs.push((offset, end));
            }
            return Some(Step::Held);
        }
        // Binary search among runs: fully inside one run is a duplicate, touching none is a
        // new run, anything else overlaps.
        let idx = self.runs.partition_point(|&(_, e)| e <= offset);
        match self.runs.get(idx) {
            Some(&(s, e)) if offset >= s && end <= e => Some(Step::Duplicate),
            Some(&(s, _)) if end > s => None,
            _ => {
                self.runs.insert(idx, (offset, end));
                Some(Step::Held)
            }
        }
    }
}

#[cfg(test)]
mod tests;
