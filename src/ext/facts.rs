//! What rules can know about a packet: the rule language's view of it.
//!
//! `eval` fills a [`Facts`] from the decoded packet, the host model and the
//! conntrack entry, once per packet and hook; extensions judge it in their
//! `eval`. Keeping this plain data here (rather than handing extensions the
//! packet decoder or conntrack types) keeps `ext` independent of the layers
//! below it, and makes unit tests of a match one struct literal.

use crate::ir::{Hook, TableKind};

/// Layer-4 header fields of the first (or only) fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum L4Facts<'p> {
    /// Not a first fragment, or the header is missing (see `truncated`).
    #[default]
    None,
    Tcp {
        sport: u16,
        dport: u16,
        /// Byte 13 of the header: CWR ECE URG ACK PSH RST SYN FIN.
        flags: u8,
        seq: u32,
        ack: u32,
        window: u16,
        /// The options bytes (header beyond 20 bytes).
        options: &'p [u8],
        /// Data offset in bytes.
        header_len: u8,
    },
    Udp {
        sport: u16,
        dport: u16,
    },
    Icmp {
        kind: u8,
        code: u8,
    },
    /// Other protocols with 16-bit ports at the start (SCTP, DCCP, UDP-Lite).
    Ports {
        sport: u16,
        dport: u16,
    },
    /// ESP and AH: the security parameter index.
    Spi(u32),
}

/// The connection as `-m state` / `-m conntrack` see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CtFacts {
    /// One bit of `ext::matches::state` (INVALID, NEW, ESTABLISHED, RELATED,
    /// UNTRACKED).
    pub state: u8,
    /// The connection is source-NATed / destination-NATed (conntrack's
    /// virtual SNAT/DNAT states).
    pub snat: bool,
    pub dnat: bool,
    /// This packet travels in the reply direction.
    pub reply: bool,
    /// `IPS_*` status bits.
    pub status: u32,
    /// Original and reply tuples: (src, dst, sport, dport), addresses as u32.
    pub orig: (u32, u32, u16, u16),
    pub repl: (u32, u32, u16, u16),
    /// Layer-4 protocol of the connection.
    pub proto: u8,
    /// Seconds until the entry expires.
    pub expires: u32,
    pub mark: u32,
    /// Helper name (`ftp`, `tftp`), empty for none.
    pub helper: &'static str,
    /// Whether the connection has a master (it was expected by a helper).
    pub has_master: bool,
    /// The helper of the master connection, empty for none (what `-m helper` looks at).
    pub master_helper: &'static str,
}

/// Address classes of `-m addrtype` (RTN_* as bits, `XT_ADDRTYPE_*`).
pub mod addrtype {
    pub const UNSPEC: u16 = 1 << 0;
    pub const UNICAST: u16 = 1 << 1;
    pub const LOCAL: u16 = 1 << 2;
    pub const BROADCAST: u16 = 1 << 3;
    pub const ANYCAST: u16 = 1 << 4;
    pub const MULTICAST: u16 = 1 << 5;
    pub const BLACKHOLE: u16 = 1 << 6;
    pub const UNREACHABLE: u16 = 1 << 7;
    pub const PROHIBIT: u16 = 1 << 8;
    pub const THROW: u16 = 1 << 9;
    pub const NAT: u16 = 1 << 10;
    pub const XRESOLVE: u16 = 1 << 11;
}

/// The host model, for matches that ask the routing tables.
pub trait HostFacts {
    /// `inet_dev_addr_type`: the address class of `addr`, optionally as seen
    /// from interface `dev` (`--limit-iface-in/out`).
    fn addr_type(&self, addr: u32, dev: Option<&str>) -> u16;
}

/// A host with no knowledge: every address is unicast.
pub struct NoHost;

impl HostFacts for NoHost {
    fn addr_type(&self, _addr: u32, _dev: Option<&str>) -> u16 {
        addrtype::UNICAST
    }
}

/// Everything a match may look at.
pub struct Facts<'p> {
    pub hook: Hook,
    pub table: TableKind,
    /// Input and output interface names; empty when the hook has none.
    pub in_iface: &'p str,
    pub out_iface: &'p str,
    pub src: u32,
    pub dst: u32,
    pub proto: u8,
    pub ttl: u8,
    pub tos: u8,
    /// Fragment offset in 8-byte units (0 for unfragmented and first fragments).
    pub frag_off: u16,
    /// IP total length: what counters and `-m length` count.
    pub len: u32,
    /// The packet from its IP header on (for string, u32, options).
    pub bytes: &'p [u8],
    /// IPv4 header length in bytes.
    pub ihl: u8,
    pub l4: L4Facts<'p>,
    /// The L4 header was needed but is cut short: matches "hotdrop".
    pub l4_truncated: bool,
    /// Source MAC (inbound Ethernet frames only).
    pub src_mac: Option<[u8; 6]>,
    /// The link-layer header the input device holds (destination MAC, source MAC,
    /// EtherType), what LOG prints after `MAC=`; `None` without an input device.
    pub mac_header: Option<[u8; 14]>,
    /// PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3, OUTGOING 4.
    pub pkttype: u8,
    /// `skb->mark`.
    pub mark: u32,
    /// `None` when conntrack gave the packet no entry (INVALID still has facts:
    /// `state` = INVALID).
    pub ct: CtFacts,
    /// Capture time in nanoseconds since the epoch.
    pub now_ns: u64,
    pub host: &'p dyn HostFacts,
}

impl Facts<'_> {
    /// The packet belongs to a connection (not INVALID, not UNTRACKED).
    pub fn has_conn(&self) -> bool {
        self.ct.state
            & (crate::ext::matches::state::INVALID | crate::ext::matches::state::UNTRACKED)
            == 0
    }
}

/// What a match says about a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchResult {
    Yes,
    No,
    /// The kernel's `par->hotdrop`: the packet is dropped on the spot.
    Hotdrop,
    /// Cannot be judged offline (the match depends on sockets, cgroups, time
    /// of a live system, ...): the outcome is flagged `depends_on: [name]`.
    Unknown(&'static str),
}

impl MatchResult {
    pub fn from_bool(b: bool) -> MatchResult {
        if b {
            MatchResult::Yes
        } else {
            MatchResult::No
        }
    }
}

/// A NAT mapping a target asks for (`nf_nat_range2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatRequest {
    /// Destination NAT (DNAT, REDIRECT) or source NAT (SNAT, MASQUERADE).
    pub dnat: bool,
    /// Address range; `None` keeps the address (port-only mapping) or, for
    /// MASQUERADE/REDIRECT, means "the interface's address".
    pub addrs: Option<(u32, u32)>,
    pub ports: Option<(u16, u16)>,
    /// MASQUERADE: take the outgoing interface's address.
    pub masquerade: bool,
    /// REDIRECT: the incoming interface's primary address (127.0.0.1 for
    /// locally generated packets).
    pub redirect: bool,
    /// NETMAP: map the address bit for bit into `addrs` (a prefix).
    pub netmap: bool,
    pub random: bool,
    pub random_fully: bool,
    pub persistent: bool,
}

/// What targets did to a packet besides their verdict. The walk applies
/// these to its facts as it goes, so later rules see a new mark or TTL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// New `skb->mark`.
    pub mark: Option<u32>,
    /// New connection mark.
    pub ct_mark: Option<u32>,
    /// `-j NOTRACK` / `CT --notrack`: the packet gets no conntrack entry.
    pub notrack: bool,
    /// `CT --helper NAME`.
    pub helper: Option<&'static str>,
    /// `CT --zone`.
    pub zone: Option<u16>,
    pub reject: Option<crate::ext::targets::reject::RejectWith>,
    pub nat: Option<NatRequest>,
    pub ttl: Option<u8>,
    pub tos: Option<u8>,
    /// TRACE was requested for this packet.
    pub trace: bool,
    /// Lines LOG writes to the kernel log (`nf_log_ip_packet`), in order; only
    /// collected when `want_log` (set by the walk when replay prints them).
    pub log: Vec<String>,
    pub want_log: bool,
}
