//! Connection tracking modelled on Linux `nf_conntrack` (6.x).
//!
//! The evaluator decodes a packet into a [`PacketInfo`] and calls [`Table::process`] at the
//! conntrack hook (PREROUTING or OUTPUT, priority −200). The returned [`Verdict`] holds what
//! `-m state` / `-m conntrack` see (NEW, ESTABLISHED, RELATED, INVALID), the direction and the
//! entry. An entry created by the packet is *unconfirmed*: the evaluator must call
//! [`Table::confirm`] when the packet survives the last hook, or [`Table::discard`] when it is
//! dropped — exactly like `__nf_conntrack_confirm` and the freeing of the skb's conntrack.
//!
//! For the evaluator:
//! * `-j CT --notrack` in raw: do not call `process`; the state is [`CtState::Untracked`].
//!   `-j CT --helper NAME`: pass a [`Template`] to [`Table::process_with`].
//! * A locally generated packet to a local address is tracked once, on OUTPUT; on `lo`
//!   PREROUTING it keeps its entry ("previously seen (loopback)" in `nf_conntrack_in`), and it
//!   is confirmed at POSTROUTING of the output path, before INPUT runs.
//! * REJECT `--reject-with tcp-reset` calls [`Table::set_closing`] (`nf_send_reset`).
//! * CONNMARK uses [`Table::set_mark`]; NAT rewrites the reply tuple of an unconfirmed entry
//!   with [`Table::alter_reply`] and sets the NAT status bits; helpers register
//!   [`Expectation`]s.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use iptwalk::conntrack::proto::tcp::flags;
//! use iptwalk::conntrack::{CtState, Hook, L4Info, PacketInfo, Params, Table, TcpSegment};
//!
//! let mut ct = Table::new(Params::default());
//! let seg = TcpSegment { sport: 40000, dport: 22, flags: flags::SYN, seq: 1, doff: 5, l4_len: 20, ..Default::default() };
//! let syn = PacketInfo {
//!     src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 77)),
//!     dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 104)),
//!     proto: 6,
//!     l4: L4Info::Tcp(seg),
//!     ts_ns: 0,
//!     hook: Hook::PreRouting,
//!     checksum_ok: true,
//! };
//! let v = ct.process(&syn);
//! assert_eq!(v.state, CtState::New);
//! // ... the rules accept the packet, it leaves the last hook: confirm its entry.
//! if let Some(id) = v.conn.filter(|_| v.unconfirmed) {
//!     ct.confirm(id).expect("no clash");
//! }
//! assert_eq!(ct.process(&syn).state, CtState::New); // a retransmitted SYN is still NEW
//! ```
//!
//! Layout: [`params`] (sysctls), [`tuple`](mod@tuple), [`status`], [`proto`] (tcp, udp, icmp, generic),
//! [`table`] (hash table, timeouts, confirmation), [`entry`] (an entry and its printable view)
//! [`helpers`] (FTP, TFTP and their expectations) and [`nat`] (NAT bindings:
//! `nf_nat_setup_info`, `nf_nat_packet`).
//!
//! Invariants: this module knows packets but not rules; time is the packet timestamp
//! (nanoseconds), never the wall clock; processing a packet never allocates except when an entry
//! is confirmed into the hash map.
//!
//! IPv6 is modelled as far as conntrack goes (tuples are family-neutral, ICMPv6 follows
//! nf_conntrack_proto_icmpv6.c) but is not verified against the kernel: the oracle is IPv4-only.
//!
//! Not modelled yet: the SCTP, DCCP and UDP-Lite trackers (those protocols use the generic
//! tracker, with ports in the tuple for SCTP and UDP-Lite), GRE version 1 (PPTP) keys (GRE has
//! its own timeouts, `proto::gre`, but is keyed like the generic tracker), zones, NAT sequence adjustment,
//! clash resolution on confirm (a clash drops the packet), accounting.

pub mod entry;
pub mod hash;
pub mod helpers;
pub mod nat;
pub mod params;
pub mod proto;
mod slab;
pub mod status;
pub mod table;
mod touch;
mod track;
pub mod tuple;
mod tuple_map;

#[cfg(test)]
mod tests;

use std::net::IpAddr;

pub use entry::{Conn, CtView, HelperKind, LaneMemo};
pub use helpers::{ExpectError, HelpVerdict, NatRequest};
pub use nat::{Binding as NatBinding, Manip, Range as NatRange};
pub use params::{ParamError, Params};
pub use proto::icmp::{Message as IcmpMessage, Quoted, QuotedL4};
pub use proto::tcp::{Segment as TcpSegment, TcpOptions, TcpState};
pub use proto::udp::Datagram as UdpDatagram;
pub use status::Status;
pub use table::{ConfirmError, ConnId, Expectation, Table, Template};
pub use touch::Flow4;
pub use track::packet_tuple;
pub use tuple::{Dir, L4Key, Tuple};

/// The hook at which conntrack sees the packet; checksums are verified only in PREROUTING.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Packets from the wire (`NF_INET_PRE_ROUTING`).
    PreRouting,
    /// Locally generated packets (`NF_INET_LOCAL_OUT`).
    LocalOut,
}

/// The layer-4 view of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4Info {
    /// TCP.
    Tcp(TcpSegment),
    /// UDP.
    Udp(UdpDatagram),
    /// ICMP or ICMPv6 (told apart by [`PacketInfo::proto`], 1 or 58).
    Icmp(IcmpMessage),
    /// Any other protocol; `ports` for SCTP and UDP-Lite, whose tuples carry them.
    Other {
        /// Source and destination port, when the protocol has them.
        ports: Option<(u16, u16)>,
    },
    /// The layer-4 header the tracker needs is not there (too short), or the packet is a
    /// non-first fragment: no tuple can be built.
    Unreadable,
}

/// A decoded packet, as conntrack needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// Layer-4 details.
    pub l4: L4Info,
    /// Capture timestamp in nanoseconds.
    pub ts_ns: u64,
    /// Where conntrack sees it.
    pub hook: Hook,
    /// The layer-4 checksum verifies, or is absent (UDP checksum 0), or was offloaded.
    pub checksum_ok: bool,
}

/// What `-m state` sees (`enum ip_conntrack_info` reduced to the state names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CtState {
    /// First packet(s) of a connection, no reply yet.
    New,
    /// Part of a known connection.
    Established,
    /// Expected connection or ICMP error about a known one.
    Related,
    /// No connection.
    Invalid,
    /// `-j CT --notrack` (set by the evaluator), or ICMPv6 neighbour discovery / MLD, which
    /// [`Table::process`] marks untracked like `nf_conntrack_icmpv6_error`.
    Untracked,
}

impl CtState {
    /// The name iptables and the oracle print.
    pub const fn name(self) -> &'static str {
        match self {
            CtState::New => "NEW",
            CtState::Established => "ESTABLISHED",
            CtState::Related => "RELATED",
            CtState::Invalid => "INVALID",
            CtState::Untracked => "UNTRACKED",
        }
    }
}

/// Why a packet is INVALID (the kernel's `nf_l4proto_log_invalid` messages, as data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    /// No tuple: the layer-4 header is missing or the packet is a fragment.
    NoTuple,
    /// The tracker's header check failed (short header).
    Truncated,
    /// Bad layer-4 checksum in PREROUTING with `nf_conntrack_checksum=1`.
    BadChecksum,
    /// UDP length field inconsistent.
    UdpLength,
    /// TCP tracking refused the packet.
    Tcp(proto::tcp::TcpInvalid),
    /// ICMP type above 18.
    IcmpType,
    /// ICMP type that cannot start a connection and has no inverse (no entry can exist).
    IcmpNoInverse,
    /// ICMP reply (or other non-request) without an entry.
    IcmpNotRequest,
    /// ICMP error whose quoted packet cannot be turned into a tuple.
    IcmpErrorQuote,
    /// ICMP error about a flow with no confirmed entry.
    IcmpErrorUnknownFlow,
    /// ICMP error whose outer destination is not the flow's endpoint.
    IcmpErrorWrongDestination,
}

impl std::fmt::Display for InvalidReason {
    /// The kernel's `nf_l4proto_log_invalid` wording, for traces and reports.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            InvalidReason::NoTuple => "no tuple (layer-4 header missing or fragment)",
            InvalidReason::Truncated => "truncated packet",
            InvalidReason::BadChecksum => "bad checksum",
            InvalidReason::UdpLength => "truncated/malformed packet",
            InvalidReason::Tcp(t) => return write!(f, "{t}"),
            InvalidReason::IcmpType => "invalid icmp type",
            InvalidReason::IcmpNoInverse => "icmp type has no reply type (can't invert tuple)",
            InvalidReason::IcmpNotRequest => "icmp: can't create new conn with this type",
            InvalidReason::IcmpErrorQuote => "icmp error: quoted packet unusable",
            InvalidReason::IcmpErrorUnknownFlow => "icmp error about no known connection",
            InvalidReason::IcmpErrorWrongDestination => "icmp error: outer daddr != inner",
        };
        f.write_str(s)
    }
}

impl From<proto::tcp::TcpInvalid> for InvalidReason {
    fn from(t: proto::tcp::TcpInvalid) -> Self {
        InvalidReason::Tcp(t)
    }
}

/// `nf_conntrack_max` as a kernel sets it by default on a 64-bit host with more than 4 GiB
/// of memory (`nf_conntrack_init_start`: 262,144 hash buckets, one entry per bucket). Past it,
/// `__nf_conntrack_alloc` early-drops a random unassured entry (`early_drop`, from the
/// tuple's seeded hash) or refuses the new connection, and `gc_worker` early-drops from 95%
/// on: not modelled, so a replay only warns when its table outgrew this.
pub const KERNEL_DEFAULT_MAX: usize = 262_144;

/// The result of [`Table::process`] for one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// What `-m state` sees.
    pub state: CtState,
    /// Direction of the packet in its entry (`None` when INVALID).
    pub dir: Option<Dir>,
    /// The entry the packet belongs to; `None` when INVALID or when the entry was deleted by
    /// this very packet (see `killed`).
    pub conn: Option<ConnId>,
    /// The entry was created by this packet and waits for [`Table::confirm`] / [`Table::discard`].
    pub unconfirmed: bool,
    /// The packet kept its state but its entry was deleted (RST answering a SYN, reopen).
    pub killed: bool,
    /// TCP state after the packet, when TCP and an entry exists or existed.
    pub tcp_state: Option<TcpState>,
    /// Why the packet is INVALID.
    pub invalid: Option<InvalidReason>,
}

impl Verdict {
    pub(crate) fn invalid(why: InvalidReason) -> Verdict {
        Verdict {
            state: CtState::Invalid,
            dir: None,
            conn: None,
            unconfirmed: false,
            killed: false,
            tcp_state: None,
            invalid: Some(why),
        }
    }
}
