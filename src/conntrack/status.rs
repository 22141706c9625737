//! Connection status bits (`enum ip_conntrack_status`, include/uapi/linux/netfilter/nf_conntrack_common.h).
//!
//! The bit numbers are the kernel's, so a status word reads the same as in ctnetlink. Only the
//! bits the oracle prints appear in [`Status::names`] (the others, such as CONFIRMED, are
//! internal). Invariant: `names()` lists bits in ascending bit order, like the oracle.

/// A status word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Status(pub u32);

impl Status {
    /// Connection created by an expectation (RELATED).
    pub const EXPECTED: u32 = 1 << 0;
    /// Packets seen in both directions.
    pub const SEEN_REPLY: u32 = 1 << 1;
    /// Never early-dropped; set by the protocol trackers.
    pub const ASSURED: u32 = 1 << 2;
    /// In the hash table.
    pub const CONFIRMED: u32 = 1 << 3;
    /// Source NAT applies.
    pub const SRC_NAT: u32 = 1 << 4;
    /// Destination NAT applies.
    pub const DST_NAT: u32 = 1 << 5;
    /// Sequence numbers are adjusted (helpers that rewrite payloads).
    pub const SEQ_ADJUST: u32 = 1 << 6;
    /// SNAT binding set up.
    pub const SRC_NAT_DONE: u32 = 1 << 7;
    /// DNAT binding set up.
    pub const DST_NAT_DONE: u32 = 1 << 8;
    /// Being deleted.
    pub const DYING: u32 = 1 << 9;
    /// Timeout is fixed (no refresh).
    pub const FIXED_TIMEOUT: u32 = 1 << 10;
    /// A template (raw table CT target), never a real entry.
    pub const TEMPLATE: u32 = 1 << 11;
    /// Untracked (`-j CT --notrack`).
    pub const UNTRACKED: u32 = 1 << 12;
    /// A helper was attached explicitly (`-j CT --helper`).
    pub const HELPER: u32 = 1 << 13;

    /// Names printed by the oracle's `decode_ct` (`CT_STATUS_BITS`), by bit.
    const PRINTED: [(u32, &'static str); 8] = [
        (Status::EXPECTED, "EXPECTED"),
        (Status::SEEN_REPLY, "SEEN_REPLY"),
        (Status::ASSURED, "ASSURED"),
        (Status::SRC_NAT, "SRC_NAT"),
        (Status::DST_NAT, "DST_NAT"),
        (Status::SEQ_ADJUST, "SEQ_ADJUST"),
        (Status::UNTRACKED, "UNTRACKED"),
        (Status::HELPER, "HELPER"),
    ];

    /// Whether every bit of `mask` is set.
    pub const fn has(self, mask: u32) -> bool {
        self.0 & mask == mask
    }

    /// Sets the bits of `mask`.
    pub fn set(&mut self, mask: u32) {
        self.0 |= mask;
    }

    /// Clears the bits of `mask`.
    pub fn clear(&mut self, mask: u32) {
        self.0 &= !mask;
    }

    /// The printable bits, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Status::PRINTED
            .into_iter()
            .filter(move |(b, _)| self.0 & b != 0)
            .map(|(_, n)| n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_names_skip_internal_bits() {
        let mut s = Status::default();
        s.set(Status::ASSURED | Status::CONFIRMED | Status::SEEN_REPLY | Status::HELPER);
        assert_eq!(
            s.names().collect::<Vec<_>>(),
            ["SEEN_REPLY", "ASSURED", "HELPER"]
        );
        s.clear(Status::ASSURED);
        assert!(!s.has(Status::ASSURED) && s.has(Status::CONFIRMED));
    }
}
