//! [`ack_in_window`] against the full model (`packet::packet`): on random packet sequences
//! of simulated connections (handshakes, loose pickups, data both ways, retransmissions,
//! out-of-window segments, window scaling, zero windows, SACK blocks, FIN/RST/SYN,
//! sequence adjustment) and on random entries whose numbers cluster so that every window
//! comparison meets its edge (and the 2^32 wrap), the fast path either declines without
//! writing anything or leaves exactly the full model's entry, status and timeout.

use super::*;
use crate::conntrack::proto::tcp::options::TcpOptions;
use crate::conntrack::proto::tcp::packet::{header_error, packet, tcp_error, tcp_new, Ctx};
use crate::conntrack::proto::L4Result;
use crate::test_rng::Rng;

/// A number near `base`: the edges of the window checks are within a few units.
fn near(rng: &mut Rng, base: u32, spread: u32) -> u32 {
    let d = rng.below(u64::from(spread) * 2 + 1) as u32;
    base.wrapping_add(d).wrapping_sub(spread)
}

/// How many times the fast path answered and declined, to show both were exercised.
#[derive(Default)]
struct Tally {
    hits: u64,
    declined: u64,
}

const REMAINING: u64 = 1_000_000_000_000;

/// Runs both models on copies of the same entry; asserts they agree whenever the fast path
/// answers, and that it wrote nothing when it declines. Returns the full model's outcome.
fn both(
    c: &TcpConn,
    st: Status,
    p: &Params,
    dir: Dir,
    seg: &Segment,
    off: u32,
    tally: &mut Tally,
) -> (TcpConn, Status, L4Result) {
    let (mut fc, mut fs) = (*c, st);
    let fast = ack_in_window(&mut fc, &mut fs, p, dir, seg, off);
    if let Some(why) = tcp_error(seg, false, true) {
        // The full model stops at tcp_error: the fast path must decline.
        assert_eq!((fast, fc, fs), (None, *c, st), "bad flags {seg:?}");
        tally.declined += 1;
        return (*c, st, L4Result::Invalid(why.into()));
    }
    let (mut sc, mut ss) = (*c, st);
    let mut remaining = REMAINING;
    let mut ctx = Ctx {
        status: &mut ss,
        params: p,
        remaining_ns: &mut remaining,
        ack_offset: off,
    };
    let full = packet(&mut sc, &mut ctx, dir, seg);
    let why = format!("{c:?} {st:?} {dir:?} {seg:?} off {off} {p:?}");
    match fast {
        Some(t) => {
            tally.hits += 1;
            assert_eq!(
                full,
                L4Result::Accept { timeout: Some(t) },
                "verdict: {why}"
            );
            assert_eq!(fc, sc, "entry: {why}");
            assert_eq!(fs, ss, "status: {why}");
            assert_eq!(remaining, REMAINING, "timer: {why}");
        }
        None => {
            tally.declined += 1;
            assert_eq!((fc, fs), (*c, st), "declined but wrote: {why}");
        }
    }
    (sc, ss, full)
}

fn params(rng: &mut Rng) -> Params {
    let mut p = Params {
        tcp_be_liberal: rng.chance(10),
        tcp_max_retrans: rng.below(5) as u8,
        ..Params::default()
    };
    if rng.chance(30) {
        // Small timeouts, so that every comparison between them goes both ways.
        let mut t = || 1 + rng.below(6) as u32;
        p.tcp.established = t();
        p.tcp.max_retrans = t();
        p.tcp.unacknowledged = t();
    }
    p
}

fn options(rng: &mut Rng, around: u32, spread: u32) -> TcpOptions {
    let mut o = TcpOptions::default();
    if rng.chance(40) {
        o.present = true;
        o.sack_perm = rng.chance(50);
        o.wscale = rng.chance(50).then(|| rng.below(15) as u8);
        o.sack_blocks = rng.below(5) as u8;
        for r in o.sack_right.iter_mut() {
            *r = near(rng, around, spread);
        }
    }
    o
}

fn flags_byte(rng: &mut Rng) -> u8 {
    use flags::*;
    let extra = [0, PSH, URG, ECE | CWR, PSH | URG][rng.below(5) as usize];
    match rng.below(40) {
        0 => SYN,
        1 => SYN | ACK,
        2 => FIN | ACK,
        3 => RST,
        4 => RST | ACK,
        5 => 0,
        6 => FIN,
        _ => ACK | extra,
    }
}

/// A segment of `dir` as a TCP peer of this entry might send it: mostly the next data or a
/// pure ACK, sometimes a retransmission, an old or future sequence number, a wild one.
fn segment(rng: &mut Rng, c: &TcpConn, dir: Dir) -> Segment {
    let (s, r) = (&c.seen[dir.idx()], &c.seen[dir.flip().idx()]);
    let seq = match rng.below(10) {
        0 => rng.next() as u32,
        1 => s.td_maxend.wrapping_add(rng.below(3) as u32),
        2 => s.td_end.wrapping_sub(rng.below(70_000) as u32),
        3 => s.td_end.wrapping_add(rng.below(70_000) as u32),
        4 => c.last_seq,
        _ => s.td_end,
    };
    let ack = match rng.below(10) {
        0 => rng.next() as u32,
        1 => 0,
        2 => r.td_end.wrapping_add(rng.below(3) as u32),
        3 => r.td_end.wrapping_sub(rng.below(140_000) as u32),
        4 => c.last_ack,
        _ => r.td_end,
    };
    let len = match rng.below(4) {
        0 => rng.below(40_000) as u32,
        1 => rng.below(1500) as u32,
        _ => 0,
    };
    let doff = if rng.chance(50) { 5 } else { 8 };
    Segment {
        sport: 1,
        dport: 2,
        flags: flags_byte(rng),
        seq,
        ack,
        window: match rng.below(4) {
            0 => 0,
            1 => rng.below(16) as u16,
            _ => (rng.next() as u32) as u16,
        },
        doff,
        l4_len: u32::from(doff) * 4 + len,
        opts: options(rng, r.td_end, 3000),
    }
}

/// One simulated connection: created by its first packet like `tcp_new`, then driven by the
/// full model's outcomes, comparing the fast path at every packet.
fn connection(rng: &mut Rng, tally: &mut Tally) {
    let p = params(rng);
    let isn = rng.next() as u32;
    let mut first = Segment {
        flags: if rng.chance(70) {
            flags::SYN
        } else {
            flags::ACK
        },
        seq: isn,
        ack: (rng.next() as u32),
        window: (rng.next() as u32) as u16,
        doff: 8,
        l4_len: 32,
        opts: options(rng, isn, 0),
        ..Default::default()
    };
    first.opts.sack_blocks = 0;
    let Ok(mut c) = tcp_new(&first, &p) else {
        return;
    };
    let mut st = Status(Status::CONFIRMED);
    let off = if rng.chance(10) {
        rng.below(50) as u32
    } else {
        0
    };
    for n in 0..60 {
        let dir = if rng.chance(50) {
            Dir::Original
        } else {
            Dir::Reply
        };
        // The handshake's answer first, with its options, so that windows get scaled.
        let seg = if n == 0 && first.flags == flags::SYN {
            Segment {
                flags: flags::SYN | flags::ACK,
                seq: (rng.next() as u32),
                ack: isn.wrapping_add(1),
                opts: options(rng, isn, 0),
                ..first
            }
        } else {
            segment(rng, &c, dir)
        };
        let dir = if n == 0 { Dir::Reply } else { dir };
        if header_error(&seg, false, true).is_some() {
            continue;
        }
        let (nc, mut ns, res) = both(&c, st, &p, dir, &seg, off, tally);
        match res {
            L4Result::Accept { .. } => {
                if dir == Dir::Reply {
                    ns.set(Status::SEEN_REPLY);
                }
                (c, st) = (nc, ns);
            }
            L4Result::Invalid(_) => (c, st) = (nc, ns),
            L4Result::Kill | L4Result::Repeat => return,
        }
    }
}

#[test]
fn agrees_with_the_full_model_on_packet_sequences() {
    let mut rng = Rng(0x5eed_0001);
    let mut tally = Tally::default();
    for _ in 0..20_000 {
        connection(&mut rng, &mut tally);
    }
    eprintln!(
        "sequences: {} fast, {} declined",
        tally.hits, tally.declined
    );
    assert!(tally.hits > 100_000, "fast path hits: {}", tally.hits);
    assert!(tally.declined > 100_000, "declined: {}", tally.declined);
}

/// A random entry whose numbers all lie within a few units of one base (possibly across the
/// 2^32 wrap), in any state, with any flags and status.
fn clustered_entry(rng: &mut Rng, base: u32) -> (TcpConn, Status) {
    let mut c = TcpConn::default();
    for peer in c.seen.iter_mut() {
        peer.td_end = near(rng, base, 8);
        peer.td_maxend = near(rng, base, 8);
        peer.td_maxwin = [0, 1, rng.below(16) as u32][rng.below(3) as usize];
        peer.td_maxack = near(rng, base, 8);
        peer.td_scale = rng.below(3) as u8;
        peer.flags = rng.next() as u8;
    }
    c.state = TcpState::ALL[rng.below(10) as usize];
    if rng.chance(50) {
        c.state = TcpState::Established;
    }
    c.last_dir = if rng.chance(50) {
        Dir::Original
    } else {
        Dir::Reply
    };
    c.last_index = Event::classify(flags_byte(rng));
    c.last_seq = near(rng, base, 8);
    c.last_ack = near(rng, base, 8);
    c.last_end = near(rng, base, 8);
    c.last_win = rng.below(3) as u16;
    c.retrans = rng.below(5) as u8;
    let bits = [Status::SEEN_REPLY, Status::ASSURED, Status::EXPECTED];
    let st = bits
        .iter()
        .filter(|_| rng.chance(50))
        .fold(Status(Status::CONFIRMED), |s, b| Status(s.0 | b));
    (c, st)
}

#[test]
fn agrees_with_the_full_model_at_the_window_edges() {
    let mut rng = Rng(0x5eed_0002);
    let mut tally = Tally::default();
    for _ in 0..300_000 {
        let p = params(&mut rng);
        let base = if rng.chance(30) {
            near(&mut rng, 0, 10)
        } else {
            rng.next() as u32
        };
        let (c, st) = clustered_entry(&mut rng, base);
        let doff = 5;
        let seg = Segment {
            flags: flags_byte(&mut rng),
            seq: near(&mut rng, base, 10),
            ack: near(&mut rng, base, 10),
            window: rng.below(4) as u16,
            doff,
            l4_len: 20 + rng.below(4) as u32,
            opts: options(&mut rng, base, 10),
            ..Default::default()
        };
        let dir = if rng.chance(50) {
            Dir::Original
        } else {
            Dir::Reply
        };
        let off = rng.below(3) as u32;
        if header_error(&seg, false, true).is_none() {
            both(&c, st, &p, dir, &seg, off, &mut tally);
        }
    }
    eprintln!("edges: {} fast, {} declined", tally.hits, tally.declined);
    assert!(tally.hits > 10_000, "fast path hits: {}", tally.hits);
    assert!(tally.declined > 10_000, "declined: {}", tally.declined);
}

/// Every flags byte the fast path accepts passes `tcp_error`'s flag check, which its caller
/// leaves out.
#[test]
fn accepted_flags_are_valid_flags() {
    let p = Params::default();
    let mut accepted = 0;
    for f in 0..=255u8 {
        let mut c = TcpConn {
            state: TcpState::Established,
            ..TcpConn::default()
        };
        for peer in c.seen.iter_mut() {
            peer.td_end = 100;
            peer.td_maxend = 1000;
            peer.td_maxwin = 1000;
        }
        let seg = Segment {
            flags: f,
            seq: 100,
            ack: 100,
            window: 1000,
            doff: 5,
            l4_len: 20,
            ..Default::default()
        };
        let mut st = Status(Status::CONFIRMED | Status::SEEN_REPLY);
        if ack_in_window(&mut c, &mut st, &p, Dir::Original, &seg, 0).is_some() {
            accepted += 1;
            assert_eq!(tcp_error(&seg, true, true), None, "flags {f:#04x}");
        }
    }
    // ACK and FIN-ACK, each with any of URG, PSH, ECE, CWR.
    assert_eq!(accepted, 32);
}
