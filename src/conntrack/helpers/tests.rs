//! Table-level tests of helpers and expectations: the TFTP request/answer flow, replacement
//! of a master's expectation, clashes between masters, unconfirmed masters, expiry, and the
//! master being deleted.

use super::*;
use crate::conntrack::table::NS;
use crate::conntrack::{Hook, L4Info, PacketInfo, Params, Template, UdpDatagram};
use std::net::{IpAddr, Ipv4Addr};

fn udp(src: u8, dst: u8, sport: u16, dport: u16, ts_ns: u64) -> PacketInfo {
    PacketInfo {
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, src)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, dst)),
        proto: 17,
        l4: L4Info::Udp(UdpDatagram {
            sport,
            dport,
            length_field: 14,
            l4_len: 14,
        }),
        ts_ns,
        hook: Hook::LocalOut,
        checksum_ok: true,
    }
}

/// UDP header and a TFTP opcode.
fn tftp(op: u8) -> Vec<u8> {
    vec![0, 0, 0, 69, 0, 14, 0, 0, 0, op, b'f', 0, b'o', 0]
}

const TFTP: Template = Template {
    helper: Some(HelperKind::Tftp),
};

/// A TFTP request from .104:`sport` to .77:69, through help and confirm.
fn request(t: &mut Table, sport: u16, ts: u64) -> (Verdict, HelpVerdict) {
    let v = t.process_with(&udp(104, 77, sport, 69, ts), &TFTP);
    let h = t.help(&v, &tftp(1), ts);
    t.confirm(v.conn.unwrap()).unwrap();
    (v, h)
}

#[test]
fn tftp_request_expects_the_answer_from_any_port() {
    let mut t = Table::new(Params::default());
    let (v, h) = request(&mut t, 40069, NS);
    assert_eq!(h, HelpVerdict::Accept);
    let answer = t.process(&udp(77, 104, 50123, 40069, 2 * NS));
    assert_eq!(answer.state, CtState::Related);
    let c = t.get(answer.conn.unwrap()).unwrap();
    assert_eq!((c.master, c.helper), (v.conn, None));
    assert!(c.status.has(Status::EXPECTED));
    // Used up: a second answer from another port is NEW.
    t.confirm(answer.conn.unwrap()).unwrap();
    let other = t.process(&udp(77, 104, 50124, 40069, 3 * NS));
    assert_eq!(other.state, CtState::New);
}

#[test]
fn an_unconfirmed_master_expects_nothing_yet_and_a_discarded_one_never() {
    let mut t = Table::new(Params::default());
    let v = t.process_with(&udp(104, 77, 40069, 69, NS), &TFTP);
    assert_eq!(t.help(&v, &tftp(2), NS), HelpVerdict::Accept);
    assert_eq!(t.expectations(NS).count(), 1);
    t.discard(v.conn.unwrap());
    assert_eq!(
        t.expectations(NS).count(),
        0,
        "destroy_conntrack removes them"
    );
}

#[test]
fn a_retransmitted_request_replaces_and_another_master_clashes() {
    let mut t = Table::new(Params::default());
    let (v, _) = request(&mut t, 40069, NS);
    let again = t.process_with(&udp(104, 77, 40069, 69, 2 * NS), &TFTP);
    assert_eq!(t.help(&again, &tftp(1), 2 * NS), HelpVerdict::Accept);
    assert_eq!(t.expectations(2 * NS).count(), 1);
    // A second master expecting the very same tuple is refused: the packet is dropped.
    let m = v.conn.unwrap();
    let e = *t.expectations(2 * NS).next().unwrap();
    let (v2, _) = request(&mut t, 40070, 3 * NS);
    let clash = Expectation {
        master: v2.conn.unwrap(),
        ..e
    };
    assert_eq!(t.expect_related(clash, 3 * NS), Err(ExpectError::Clash));
    // Deleting the master deletes its expectation.
    t.remove(m);
    assert!(t.expectations(3 * NS).all(|x| x.master != m));
}

#[test]
fn one_expectation_per_master_and_expiry() {
    let mut t = Table::new(Params::default());
    let (v, _) = request(&mut t, 40069, NS);
    let e = *t.expectations(NS).next().unwrap();
    let mut other = e;
    other.tuple.dst = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 105));
    t.expect_related(other, NS).unwrap();
    let live: Vec<_> = t.expectations(NS).collect();
    assert_eq!(live.len(), 1, "max_expected = 1 evicts the older one");
    assert_eq!(live[0].tuple, other.tuple);
    assert_eq!(live[0].master, v.conn.unwrap());
    // 300 s later the timer has fired.
    let late = NS + u64::from(EXPECT_TIMEOUT) * NS;
    assert_eq!(t.expectations(late).count(), 0);
    assert_eq!(
        t.process(&udp(77, 105, 50000, 40069, late)).state,
        CtState::New
    );
}

#[test]
fn helpers_skip_related_replies_and_unhelped_connections() {
    let mut t = Table::new(Params::default());
    let v = t.process(&udp(104, 77, 40069, 69, NS));
    assert_eq!(t.help(&v, &tftp(1), NS), HelpVerdict::Accept);
    assert_eq!(t.expectations(NS).count(), 0, "no helper attached");
    let (v, _) = request(&mut t, 40070, NS);
    let icmp_reply = Verdict {
        state: CtState::Related,
        dir: Some(Dir::Reply),
        ..v
    };
    let before = t.expectations(NS).count();
    assert_eq!(t.help(&icmp_reply, &tftp(1), NS), HelpVerdict::Accept);
    assert_eq!(t.expectations(NS).count(), before);
}

#[test]
fn a_natted_tftp_request_makes_the_answer_follow_the_master() {
    use crate::conntrack::{Manip, NatRange};
    let mut t = Table::new(Params::default());
    // .104:40069 > .77:69, SNATed to .200 (the answer comes back to .200).
    let v = t.process_with(&udp(104, 77, 40069, 69, NS), &TFTP);
    let m = v.conn.unwrap();
    let to = u32::from(Ipv4Addr::new(10, 0, 0, 200));
    let snat = NatRange {
        addrs: Some((to, to)),
        ..NatRange::default()
    };
    t.nat_setup(m, &snat, Manip::Src, NS).unwrap();
    let HelpVerdict::Nat(req) = t.help(&v, &tftp(1), NS) else {
        panic!("a NATed master goes to the NAT helper");
    };
    assert_eq!(t.nat_help(req, 0, NS), Ok(false));
    t.confirm(m).unwrap();
    let answer = t.process(&udp(77, 200, 50123, 40069, 2 * NS));
    assert_eq!(answer.state, CtState::Related);
    let c = t.get(answer.conn.unwrap()).unwrap();
    // nf_nat_follow_master: to the master's real source, before any nat table.
    assert_eq!(c.tuple[1].to_string(), "10.0.0.104:40069>10.0.0.77:50123");
    assert!(c
        .status
        .has(Status::DST_NAT | Status::DST_NAT_DONE | Status::SRC_NAT_DONE));
}
