//! TCP connection tracking, modelled on `net/netfilter/nf_conntrack_proto_tcp.c` (Linux 6.x).
//!
//! * this file: the states, the events (`get_conntrack_index`), the transition table
//!   `tcp_conntracks[dir][event][state]` as data, and the segment the evaluator hands in;
//! * [`options`]: the kernel's TCP option parsers (`tcp_options`, `tcp_sack`);
//! * [`window`]: `tcp_in_window` window tracking;
//! * [`packet`]: `tcp_error`, `tcp_new` and `nf_conntrack_tcp_packet`;
//! * [`fast`]: the same for the common in-window ACK or FIN-ACK of a known sender, in one pass.
//!
//! Invariant: the table is indexed `[Dir::idx()][Event as usize][TcpState as usize]` and every
//! cell is a state, `IV` (invalid) or `IG` (ignore), exactly as in the kernel.

pub mod fast;
pub mod options;
pub mod packet;
pub mod window;

pub use options::TcpOptions;
pub use packet::{TcpConn, TcpInvalid};

use super::super::tuple::Dir;

/// TCP flag bits as they appear in the flags byte of the header.
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
    /// ECE.
    pub const ECE: u8 = 0x40;
    /// CWR.
    pub const CWR: u8 = 0x80;
}

/// Conntrack TCP states (`enum tcp_conntrack`); the discriminants are the kernel's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum TcpState {
    /// Initial state of an entry not yet classified.
    #[default]
    None = 0,
    /// SYN seen.
    SynSent = 1,
    /// SYN-ACK seen.
    SynRecv = 2,
    /// ACK of the handshake (or a picked-up connection).
    Established = 3,
    /// FIN seen.
    FinWait = 4,
    /// ACK after FIN.
    CloseWait = 5,
    /// FIN seen in both directions.
    LastAck = 6,
    /// Last ACK seen.
    TimeWait = 7,
    /// Closed by RST.
    Close = 8,
    /// SYN seen from the reply direction (simultaneous open).
    SynSent2 = 9,
}

impl TcpState {
    const ALL: [TcpState; 10] = [
        TcpState::None,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::Established,
        TcpState::FinWait,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::SynSent2,
    ];

    /// The kernel's name (`tcp_conntrack_names`), as conntrack(8) and the oracle print it.
    pub const fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::SynSent2 => "SYN_SENT2",
        }
    }

    /// Parses a kernel state name.
    pub fn from_name(s: &str) -> Option<TcpState> {
        TcpState::ALL.into_iter().find(|st| st.name() == s)
    }
}

/// Segment classes (`enum tcp_bit_set`), the middle index of the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Event {
    /// SYN without ACK.
    Syn = 0,
    /// SYN with ACK.
    SynAck = 1,
    /// FIN (without SYN or RST).
    Fin = 2,
    /// ACK only (PSH/URG/ECE/CWR do not matter).
    Ack = 3,
    /// RST, whatever else is set.
    Rst = 4,
    /// None of the above.
    #[default]
    None = 5,
}

impl Event {
    /// `get_conntrack_index`: RST beats SYN, SYN beats FIN, FIN beats ACK. A lookup in
    /// `EVENTS` (every TCP packet is classified; the branches cost more than the lookup).
    pub const fn classify(tcp_flags: u8) -> Event {
        EVENTS[tcp_flags as usize]
    }

    /// The rule [`EVENTS`] is built from.
    const fn rule(tcp_flags: u8) -> Event {
        if tcp_flags & flags::RST != 0 {
            Event::Rst
        } else if tcp_flags & flags::SYN != 0 {
            if tcp_flags & flags::ACK != 0 {
                Event::SynAck
            } else {
                Event::Syn
            }
        } else if tcp_flags & flags::FIN != 0 {
            Event::Fin
        } else if tcp_flags & flags::ACK != 0 {
            Event::Ack
        } else {
            Event::None
        }
    }
}

/// [`Event::classify`] of every flags byte.
const EVENTS: [Event; 256] = {
    let mut t = [Event::None; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = Event::rule(i as u8);
        i += 1;
    }
    t
};

/// A TCP segment, as the evaluator decodes it. Only what conntrack reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Segment {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// The flags byte (see [`flags`]).
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (read even without ACK, as the kernel does).
    pub ack: u32,
    /// Raw (unscaled) window.
    pub window: u16,
    /// Data offset in 32-bit words (`doff`).
    pub doff: u8,
    /// Bytes from the start of the TCP header to the end of the IP payload (`skb->len - dataoff`).
    pub l4_len: u32,
    /// Parsed options; see [`TcpOptions::parse`].
    pub opts: TcpOptions,
}

impl Segment {
    /// Whether any flag of `mask` is set.
    pub const fn has(&self, mask: u8) -> bool {
        self.flags & mask != 0
    }

    /// Payload length: `skb->len - dataoff - doff*4` (saturating: `tcp_error` rejects shorter).
    pub fn payload_len(&self) -> u32 {
        self.l4_len.saturating_sub(u32::from(self.doff) * 4)
    }

    /// `segment_seq_plus_len`: sequence number after this segment (SYN and FIN count one).
    pub fn end(&self) -> u32 {
        self.seq
            .wrapping_add(self.payload_len())
            .wrapping_add(u32::from(self.has(flags::SYN)))
            .wrapping_add(u32::from(self.has(flags::FIN)))
    }
}

// Cells of the transition table, named like the kernel's sNO..sS2, sIV, sIG.
#[allow(dead_code)] // sNO is a column, never a target; kept so the names line up.
const NO: u8 = 0;
const SS: u8 = 1;
const SR: u8 = 2;
const ES: u8 = 3;
const FW: u8 = 4;
const CW: u8 = 5;
const LA: u8 = 6;
const TW: u8 = 7;
const CL: u8 = 8;
const S2: u8 = 9;
const IV: u8 = 10;
const IG: u8 = 11;

/// `tcp_conntracks` of Linux 6.x. Columns are the old state: sNO sSS sSR sES sFW sCW sLA sTW sCL sS2.
#[rustfmt::skip]
const TCP_CONNTRACKS: [[[u8; 10]; 6]; 2] = [
    [
        // ORIGINAL
        //        NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
        /*syn*/  [SS, SS, IG, IG, IG, IG, IG, SS, SS, S2],
        //   NO→SS new connection; SS→SS retransmitted SYN; S2→S2 late retransmitted SYN;
        //   SR..LA→IG a SYN inside a connection is an error the receiver answers (RST or
        //   challenge ACK) or we are out of sync; TW,CL→SS reopened connection (RFC 1122).
        /*synack*/[IV, IV, SR, IV, IV, IV, IV, IV, IV, SR],
        //   the client cannot send SYN-ACK, except in simultaneous open: S2→SR, SR→SR (late
        //   retransmission in simultaneous open).
        /*fin*/  [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
        //   NO,SS,S2→IV a FIN needs a SYN-ACK first; SR,ES→FW close started; FW,CW→LA FIN seen
        //   both ways; LA→LA retransmitted FIN; TW→TW; CL→CL.
        /*ack*/  [ES, IV, ES, ES, CW, CW, TW, TW, CL, IV],
        //   NO→ES assumed (loose pickup); SS→IV no SYN-ACK yet; SR→ES handshake done;
        //   FW→CW close answered by ACK; LA→TW last ACK (RFC 5961 challenged); TW→TW; CL→CL.
        /*rst*/  [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
        /*none*/ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
    ],
    [
        // REPLY
        //        NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
        /*syn*/  [IV, S2, IV, IV, IV, IV, IV, SS, IV, S2],
        //   SS→S2 simultaneous open; S2→S2 retransmitted; TW→SS reopened with the roles
        //   switched; everything else is an invalid SYN from the server.
        /*synack*/[IV, SR, IG, IG, IG, IG, IG, IG, IG, SR],
        //   SS→SR standard open; S2→SR simultaneous open; later states: IG, a retransmitted
        //   SYN-ACK, or one answering a SYN we ignored.
        /*fin*/  [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
        /*ack*/  [IV, IG, SR, ES, CW, CW, TW, TW, CL, IG],
        //   SS→IG might be a half-open connection (challenge ACK); SR→SR might answer a late
        //   resent SYN; ES→ES; FW→CW; LA→TW; TW→TW; CL→CL.
        /*rst*/  [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
        /*none*/ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
    ],
];

/// One cell of the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Move to this state (subject to the window check).
    To(TcpState),
    /// `sIV`: the packet is invalid.
    Invalid,
    /// `sIG`: let the packet through without changing the state.
    Ignore,
}

/// Looks up `tcp_conntracks[dir][event][state]`.
pub fn next_state(dir: Dir, event: Event, state: TcpState) -> Next {
    let cell = TCP_CONNTRACKS
        .get(dir.idx())
        .and_then(|d| d.get(event as usize))
        .and_then(|e| e.get(state as usize))
        .copied()
        .unwrap_or(IV);
    match cell {
        IV => Next::Invalid,
        IG => Next::Ignore,
        n => TcpState::ALL
            .get(usize::from(n))
            .map_or(Next::Invalid, |s| Next::To(*s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_precedence() {
        use flags::*;
        assert_eq!(Event::classify(SYN | RST), Event::Rst);
        assert_eq!(Event::classify(SYN | FIN), Event::Syn);
        assert_eq!(Event::classify(SYN | ACK | FIN), Event::SynAck);
        assert_eq!(Event::classify(FIN | ACK), Event::Fin);
        assert_eq!(Event::classify(PSH | ACK), Event::Ack);
        assert_eq!(Event::classify(PSH | URG), Event::None);
        assert_eq!(Event::classify(0), Event::None);
        for f in 0..=255u8 {
            assert_eq!(Event::classify(f), Event::rule(f), "flags {f:#04x}");
        }
    }

    #[test]
    fn table_spot_checks() {
        use TcpState::*;
        assert_eq!(
            next_state(Dir::Original, Event::Syn, None),
            Next::To(SynSent)
        );
        assert_eq!(
            next_state(Dir::Original, Event::Ack, None),
            Next::To(Established)
        );
        assert_eq!(
            next_state(Dir::Original, Event::SynAck, None),
            Next::Invalid
        );
        assert_eq!(
            next_state(Dir::Reply, Event::SynAck, SynSent),
            Next::To(SynRecv)
        );
        assert_eq!(
            next_state(Dir::Reply, Event::SynAck, Established),
            Next::Ignore
        );
        assert_eq!(
            next_state(Dir::Original, Event::Syn, Established),
            Next::Ignore
        );
        assert_eq!(
            next_state(Dir::Reply, Event::Syn, TimeWait),
            Next::To(SynSent)
        );
        assert_eq!(next_state(Dir::Reply, Event::Ack, SynSent), Next::Ignore);
        assert_eq!(
            next_state(Dir::Original, Event::Fin, LastAck),
            Next::To(LastAck)
        );
        for s in TcpState::ALL {
            assert_eq!(next_state(Dir::Original, Event::None, s), Next::Invalid);
            assert_eq!(TcpState::from_name(s.name()), Some(s));
        }
    }

    #[test]
    fn segment_end_counts_syn_and_fin() {
        let s = Segment {
            flags: flags::SYN | flags::FIN,
            seq: u32::MAX,
            doff: 5,
            l4_len: 30,
            ..Default::default()
        };
        assert_eq!(s.payload_len(), 10);
        assert_eq!(s.end(), 11);
    }
}
