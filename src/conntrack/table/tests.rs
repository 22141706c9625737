//! Tests of the connection table: confirm, clashes, stale ids, expectations, the gc sweep and the slot layout.

use super::*;
use crate::conntrack::{CtState, Hook, L4Info, L4Key, PacketInfo, UdpDatagram};
use std::net::{IpAddr, Ipv4Addr};

fn udp(src: u8, dst: u8, sport: u16, dport: u16, ts_ns: u64) -> PacketInfo {
    PacketInfo {
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, src)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, dst)),
        proto: 17,
        l4: L4Info::Udp(UdpDatagram {
            sport,
            dport,
            length_field: 12,
            l4_len: 12,
        }),
        ts_ns,
        hook: Hook::PreRouting,
        checksum_ok: true,
    }
}

#[test]
fn confirm_discard_and_stale_ids() {
    let mut t = Table::new(Params::default());
    let v = t.process(&udp(1, 2, 1000, 53, NS));
    let id = v.conn.unwrap();
    assert!(v.unconfirmed && !t.is_confirmed(id) && t.is_empty());
    t.confirm(id).unwrap();
    assert_eq!(t.confirm(id), Ok(()), "confirming twice is harmless");
    assert_eq!(t.len(), 1);
    t.discard(id);
    assert_eq!(
        t.len(),
        1,
        "a dropped packet does not delete a confirmed entry"
    );
    t.remove(id);
    assert!(t.get(id).is_none() && t.is_empty());
    let v2 = t.process(&udp(1, 2, 1000, 53, 2 * NS));
    assert_ne!(v2.conn, Some(id), "a reused slot gets a new generation");
    assert_eq!(t.confirm(id), Err(ConfirmError::Stale));
}

#[test]
fn unconfirmed_entry_is_dropped_by_the_next_packet() {
    let mut t = Table::new(Params::default());
    let first = t.process(&udp(1, 2, 1000, 53, NS)).conn.unwrap();
    let v = t.process(&udp(1, 2, 1000, 53, 2 * NS));
    assert_eq!(v.state, CtState::New);
    assert!(t.get(first).is_none());
}

#[test]
fn clash_on_confirm_drops() {
    let mut t = Table::new(Params::default());
    let a = t.process(&udp(1, 2, 1000, 53, NS)).conn.unwrap();
    // NAT rewrote the reply of a second flow onto the first flow's reply tuple.
    t.confirm(a).unwrap();
    let b = t.process(&udp(3, 2, 1000, 53, NS)).conn.unwrap();
    let taken = t.get(a).unwrap().tuple[1];
    assert!(t.alter_reply(b, taken));
    assert_eq!(t.confirm(b), Err(ConfirmError::Clash));
    assert!(t.get(b).is_none());
}

#[test]
fn memory_stays_bounded_with_expiring_flows() {
    // 100k one-packet UDP flows, 2 ms apart, 30 s timeout: about 15k are alive at any
    // time; the incremental sweep (two slots per packet) must keep the slab near that.
    let mut t = Table::new(Params::default());
    for i in 0..100_000u32 {
        let now = u64::from(i) * 2_000_000;
        let p = udp((i % 200) as u8, 250, (i / 200) as u16 + 1, 53, now);
        if let Some(id) = t.process(&p).conn {
            t.confirm(id).unwrap();
        }
    }
    assert!(t.len() < 35_000, "{} entries kept", t.len());
    assert!(t.slots.len() < 35_000, "{} slots", t.slots.len());
}

#[test]
fn expired_entries_are_collected() {
    let mut t = Table::new(Params::default());
    let id = t.process(&udp(1, 2, 1000, 53, NS)).conn.unwrap();
    t.confirm(id).unwrap();
    t.gc(30 * NS);
    assert_eq!(t.len(), 1);
    t.gc(31 * NS);
    assert!(t.is_empty() && t.get(id).is_none());
}

#[test]
fn live_entries_are_the_confirmed_unexpired_ones() {
    let mut t = Table::new(Params::default());
    let id = t.process(&udp(1, 2, 1000, 53, NS)).conn.unwrap();
    // Unconfirmed: not in the table yet.
    assert_eq!(t.live_len(NS), 0);
    t.confirm(id).unwrap();
    let other = t.process(&udp(1, 3, 1000, 53, 2 * NS)).conn.unwrap();
    t.confirm(other).unwrap();
    assert_eq!(t.live_len(2 * NS), 2);
    // The first one's 30 s run out first; expired but not collected, it still counts
    // in `len`, not in `live_len`.
    assert_eq!((t.live_len(31 * NS), t.len()), (1, 2));
    assert_eq!(t.live_len(32 * NS), 0);
}

#[test]
fn expectation_makes_the_first_packet_related() {
    let mut t = Table::new(Params::default());
    let m = t.process(&udp(1, 2, 1000, 69, NS)).conn.unwrap();
    t.confirm(m).unwrap();
    t.set_mark(m, 7);
    let data = Tuple {
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        proto: 17,
        l4: L4Key::Ports { src: 0, dst: 1000 },
    };
    let e = Expectation {
        master: m,
        tuple: data,
        match_src_addr: true,
        match_src_port: false,
        helper: None,
        expires_ns: 300 * NS,
        nat: None,
    };
    t.expect_related(e, 2 * NS).unwrap();
    let v = t.process(&udp(2, 1, 3333, 1000, 2 * NS));
    assert_eq!(v.state, CtState::Related);
    let c = t.get(v.conn.unwrap()).unwrap();
    assert!(c.status.has(Status::EXPECTED));
    assert_eq!((c.master, c.mark), (Some(m), 7));
    assert!(t.expectations.is_empty(), "an expectation is used once");
}

/// What every packet touches of its entry lies in the first three cache lines of the slot.
#[test]
fn hot_fields_fill_the_first_lines_of_a_slot() {
    use std::mem::{align_of, offset_of, size_of};
    assert_eq!(align_of::<Slot>(), 64);
    // The niche holds `None`, so the entry starts where the option does.
    assert_eq!(size_of::<Option<Conn>>(), size_of::<Conn>());
    let base = offset_of!(Slot, conn);
    let seqadj_end = offset_of!(Conn, help) + size_of::<[super::super::helpers::SeqAdj; 2]>();
    assert!(
        base + seqadj_end <= 3 * 64,
        "hot part ends at {}",
        base + seqadj_end
    );
    assert!(offset_of!(Conn, tuple) >= seqadj_end);
    // `master`'s tag holds `Option<Conn>`'s `None`: a presence check reads the first line.
    let master_end = base + offset_of!(Conn, master) + size_of::<Option<ConnId>>();
    assert!(master_end <= 64, "master ends at {master_end}");
}
