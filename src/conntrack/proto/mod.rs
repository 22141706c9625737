//! Layer-4 protocol trackers (`struct nf_conntrack_l4proto` and `nf_conntrack_handle_packet`).
//!
//! Each tracker turns one packet of a known entry into an [`L4Result`]; the table applies it.
//! Invariant: trackers never touch the hash table; deleting and re-looking-up entries is the
//! table's job ([`L4Result::Kill`], [`L4Result::Repeat`]).

pub mod generic;
pub mod gre;
pub mod icmp;
pub mod tcp;
pub mod udp;

use super::InvalidReason;

/// Outcome of a protocol tracker for one packet (the sign conventions of `*_packet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4Result {
    /// `NF_ACCEPT`: the packet belongs to the entry. `timeout` (seconds) refreshes the entry's
    /// timer; `None` leaves it alone (ignored packets, SYN retransmissions).
    Accept {
        /// New timeout in seconds, if any.
        timeout: Option<u32>,
    },
    /// `-NF_ACCEPT`: INVALID; the packet loses its entry (an unconfirmed one is freed).
    Invalid(InvalidReason),
    /// `NF_ACCEPT` after `nf_ct_kill_acct`: the packet keeps its entry but the entry is deleted.
    Kill,
    /// `-NF_REPEAT`: delete the entry and look the packet up again (TCP reopen).
    Repeat,
}

/// Per-entry protocol data (`union nf_conntrack_proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoData {
    /// TCP state machine and windows.
    Tcp(tcp::TcpConn),
    /// UDP: when the entry counts as a stream (`stream_ts`), in nanoseconds of packet time.
    Udp {
        /// Two seconds after the first packet.
        stream_ts_ns: u64,
    },
    /// ICMP and the generic tracker keep nothing.
    None,
}
