//! Per-packet TCP tracking: `tcp_error`, `tcp_new` and `nf_conntrack_tcp_packet`.
//!
//! The state machine is data ([`super::next_state`]); this file holds the special cases the
//! kernel layers on top of it: reopening from TIME_WAIT/CLOSE (`-NF_REPEAT`), ignored packets
//! and the bookkeeping that lets a later SYN-ACK resynchronise, RFC 5961 challenge ACKs,
//! simultaneous open, the RST sequence checks, timeouts and ASSURED.
//! Invariant: a packet that returns [`L4Result::Invalid`] leaves the state untouched except
//! where the kernel also writes (`nf_tcp_handle_invalid`, the overshoot bookkeeping).

use super::options::before;
use super::window::{in_window, peer_flags, Peer, WindowIssue, WindowVerdict};
use super::{flags, next_state, Event, Next, Segment, TcpState};
use crate::conntrack::params::Params;
use crate::conntrack::proto::L4Result;
use crate::conntrack::status::Status;
use crate::conntrack::tuple::Dir;

/// Why TCP tracking declared a packet INVALID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpInvalid {
    /// `tcp_error`: header shorter than 20 bytes or than `doff`.
    Truncated,
    /// `tcp_error`: checksum wrong in PREROUTING with `nf_conntrack_checksum=1`.
    BadChecksum,
    /// `tcp_error`: flag combination not in `tcp_valid_flags`.
    BadFlags,
    /// `tcp_new`: this segment cannot open a connection ("invalid new", or loose=0).
    CannotCreate,
    /// The transition table says `sIV`.
    Transition {
        /// State before the packet.
        state: TcpState,
        /// Segment class.
        event: Event,
    },
    /// "invalid rst": RST sequence before the peer's highest ACK.
    Rst,
    /// Window check failed.
    Window(WindowIssue),
}

impl std::fmt::Display for TcpInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TcpInvalid::Truncated => f.write_str("truncated packet"),
            TcpInvalid::BadChecksum => f.write_str("bad checksum"),
            TcpInvalid::BadFlags => f.write_str("invalid tcp flag combination"),
            TcpInvalid::CannotCreate => f.write_str("invalid new"),
            TcpInvalid::Transition { state, event } => {
                write!(f, "packet ({event:?}) invalid in state {}", state.name())
            }
            TcpInvalid::Rst => f.write_str("invalid rst"),
            TcpInvalid::Window(w) => write!(f, "{w}"),
        }
    }
}

/// Per-connection TCP data (`struct ip_ct_tcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpConn {
    /// Current state.
    pub state: TcpState,
    /// Window data per direction.
    pub seen: [Peer; 2],
    /// Direction of the last in-window (or ignored) packet.
    pub last_dir: Dir,
    /// Class of the last in-window (or ignored) packet.
    pub last_index: Event,
    /// Sequence of the last ignored packet / ACK.
    pub last_seq: u32,
    /// Last ACK value noted.
    pub last_ack: u32,
    /// End sequence of the last ignored packet / ACK.
    pub last_end: u32,
    /// Raw window of the last ignored packet / ACK.
    pub last_win: u16,
    /// Window scale of the last ignored SYN.
    pub last_wscale: u8,
    /// Options of the last ignored SYN plus the private bits of [`peer_flags`].
    pub last_flags: u8,
    /// Identical ACKs seen in a row.
    pub retrans: u8,
}

/// `tcp_valid_flags`: valid combinations of FIN, SYN, RST, ACK, URG (PSH, ECE, CWR ignored).
/// Like the kernel's table, a lookup: bit `f` of [`VALID_FLAGS`] (the masked flags are below 64).
fn valid_flags(f: u8) -> bool {
    use flags::*;
    let f = f & !(ECE | CWR | PSH);
    VALID_FLAGS >> f & 1 == 1
}

/// The kernel's `tcp_valid_flags[]` entries that are true.
const VALID_COMBINATIONS: [u8; 9] = {
    use flags::*;
    [
        SYN,
        SYN | URG,
        SYN | ACK,
        RST,
        RST | ACK,
        FIN | ACK,
        FIN | ACK | URG,
        ACK,
        ACK | URG,
    ]
};

/// [`VALID_COMBINATIONS`], one bit each.
const VALID_FLAGS: u64 = {
    let mut bits = 0u64;
    let mut i = 0;
    while i < VALID_COMBINATIONS.len() {
        bits |= 1 << VALID_COMBINATIONS[i];
        i += 1;
    }
    bits
};

/// `tcp_error`: malformed headers, bad checksums (PREROUTING only) and bad flag combinations.
pub fn tcp_error(seg: &Segment, checksum_checked: bool, checksum_ok: bool) -> Option<TcpInvalid> {
    if let Some(why) = header_error(seg, checksum_checked, checksum_ok) {
        return Some(why);
    }
    if !valid_flags(seg.flags) {
        return Some(TcpInvalid::BadFlags);
    }
    None
}

/// The first two checks of `tcp_error`: a header shorter than 20 bytes or than `doff`, and
/// a bad checksum where it is verified.
#[inline]
pub fn header_error(
    seg: &Segment,
    checksum_checked: bool,
    checksum_ok: bool,
) -> Option<TcpInvalid> {
    let hdr = u32::from(seg.doff) * 4;
    if hdr < 20 || seg.l4_len < hdr {
        return Some(TcpInvalid::Truncated);
    }
    if checksum_checked && !checksum_ok {
        return Some(TcpInvalid::BadChecksum);
    }
    None
}

/// `tcp_new`: initialise a fresh entry from its first packet, or refuse to create one.
pub fn tcp_new(seg: &Segment, p: &Params) -> Result<TcpConn, TcpInvalid> {
    let mut c = TcpConn::default();
    let s = &mut c.seen[0];
    s.td_end = seg.end();
    s.td_maxwin = u32::from(seg.window).max(1);
    match next_state(Dir::Original, Event::classify(seg.flags), TcpState::None) {
        Next::To(TcpState::SynSent) => {
            s.td_maxend = s.td_end;
            s.apply_options(seg);
        }
        Next::To(_) if p.tcp_loose => {
            // Picked up mid-stream: assume SACK and check the window liberally, since the
            // window scale of either side is unknown.
            s.td_maxend = s.td_end.wrapping_add(s.td_maxwin);
            let f = peer_flags::SACK_PERM | peer_flags::BE_LIBERAL;
            c.seen[0].flags = f;
            c.seen[1].flags = f;
        }
        _ => return Err(TcpInvalid::CannotCreate),
    }
    c.last_index = Event::None;
    Ok(c)
}

/// What the caller knows about the entry besides its TCP data.
pub struct Ctx<'a> {
    /// Status bits; ASSURED may be set here.
    pub status: &'a mut Status,
    /// Sysctls.
    pub params: &'a Params,
    /// Nanoseconds until the entry expires (for `nf_tcp_handle_invalid`); updated in place.
    pub remaining_ns: &'a mut u64,
    /// `nf_ct_seq_offset(ct, !dir, ack - 1)`: how much NAT helpers lengthened the peer's
    /// stream up to this ack (`tcp_in_window` takes it off the ack and SACK); 0 without seqadj.
    pub ack_offset: u32,
}

/// `nf_conntrack_tcp_packet` after `tcp_error`/`tcp_new`.
pub fn packet(c: &mut TcpConn, ctx: &mut Ctx<'_>, dir: Dir, seg: &Segment) -> L4Result {
    let index = Event::classify(seg.flags);
    let (old, new) = match transition(c, dir, index, seg) {
        Ok(states) => states,
        Err(done) => return done,
    };
    let (new, skip_window) = match special_cases(c, ctx, dir, index, seg, old, new) {
        Ok(v) => v,
        Err(done) => return done,
    };
    if !skip_window {
        match in_window(c, dir, index, seg, ctx.params, ctx.ack_offset) {
            WindowVerdict::Accept => {}
            WindowVerdict::Ignore(_) => return L4Result::Accept { timeout: None },
            WindowVerdict::Invalid(why) => {
                handle_invalid(c, ctx, dir, index);
                return L4Result::Invalid(TcpInvalid::Window(why).into());
            }
        }
    }
    settle(c, ctx, dir, index, seg, old, new)
}

/// The table lookup with the reopen and "ignore" cases. `Ok((old, new))` continues; `Err`
/// is the packet's final result.
fn transition(
    c: &mut TcpConn,
    dir: Dir,
    index: Event,
    seg: &Segment,
) -> Result<(TcpState, TcpState), L4Result> {
    let old = c.state;
    // A SYN-ACK answering a SYN we ignored resynchronises as SYN_SENT → SYN_RECV.
    let resync = (TcpState::SynSent, TcpState::SynRecv);
    match next_state(dir, index, old) {
        Next::To(TcpState::SynSent) if old >= TcpState::TimeWait => {
            // RFC 1122 reopen from TIME_WAIT/CLOSE, or a client aborting and starting over:
            // delete the entry and look the packet up again.
            let closing = (c.seen[0].flags | c.seen[1].flags) & peer_flags::CLOSE_INIT != 0;
            if closing || (c.last_dir == dir && c.last_index == Event::Rst) {
                return Err(L4Result::Repeat);
            }
            ignored(c, dir, index, seg, old).map_or(Ok(resync), Err)
        }
        Next::To(s) => Ok((old, s)),
        Next::Ignore => ignored(c, dir, index, seg, old).map_or(Ok(resync), Err),
        // (The SYN proxy keep-alive exception needs a synproxy extension we never attach.)
        Next::Invalid => Err(L4Result::Invalid(
            TcpInvalid::Transition {
                state: old,
                event: index,
            }
            .into(),
        )),
    }
}

/// The per-state cases of the kernel's `switch (new_state)`: challenge ACK in LAST_ACK,
/// simultaneous open, RST checks. `Ok((new, skip_window))` continues.
fn special_cases(
    c: &mut TcpConn,
    ctx: &Ctx<'_>,
    dir: Dir,
    index: Event,
    seg: &Segment,
    old: TcpState,
    new: TcpState,
) -> Result<(TcpState, bool), L4Result> {
    match new {
        TcpState::TimeWait
            if old == TcpState::LastAck
                && index == Event::Ack
                && c.last_dir != dir
                && c.last_index == Event::Syn
                && c.last_flags & peer_flags::EXP_CHALLENGE_ACK != 0 =>
        {
            // RFC 5961 challenge ACK to a SYN in LAST_ACK: it does not ack the last FIN.
            c.last_flags &= !peer_flags::EXP_CHALLENGE_ACK;
            Err(L4Result::Accept { timeout: None })
        }
        TcpState::SynSent2 => {
            c.last_flags |= peer_flags::SIMULTANEOUS_OPEN;
            Ok((new, false))
        }
        TcpState::SynRecv
            if dir == Dir::Reply
                && index == Event::Ack
                && c.last_flags & peer_flags::SIMULTANEOUS_OPEN != 0 =>
        {
            Ok((TcpState::Established, false))
        }
        TcpState::Close if index == Event::Rst => match rst_checks(c, ctx, dir, seg, old) {
            RstCheck::Invalid => Err(L4Result::Invalid(TcpInvalid::Rst.into())),
            RstCheck::Window => Ok((new, false)),
            RstCheck::SkipWindow => Ok((new, true)),
            RstCheck::KeepState => Ok((old, false)),
            RstCheck::KeepStateSkipWindow => Ok((old, true)),
        },
        _ => Ok((new, false)),
    }
}

/// The `TCP_CONNTRACK_IGNORE` case. `None` means "a SYN-ACK answering a SYN we ignored":
/// resynchronise and continue as SYN_SENT → SYN_RECV.
fn ignored(
    c: &mut TcpConn,
    dir: Dir,
    index: Event,
    seg: &Segment,
    old: TcpState,
) -> Option<L4Result> {
    if index == Event::SynAck
        && c.last_index == Event::Syn
        && c.last_dir != dir
        && seg.ack == c.last_end
    {
        let ld = c.last_dir.idx();
        let p = &mut c.seen[ld];
        p.td_end = c.last_end;
        p.td_maxend = c.last_end;
        p.td_maxwin = u32::from(c.last_win).max(1);
        p.td_scale = c.last_wscale;
        c.last_flags &= !peer_flags::EXP_CHALLENGE_ACK;
        c.seen[ld].flags = c.last_flags;
        c.seen[dir.idx()].reset();
        return None;
    }
    c.last_index = index;
    c.last_dir = dir;
    c.last_seq = seg.seq;
    c.last_end = seg.end();
    c.last_win = seg.window;
    if index == Event::Syn && dir == Dir::Original {
        // The client and server may be in sync while we are not: remember the SYN's options so
        // that its SYN-ACK can resynchronise us.
        c.last_flags = 0;
        c.last_wscale = 0;
        if seg.opts.present {
            if let Some(s) = seg.opts.wscale {
                c.last_flags |= peer_flags::WINDOW_SCALE;
                c.last_wscale = s;
            }
            if seg.opts.sack_perm {
                c.last_flags |= peer_flags::SACK_PERM;
            }
        }
        if old == TcpState::LastAck {
            c.last_flags |= peer_flags::EXP_CHALLENGE_ACK;
        }
    }
    if old == TcpState::SynSent && index == Event::Ack && dir == Dir::Reply {
        // Possibly a challenge ACK answering the SYN.
        c.last_ack = seg.ack;
    }
    Some(L4Result::Accept { timeout: None })
}

enum RstCheck {
    Invalid,
    Window,
    SkipWindow,
    KeepState,
    KeepStateSkipWindow,
}

/// `nf_conntrack_tcp_established`.
fn established(c: &TcpConn, st: Status) -> bool {
    c.state == TcpState::Established && st.has(Status::ASSURED)
}

/// The RST branch of the `TCP_CONNTRACK_CLOSE` case.
fn rst_checks(c: &TcpConn, ctx: &Ctx<'_>, dir: Dir, seg: &Segment, old: TcpState) -> RstCheck {
    // tcp_can_early_drop: the tuple may already be reused, skip all validation.
    if matches!(
        old,
        TcpState::FinWait
            | TcpState::LastAck
            | TcpState::TimeWait
            | TcpState::Close
            | TcpState::CloseWait
    ) {
        return RstCheck::SkipWindow;
    }
    let peer = &c.seen[dir.flip().idx()];
    let mut keep = false;
    if peer.flags & peer_flags::MAXACK_SET != 0 && c.last_index != Event::Syn {
        let seq = seg.seq;
        let est = established(c, *ctx.status);
        if seq == 0 && !est {
            // Most likely the answer to a SYN we let through.
            return RstCheck::Window;
        }
        if before(seq, peer.td_maxack) && !ctx.params.tcp_ignore_invalid_rst {
            return RstCheck::Invalid;
        }
        if !est || seq == peer.td_maxack {
            return RstCheck::Window;
        }
        if c.last_index == Event::Ack && c.last_dir == dir && seq == c.last_end {
            // Part of a train: data then RST at its end.
            return RstCheck::Window;
        }
        // Sequence not exact: keep the state to allow a challenge ACK.
        keep = true;
    }
    let st = *ctx.status;
    let answers_ignored = (st.has(Status::SEEN_REPLY) && c.last_index == Event::Syn)
        || (!st.has(Status::ASSURED) && c.last_index == Event::Ack);
    if answers_ignored && seg.ack == c.last_end {
        // RST to a SYN or ACK we let through at "ignore": delete without window checks.
        return if keep {
            RstCheck::KeepStateSkipWindow
        } else {
            RstCheck::SkipWindow
        };
    }
    if old == TcpState::SynSent
        && c.last_index == Event::Ack
        && c.last_dir == Dir::Reply
        && seg.seq == c.last_ack
    {
        // Reset answering a challenge ACK we let through.
        return if keep {
            RstCheck::KeepStateSkipWindow
        } else {
            RstCheck::SkipWindow
        };
    }
    if keep {
        RstCheck::KeepState
    } else {
        RstCheck::Window
    }
}

/// `nf_tcp_handle_invalid`: an out-of-window FIN/RST answering a FIN/RST shortens the timeout
/// of an assured entry to the unacknowledged clock.
fn handle_invalid(c: &mut TcpConn, ctx: &mut Ctx<'_>, dir: Dir, index: Event) {
    if !ctx.status.has(Status::ASSURED) || ctx.status.has(Status::FIXED_TIMEOUT) {
        return;
    }
    if !matches!(index, Event::Rst | Event::Fin) {
        return;
    }
    if c.last_dir != dir && matches!(c.last_index, Event::Fin | Event::Rst) {
        let unack = secs_ns(ctx.params.tcp.unacknowledged);
        if *ctx.remaining_ns >= secs_ns(120) && *ctx.remaining_ns > unack {
            *ctx.remaining_ns = unack;
        }
    } else {
        c.last_index = index;
        c.last_dir = dir;
    }
}

fn secs_ns(s: u32) -> u64 {
    u64::from(s) * 1_000_000_000
}

/// The `in_window:` tail: commit the state, pick the timeout, set ASSURED or kill.
fn settle(
    c: &mut TcpConn,
    ctx: &mut Ctx<'_>,
    dir: Dir,
    index: Event,
    seg: &Segment,
    old: TcpState,
    new: TcpState,
) -> L4Result {
    commit(c, dir, index, old, new);
    if !ctx.status.has(Status::SEEN_REPLY) {
        if seg.has(flags::RST) {
            // Only answer is a RST: no connection, delete the entry at once.
            return L4Result::Kill;
        }
        if index == Event::Syn && old == TcpState::SynSent {
            // Do not renew the timeout on a SYN retransmission.
            return L4Result::Accept { timeout: None };
        }
    }
    L4Result::Accept {
        timeout: Some(timeout(c, ctx.status, ctx.params, index, old, new)),
    }
}

/// The start of the `in_window:` tail: the packet's class and direction are remembered and
/// the new state is taken.
#[inline(always)]
pub(super) fn commit(c: &mut TcpConn, dir: Dir, index: Event, old: TcpState, new: TcpState) {
    c.last_index = index;
    c.last_dir = dir;
    c.state = new;
    if old != new && new == TcpState::FinWait {
        c.seen[dir.idx()].flags |= peer_flags::CLOSE_INIT;
    }
}

/// The timeout (seconds) the `in_window:` tail picks after [`commit`], for a packet that is
/// not a RST or a retransmitted SYN of an entry without reply (those return before), and
/// the ASSURED rule.
#[inline(always)]
pub(super) fn timeout(
    c: &TcpConn,
    status: &mut Status,
    p: &Params,
    index: Event,
    old: TcpState,
    new: TcpState,
) -> u32 {
    let t = &p.tcp;
    let for_new = t.for_state(new);
    let unacked = (c.seen[0].flags | c.seen[1].flags) & peer_flags::DATA_UNACKNOWLEDGED != 0;
    let mut timeout = if c.retrans >= p.tcp_max_retrans && for_new > t.max_retrans {
        t.max_retrans
    } else if index == Event::Rst {
        t.close
    } else if unacked && for_new > t.unacknowledged {
        t.unacknowledged
    } else if c.last_win == 0 && for_new > t.max_retrans {
        t.max_retrans
    } else {
        for_new
    };
    if !status.has(Status::SEEN_REPLY) {
        if new == TcpState::Established && timeout > t.unacknowledged {
            // Picked up mid-stream without a reply yet.
            timeout = t.unacknowledged;
        }
    } else if !status.has(Status::ASSURED)
        && matches!(old, TcpState::SynRecv | TcpState::Established)
        && new == TcpState::Established
    {
        status.set(Status::ASSURED);
    }
    timeout
}

/// `nf_conntrack_tcp_set_closing` (REJECT --reject-with tcp-reset): force CLOSE and its timeout.
/// Returns the new timeout in seconds, or `None` when nothing changes it.
pub fn set_closing(c: &mut TcpConn, status: Status, p: &Params) -> Option<u32> {
    let old = c.state;
    c.state = TcpState::Close;
    if old == TcpState::Close || status.has(Status::FIXED_TIMEOUT) {
        return None;
    }
    Some(p.tcp.close)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_flags_is_tcp_valid_flags() {
        use flags::*;
        // What survives masking PSH, ECE and CWR must be one of the listed combinations.
        for f in 0..=255u8 {
            let want = VALID_COMBINATIONS.contains(&(f & !(PSH | ECE | CWR)));
            assert_eq!(valid_flags(f), want, "flags {f:#04x}");
        }
    }
}
