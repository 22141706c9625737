//! TCP window tracking: `tcp_in_window` of nf_conntrack_proto_tcp.c (Linux 6.x, with the 2022
//! `NFCT_TCP_IGNORE` change: data below the window and overly old ACKs are ignored, not invalid).
//!
//! Per direction the kernel keeps (`struct ip_ct_tcp_state`):
//! `td_end` = max(seq + len) sent, `td_maxend` = max(ack + max(win, 1)) seen from the peer,
//! `td_maxwin` = max(win) (+ SACK slack) sent, `td_maxack`, `td_scale`, and flags.
//! The checks, with `sender`/`receiver` the two directions of the segment:
//! I. `seq <= sender.td_maxend`; II. `seq + len >= sender.td_end - receiver.td_maxwin`;
//! III. `sack <= receiver.td_end`; IV. `sack >= receiver.td_end - MAXACKWINDOW`.
//! Invariant: all arithmetic wraps modulo 2^32 like the kernel's `__u32`.

use super::options::{after, before};
use super::packet::TcpConn;
use super::{flags, Event, Segment, TcpState};
use crate::conntrack::params::Params;
use crate::conntrack::tuple::Dir;

/// `IP_CT_TCP_FLAG_*` and the two private `last_flags` bits.
pub mod peer_flags {
    /// Window scale option seen in the SYN.
    pub const WINDOW_SCALE: u8 = 0x01;
    /// SACK permitted.
    pub const SACK_PERM: u8 = 0x02;
    /// This side sent the first FIN.
    pub const CLOSE_INIT: u8 = 0x04;
    /// Window checks are liberal for this side (loose pickup).
    pub const BE_LIBERAL: u8 = 0x08;
    /// This side has data not yet acknowledged.
    pub const DATA_UNACKNOWLEDGED: u8 = 0x10;
    /// `td_maxack` holds a value.
    pub const MAXACK_SET: u8 = 0x20;
    /// `last_flags`: a SYN was let through in LAST_ACK; its challenge ACK must not close.
    pub const EXP_CHALLENGE_ACK: u8 = 0x40;
    /// `last_flags`: simultaneous open seen.
    pub const SIMULTANEOUS_OPEN: u8 = 0x80;
}

/// Window data of one direction (`struct ip_ct_tcp_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Peer {
    /// max(seq + len) sent.
    pub td_end: u32,
    /// max(ack + max(win, 1)) seen from the peer.
    pub td_maxend: u32,
    /// max(win) sent, 0 while nothing was seen from this side.
    pub td_maxwin: u32,
    /// Highest ACK sent.
    pub td_maxack: u32,
    /// Window scale.
    pub td_scale: u8,
    /// [`peer_flags`].
    pub flags: u8,
}

impl Peer {
    /// `nf_ct_tcp_state_reset`: forget everything but the liberal flag.
    pub fn reset(&mut self) {
        *self = Peer {
            flags: self.flags & peer_flags::BE_LIBERAL,
            ..Peer::default()
        };
    }

    /// `tcp_options` applied to this side: only when the header has options at all.
    pub fn apply_options(&mut self, seg: &Segment) {
        if !seg.opts.present {
            return;
        }
        self.td_scale = 0;
        self.flags &= peer_flags::BE_LIBERAL;
        if seg.opts.sack_perm {
            self.flags |= peer_flags::SACK_PERM;
        }
        if let Some(s) = seg.opts.wscale {
            self.td_scale = s;
            self.flags |= peer_flags::WINDOW_SCALE;
        }
    }
}

/// Result of the window check (`enum nf_ct_tcp_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowVerdict {
    /// In window: update the state.
    Accept,
    /// Let through without touching the state.
    Ignore(WindowIssue),
    /// Out of window: INVALID.
    Invalid(WindowIssue),
}

/// Why a segment failed the window check (the kernel's log messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowIssue {
    /// "N bytes more than expected": over the window but acked data may follow.
    Overshot,
    /// "SEQ is over upper bound (over the window of the receiver)".
    SeqOverUpperBound,
    /// "ACK is over upper bound (ACKed data not seen yet)".
    AckOverUpperBound,
    /// "SEQ is under lower bound (already ACKed data retransmitted)".
    SeqUnderLowerBound,
    /// "ignored ACK under lower bound (possible overly delayed)".
    AckUnderLowerBound,
}

impl std::fmt::Display for WindowIssue {
    /// The messages of `tcp_in_window`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WindowIssue::Overshot => "bytes more than expected",
            WindowIssue::SeqOverUpperBound => {
                "SEQ is over upper bound (over the window of the receiver)"
            }
            WindowIssue::AckOverUpperBound => "ACK is over upper bound (ACKed data not seen yet)",
            WindowIssue::SeqUnderLowerBound => {
                "SEQ is under lower bound (already ACKed data retransmitted)"
            }
            WindowIssue::AckUnderLowerBound => {
                "ignored ACK under lower bound (possible overly delayed)"
            }
        })
    }
}

const MAXACKWINCONST: u32 = 66000;

#[inline]
pub(super) fn max_ack_window(sender: &Peer) -> u32 {
    sender.td_maxwin.max(MAXACKWINCONST)
}

/// `tcp_init_sender`: (re)initialise a side from its SYN or SYN-ACK.
fn init_sender(conn: &mut TcpConn, dir: Dir, seg: &Segment, end: u32, win: u32) {
    let sender = &mut conn.seen[dir.idx()];
    sender.td_end = end;
    sender.td_maxend = end;
    sender.td_maxwin = win.max(1);
    sender.apply_options(seg);
    // RFC 7323: both sides must send the option for scaling to be used in either direction.
    let both = conn
        .seen
        .iter()
        .all(|p| p.flags & peer_flags::WINDOW_SCALE != 0);
    if dir == Dir::Reply && !both {
        conn.seen[0].td_scale = 0;
        conn.seen[1].td_scale = 0;
    }
}

/// `nf_tcp_log_invalid`: a liberal side or `tcp_be_liberal` turns every complaint into ACCEPT.
fn complain(conn: &TcpConn, dir: Dir, p: &Params, v: WindowVerdict) -> WindowVerdict {
    let liberal = conn.seen[dir.idx()].flags & peer_flags::BE_LIBERAL != 0 || p.tcp_be_liberal;
    if liberal {
        WindowVerdict::Accept
    } else {
        v
    }
}

/// The numbers `tcp_in_window` works with, after its adjustments.
pub(super) struct Vals {
    pub(super) seq: u32,
    pub(super) ack: u32,
    pub(super) sack: u32,
    pub(super) end: u32,
    pub(super) win: u32,
}

/// `tcp_in_window`. `conn.state` is still the old state here.
pub fn in_window(
    conn: &mut TcpConn,
    dir: Dir,
    index: Event,
    seg: &Segment,
    p: &Params,
    ack_offset: u32,
) -> WindowVerdict {
    let r = dir.flip().idx();
    let mut v = Vals {
        seq: seg.seq,
        ack: seg.ack,
        sack: seg.ack,
        end: seg.end(),
        win: u32::from(seg.window),
    };
    if conn.seen[r].flags & peer_flags::SACK_PERM != 0 {
        v.sack = seg.opts.max_sack(v.sack);
    }
    // NAT sequence adjustment: the peer acks bytes a NAT helper inserted (nf_ct_seq_offset).
    v.ack = v.ack.wrapping_sub(ack_offset);
    v.sack = v.sack.wrapping_sub(ack_offset);
    if sync_sender(conn, dir, seg, &v) {
        return WindowVerdict::Accept;
    }
    adjust(conn, dir, seg, &mut v);
    if let Some(verdict) = bounds(conn, dir, &v) {
        return complain(conn, dir, p, verdict);
    }
    if !seg.has(flags::SYN) {
        v.win = v.win.wrapping_shl(u32::from(conn.seen[dir.idx()].td_scale));
    }
    update(conn, dir, seg, &v);
    if index == Event::Ack {
        note_retransmission(conn, dir, &v, seg.window);
    }
    WindowVerdict::Accept
}

/// First sight of a side, or a new SYN in SYN_SENT/SYN_RECV: (re)initialise the sender.
/// Returns true when the kernel accepts right away (a SYN without ACK).
fn sync_sender(conn: &mut TcpConn, dir: Dir, seg: &Segment, v: &Vals) -> bool {
    let (s, r) = (dir.idx(), dir.flip().idx());
    if conn.seen[s].td_maxwin == 0 {
        if seg.has(flags::SYN) {
            // SYN-ACK in reply to a SYN, or SYN from the reply side in simultaneous open.
            init_sender(conn, dir, seg, v.end, v.win);
            return !seg.has(flags::ACK);
        }
        // Mid-connection: history is lost, use what this packet says.
        let sender = &mut conn.seen[s];
        sender.td_end = v.end;
        let swin = v.win.wrapping_shl(u32::from(sender.td_scale));
        sender.td_maxwin = swin.max(1);
        sender.td_maxend = v.end.wrapping_add(sender.td_maxwin);
        let receiver = &mut conn.seen[r];
        if receiver.td_maxwin == 0 {
            // Nothing seen the other way yet: make III and IV pass until it is.
            receiver.td_end = v.sack;
            receiver.td_maxend = v.sack;
        } else if v.sack == receiver.td_end.wrapping_add(1) {
            // Likely the answer to a keepalive.
            receiver.td_end = receiver.td_end.wrapping_add(1);
        }
    } else if seg.has(flags::SYN)
        && after(v.end, conn.seen[s].td_end)
        && matches!(conn.state, TcpState::SynSent | TcpState::SynRecv)
    {
        // RFC 793: a reinitialised TCP may reuse the tuple with higher sequence numbers.
        init_sender(conn, dir, seg, v.end, v.win);
        return dir == Dir::Reply && !seg.has(flags::ACK);
    }
    false
}

/// ACK-less segments, zero-ack RST/ACKs and RSTs answering a SYN get substitute numbers.
fn adjust(conn: &TcpConn, dir: Dir, seg: &Segment, v: &mut Vals) {
    let (s, r) = (dir.idx(), dir.flip().idx());
    let rst_ack = flags::ACK | flags::RST;
    if !seg.has(flags::ACK) || (seg.flags & rst_ack == rst_ack && v.ack == 0) {
        // No ACK: pretend it acknowledged everything (also for broken zero-ack RST/ACKs).
        v.ack = conn.seen[r].td_end;
        v.sack = v.ack;
    }
    if seg.has(flags::RST) && v.seq == 0 && conn.state == TcpState::SynSent {
        // RST answering a SYN.
        v.seq = conn.seen[s].td_end;
        v.end = v.seq;
    }
}

/// Checks I to IV; `Some` when one fails. The overshoot workaround updates the sender.
fn bounds(conn: &mut TcpConn, dir: Dir, v: &Vals) -> Option<WindowVerdict> {
    let (s, r) = (dir.idx(), dir.flip().idx());
    let (sender, receiver) = (conn.seen[s], conn.seen[r]);
    let ack_low = receiver
        .td_end
        .wrapping_sub(max_ack_window(&sender))
        .wrapping_sub(1);
    let low_edge = sender
        .td_end
        .wrapping_sub(receiver.td_maxwin)
        .wrapping_sub(1);
    if !before(v.seq, sender.td_maxend.wrapping_add(1)) {
        let overshot = v.end.wrapping_sub(sender.td_maxend).wrapping_add(1);
        let in_recv_win = receiver.td_maxwin != 0 && after(v.end, low_edge);
        if in_recv_win
            && after(v.sack, ack_low)
            && overshot <= receiver.td_maxwin
            && before(v.sack, receiver.td_end.wrapping_add(1))
        {
            // Peers that send more than the window allows: remember the data so that its
            // ACK does not fail check III later.
            let sender = &mut conn.seen[s];
            sender.td_end = v.end;
            sender.flags |= peer_flags::DATA_UNACKNOWLEDGED;
            return Some(WindowVerdict::Ignore(WindowIssue::Overshot));
        }
        return Some(WindowVerdict::Invalid(WindowIssue::SeqOverUpperBound));
    }
    if !before(v.sack, receiver.td_end.wrapping_add(1)) {
        return Some(WindowVerdict::Invalid(WindowIssue::AckOverUpperBound));
    }
    if receiver.td_maxwin != 0 && !after(v.end, low_edge) {
        return Some(WindowVerdict::Ignore(WindowIssue::SeqUnderLowerBound));
    }
    if !after(v.sack, ack_low) {
        return Some(WindowVerdict::Ignore(WindowIssue::AckUnderLowerBound));
    }
    None
}

/// The "update sender data" / "update receiver data" part of `tcp_in_window`.
///
/// Its `if`s stay branches: written as masked selects, the three data-dependent ones
/// (`td_end`, `td_maxack`, the receiver's `td_maxwin`) halved this file's simulated
/// mispredictions on the replay's path (callgrind, mix_100k/fwd_100: 0.73 -> 0.35 per
/// packet) but cost ~11 more instructions per packet and moved mispredictions to the
/// retransmission check after it (total -0.5 per packet, worth less than the instructions);
/// as plain `if`-expressions (cmov) the total mispredictions rose.
#[inline(always)]
pub(super) fn update(conn: &mut TcpConn, dir: Dir, seg: &Segment, u: &Vals) {
    let (s, r) = (dir.idx(), dir.flip().idx());
    let sender = &mut conn.seen[s];
    let swin = u.win.wrapping_add(u.sack.wrapping_sub(u.ack));
    if sender.td_maxwin < swin {
        sender.td_maxwin = swin;
    }
    if after(u.end, sender.td_end) {
        sender.td_end = u.end;
        sender.flags |= peer_flags::DATA_UNACKNOWLEDGED;
    }
    if seg.has(flags::ACK) {
        if sender.flags & peer_flags::MAXACK_SET == 0 {
            sender.td_maxack = u.ack;
            sender.flags |= peer_flags::MAXACK_SET;
        } else if after(u.ack, sender.td_maxack) {
            sender.td_maxack = u.ack;
        }
    }
    let sender_maxend = sender.td_maxend;
    let receiver = &mut conn.seen[r];
    if receiver.td_maxwin != 0 && after(u.end, sender_maxend) {
        receiver.td_maxwin = receiver
            .td_maxwin
            .wrapping_add(u.end.wrapping_sub(sender_maxend));
    }
    if after(
        u.sack.wrapping_add(u.win),
        receiver.td_maxend.wrapping_sub(1),
    ) {
        receiver.td_maxend = u.sack.wrapping_add(u.win);
        if u.win == 0 {
            receiver.td_maxend = receiver.td_maxend.wrapping_add(1);
        }
    }
    if u.ack == receiver.td_end {
        receiver.flags &= !peer_flags::DATA_UNACKNOWLEDGED;
    }
}

/// "Check retransmissions": identical consecutive ACK segments count towards max_retrans.
#[inline(always)]
pub(super) fn note_retransmission(conn: &mut TcpConn, dir: Dir, v: &Vals, win: u16) {
    if conn.last_dir == dir
        && conn.last_seq == v.seq
        && conn.last_ack == v.ack
        && conn.last_end == v.end
        && conn.last_win == win
    {
        conn.retrans = conn.retrans.wrapping_add(1);
    } else {
        conn.last_dir = dir;
        conn.last_seq = v.seq;
        conn.last_ack = v.ack;
        conn.last_end = v.end;
        conn.last_win = win;
        conn.retrans = 0;
    }
}
