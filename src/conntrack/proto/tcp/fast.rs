//! The common TCP segment, tracked without the general machinery: an ACK or FIN-ACK (with or
//! without data, PSH, URG, ECE, CWR; no SYN or RST) whose sender conntrack already knows,
//! inside the window, in a state where no special case applies: the data and ACKs of an
//! ESTABLISHED connection, the ACK that completes the handshake, and the FIN/ACK teardown.
//!
//! For such a segment `nf_conntrack_tcp_packet` takes one straight path: the transition table
//! names the new state (`tcp_conntracks[dir][index][old]`, neither sIV nor sIG); no per-state
//! special case applies (the new state is not SYN_RECV, SYN_SENT or SYN_SENT2, and it is not
//! the challenge ACK in LAST_ACK); `tcp_in_window` neither (re)initialises the sender (its
//! `td_maxwin` is set and there is no SYN) nor substitutes numbers (ACK is set, RST is not),
//! checks I to IV pass, the sender and receiver data are updated and, for an ACK, the
//! retransmission counter runs; then the `in_window:` tail commits the state and picks the
//! timeout. [`ack_in_window`] decides all the conditions first, from the entry as it is, and
//! only then writes, with the full model's own update, commit and timeout code; when any
//! condition fails it returns `None` having changed nothing, and the caller runs the full model
//! ([`super::packet::packet`]), which then decides everything as before.
//!
//! Invariant: whenever [`ack_in_window`] returns `Some(t)`, the entry and status it leaves are
//! exactly what [`super::packet::packet`] leaves from the same inputs, which returns
//! `L4Result::Accept { timeout: Some(t) }` (the property tests at the bottom check this on
//! random packet sequences and random entries, including out-of-window segments,
//! retransmissions, window scaling, zero windows, SACK blocks and sequence adjustment).

use super::options::{after, before};
#[cfg(doc)]
use super::packet::header_error;
use super::packet::{commit, timeout, TcpConn};
use super::window::{max_ack_window, note_retransmission, peer_flags, update, Vals};
use super::{flags, next_state, Event, Next, Segment, TcpState};
use crate::conntrack::params::Params;
use crate::conntrack::status::Status;
use crate::conntrack::tuple::Dir;

/// `nf_conntrack_tcp_packet` for an in-window ACK or FIN-ACK of a known sender (see the module
/// docs). The caller has run `tcp_error`'s header and checksum checks ([`header_error`]: they
/// passed) and the entry is not new; the flag check is left out because every combination
/// accepted here (ACK or FIN-ACK, with or without URG, PSH, ECE, CWR) is one of
/// `tcp_valid_flags` (see the test `accepted_flags_are_valid_flags`).
/// `Some(timeout)` (seconds) when the segment was that common case and has been tracked;
/// `None`, with nothing changed, otherwise.
#[inline(always)]
pub fn ack_in_window(
    c: &mut TcpConn,
    status: &mut Status,
    p: &Params,
    dir: Dir,
    seg: &Segment,
    ack_offset: u32,
) -> Option<u32> {
    // get_conntrack_index: TCP_ACK_SET or TCP_FIN_SET, with the ACK bit (no substitute ack).
    let index = match seg.flags & (flags::SYN | flags::FIN | flags::RST | flags::ACK) {
        flags::ACK => Event::Ack,
        f if f == flags::FIN | flags::ACK => Event::Fin,
        _ => return None,
    };
    let old = c.state;
    if index == Event::Ack && old == TcpState::Established {
        // Most segments: the same steps with the states known, so that the compiler folds
        // the table lookup, the special cases and the timeout choice.
        return track(
            c,
            status,
            p,
            dir,
            seg,
            ack_offset,
            index,
            old,
            TcpState::Established,
        );
    }
    let Next::To(new) = next_state(dir, index, old) else {
        return None;
    };
    if matches!(
        new,
        TcpState::SynSent | TcpState::SynRecv | TcpState::SynSent2
    ) || challenge_ack(c, dir, index, old, new)
    {
        return None;
    }
    track(c, status, p, dir, seg, ack_offset, index, old, new)
}

/// The window check and the updates, once the transition is known to be a plain one.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn track(
    c: &mut TcpConn,
    status: &mut Status,
    p: &Params,
    dir: Dir,
    seg: &Segment,
    ack_offset: u32,
    index: Event,
    old: TcpState,
    new: TcpState,
) -> Option<u32> {
    let v = in_window_numbers(c, dir, seg, ack_offset)?;
    update(c, dir, seg, &v);
    if index == Event::Ack {
        note_retransmission(c, dir, &v, seg.window);
    }
    commit(c, dir, index, old, new);
    // Neither a RST nor a SYN: the tail's early returns do not apply.
    Some(timeout(c, status, p, index, old, new))
}

/// The LAST_ACK → TIME_WAIT case of `nf_conntrack_tcp_packet` for the challenge ACK answering a
/// SYN let through in LAST_ACK (it does not ack the last FIN): the full model handles it.
#[inline]
fn challenge_ack(c: &TcpConn, dir: Dir, index: Event, old: TcpState, new: TcpState) -> bool {
    new == TcpState::TimeWait
        && old == TcpState::LastAck
        && index == Event::Ack
        && c.last_dir != dir
        && c.last_index == Event::Syn
        && c.last_flags & peer_flags::EXP_CHALLENGE_ACK != 0
}

/// `tcp_in_window`'s numbers for a segment with ACK and without SYN or RST from a known sender,
/// when checks I to IV pass; `None` when the sender is unknown or a check fails.
#[inline(always)]
fn in_window_numbers(c: &TcpConn, dir: Dir, seg: &Segment, ack_offset: u32) -> Option<Vals> {
    let (sender, receiver) = (&c.seen[dir.idx()], &c.seen[dir.flip().idx()]);
    // tcp_in_window would initialise a sender it has not seen yet.
    if sender.td_maxwin == 0 {
        return None;
    }
    let sack = if receiver.flags & peer_flags::SACK_PERM != 0 {
        seg.opts.max_sack(seg.ack)
    } else {
        seg.ack
    };
    let v = Vals {
        seq: seg.seq,
        ack: seg.ack.wrapping_sub(ack_offset),
        sack: sack.wrapping_sub(ack_offset),
        end: seg.end(),
        // No SYN: the window is scaled.
        win: u32::from(seg.window).wrapping_shl(u32::from(sender.td_scale)),
    };
    // Checks I to IV, as `window::bounds` makes them; any failure is the full model's to
    // handle (ignore, overshoot bookkeeping, INVALID).
    let ack_low = (receiver.td_end)
        .wrapping_sub(max_ack_window(sender))
        .wrapping_sub(1);
    let low_edge = (sender.td_end)
        .wrapping_sub(receiver.td_maxwin)
        .wrapping_sub(1);
    let in_window = before(v.seq, sender.td_maxend.wrapping_add(1))
        && before(v.sack, receiver.td_end.wrapping_add(1))
        && (receiver.td_maxwin == 0 || after(v.end, low_edge))
        && after(v.sack, ack_low);
    in_window.then_some(v)
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
