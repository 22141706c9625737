//! Expectation bookkeeping (nf_conntrack_expect.c): registering with the kernel's
//! replacement, clash and per-master limit rules (`__nf_ct_expect_check`), lookup by the
//! first packet of a new connection (`nf_ct_find_expectation`), and expiry.
//!
//! Invariants: `Table::expectations` is in insertion order (the kernel's hash bucket holds the
//! newest first, so lookups scan from the end); an expectation's tuple has source port 0 when
//! the source port is a wildcard; no two live expectations clash.

use thiserror::Error;

use crate::conntrack::entry::HelperKind;
use crate::conntrack::table::{Expectation, Table};
use crate::conntrack::tuple::{L4Key, Tuple};

/// Why an expectation was refused (the helper then drops the packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ExpectError {
    /// The master entry is gone (`-ESHUTDOWN`).
    #[error("the master connection no longer exists")]
    NoMaster,
    /// Another master expects an overlapping tuple (`expect_clash`, `-EBUSY`).
    #[error("another connection already expects this tuple")]
    Clash,
}

/// `max_expected` of the helper's policy: FTP and TFTP allow one at a time.
const fn max_expected(_h: Option<HelperKind>) -> usize {
    1
}

impl Table {
    /// Registers an expectation (`nf_ct_expect_related`): an identical one of the same master
    /// is replaced; one of another master that the new one overlaps refuses it; beyond the
    /// helper's `max_expected` the master's oldest is evicted (`evict_oldest_expect`).
    pub fn expect_related(&mut self, e: Expectation, now_ns: u64) -> Result<(), ExpectError> {
        let helper = self.get(e.master).ok_or(ExpectError::NoMaster)?.helper;
        // Expired expectations are gone (their timer fired).
        self.expectations.retain(|x| x.expires_ns > now_ns);
        for pos in (0..self.expectations.len()).rev() {
            let i = &self.expectations[pos];
            if i.master == e.master && same(i, &e) {
                self.expectations.remove(pos);
                break;
            }
            if clash(i, &e) {
                return Err(ExpectError::Clash);
            }
        }
        let mine = self
            .expectations
            .iter()
            .filter(|x| x.master == e.master)
            .count();
        if mine >= max_expected(helper) {
            if let Some(oldest) = self.expectations.iter().position(|x| x.master == e.master) {
                self.expectations.remove(oldest);
            }
        }
        self.expectations.push(e);
        Ok(())
    }

    /// The live expectations, oldest first (`/proc/net/nf_conntrack_expect`).
    pub fn expectations(&self, now_ns: u64) -> impl Iterator<Item = &Expectation> {
        self.expectations
            .iter()
            .filter(move |e| e.expires_ns > now_ns)
    }

    /// `nf_ct_find_expectation` for the tuple of a new connection: the expectation is used up,
    /// unless its master is not confirmed yet ("how can other end know about expected?"), in
    /// which case it is neither used nor removed.
    pub(crate) fn take_expectation(&mut self, t: &Tuple, now_ns: u64) -> Option<Expectation> {
        let pos = self
            .expectations
            .iter()
            .rposition(|e| e.expires_ns > now_ns && matches(e, t))?;
        let e = self.expectations[pos];
        if !self.is_confirmed(e.master) {
            return None;
        }
        self.expectations.remove(pos);
        Some(e)
    }
}

/// `nf_ct_tuple_mask_cmp(t, &e->tuple, &e->mask)`.
fn matches(e: &Expectation, t: &Tuple) -> bool {
    masked_eq(&e.tuple, t, e.match_src_addr, e.match_src_port)
}

/// `expect_matches`: same tuple and same mask.
fn same(a: &Expectation, b: &Expectation) -> bool {
    a.tuple == b.tuple
        && a.match_src_addr == b.match_src_addr
        && a.match_src_port == b.match_src_port
}

/// `expect_clash`: equal on the intersection of the two masks.
fn clash(a: &Expectation, b: &Expectation) -> bool {
    masked_eq(
        &a.tuple,
        &b.tuple,
        a.match_src_addr && b.match_src_addr,
        a.match_src_port && b.match_src_port,
    )
}

/// Destination, protocol and family always compare; the source address and port only where
/// the mask says so.
fn masked_eq(x: &Tuple, t: &Tuple, src_addr: bool, src_port: bool) -> bool {
    if x.dst != t.dst
        || x.proto != t.proto
        || x.src.is_ipv4() != t.src.is_ipv4()
        || (src_addr && x.src != t.src)
    {
        return false;
    }
    match (x.l4, t.l4) {
        (L4Key::Ports { src: es, dst: ed }, L4Key::Ports { src, dst }) => {
            ed == dst && (!src_port || es == src)
        }
        (a, b) => a == b,
    }
}
