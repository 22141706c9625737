//! The NAT halves of the helpers: `nf_nat_ftp.c` and `nf_nat_tftp.c`, with the sequence
//! adjustment `nf_nat_mangle_tcp_packet` leaves behind (`nf_conntrack_seqadj.c`).
//!
//! When the master connection is NATed, the conntrack helper hands its parsed command to the
//! NAT helper ([`super::HelpVerdict::Nat`]). `nf_nat_ftp` writes the address the peer must use
//! (the master's other direction's destination) and the port it could reserve into the
//! payload, and registers the expectation with `nf_nat_follow_master` as its `expectfn`: the
//! expected connection is then NATed to the real endpoint when it is created
//! ([`Table::nat_follow_master`]) and never traverses the nat table. A rewrite that changes the
//! payload length shifts every later sequence number of that direction; conntrack takes the
//! shift off the peer's acks (`nf_ct_seq_offset` in `tcp_in_window`). `nf_nat_tftp` only
//! registers the expectation, without rewriting.
//!
//! Invariant: offsets are kept as wrapping `u32` (the kernel's `s32` in sequence space).

use std::net::IpAddr;

use super::ftp::{FtpMatch, FtpType};
use super::NatRequest;
use crate::conntrack::entry::HelperKind;
use crate::conntrack::status::Status;
use crate::conntrack::table::{ExpectNat, Table};
use crate::conntrack::tuple::{Dir, L4Key};
use crate::conntrack::ExpectError;

/// One direction's sequence adjustment (`struct nf_ct_seqadj`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeqAdj {
    /// Sequence number of the last rewritten segment.
    pub correction_pos: u32,
    /// Offset for sequence numbers up to `correction_pos`.
    pub offset_before: u32,
    /// Offset for sequence numbers after it.
    pub offset_after: u32,
}

impl SeqAdj {
    /// `nf_ct_seq_offset`: the offset that applies to `seq`.
    pub fn offset(&self, seq: u32) -> u32 {
        if (self.correction_pos.wrapping_sub(seq) as i32) < 0 {
            self.offset_after
        } else {
            self.offset_before
        }
    }

    /// `nf_ct_seqadj_set`: a segment starting at `seq` grew by `off` bytes. A second rewrite
    /// of the same or an earlier segment (a retransmission) does not move the position.
    fn set(&mut self, seq: u32, off: i32) {
        if off == 0 {
            return;
        }
        if self.offset_before == self.offset_after
            || (self.correction_pos.wrapping_sub(seq) as i32) < 0
        {
            self.correction_pos = seq;
            self.offset_before = self.offset_after;
            self.offset_after = self.offset_after.wrapping_add(off as u32);
        }
    }
}

/// `nf_nat_ftp_fmt_cmd`: the text that replaces the command's numbers.
fn fmt_cmd(kind: FtpType, addr: IpAddr, port: u16) -> String {
    match (kind, addr) {
        (FtpType::Port | FtpType::Pasv, IpAddr::V4(a)) => {
            let [a, b, c, d] = a.octets();
            format!("{a},{b},{c},{d},{},{}", port >> 8, port & 0xff)
        }
        (FtpType::Eprt, IpAddr::V4(a)) => format!("|1|{a}|{port}|"),
        (FtpType::Eprt, IpAddr::V6(a)) => format!("|2|{a}|{port}|"),
        (FtpType::Epsv, _) => format!("|||{port}|"),
        // PORT/227 of an IPv6 connection: the kernel prints the v4 bytes of the union.
        (FtpType::Port | FtpType::Pasv, IpAddr::V6(_)) => String::new(),
    }
}

impl Table {
    /// The NAT helper for a command parsed on a NATed master (`nf_nat_ftp`, `nf_nat_tftp`);
    /// `seq` is the segment's sequence number. `Ok(true)`: the announced port was taken, and
    /// the kernel draws the expected port at random. `Err` carries the kernel's log text when
    /// the packet is dropped.
    pub fn nat_help(
        &mut self,
        req: NatRequest,
        seq: u32,
        now_ns: u64,
    ) -> Result<bool, &'static str> {
        let master = req.expect.master;
        let conn = self.get(master).ok_or("cannot add expectation")?;
        let mut exp = req.expect;
        match (req.helper, req.ftp) {
            (HelperKind::Ftp, Some(m)) => {
                // "Connection will come from wherever this packet goes, hence !dir."
                let newaddr = conn.tuple[req.dir.flip().idx()].dst;
                let saved = match exp.tuple.l4 {
                    L4Key::Ports { dst, .. } => dst,
                    _ => m.port,
                };
                exp.nat = Some(ExpectNat {
                    dir: req.dir.flip(),
                    saved_port: saved,
                });
                let port = self
                    .exp_find_port(exp, saved, now_ns)
                    .ok_or("all ports in use")?;
                self.mangle(master, req.dir, seq, &m, fmt_cmd(m.kind, newaddr, port));
                Ok(port != saved)
            }
            (HelperKind::Tftp, _) => {
                let saved = match conn.tuple[0].l4 {
                    L4Key::Ports { src, .. } => src,
                    _ => 0,
                };
                exp.nat = Some(ExpectNat {
                    dir: Dir::Reply,
                    saved_port: saved,
                });
                self.expect_related(exp, now_ns)
                    .map(|()| false)
                    .map_err(|_| "cannot add expectation")
            }
            (HelperKind::Ftp, None) => Ok(false),
        }
    }

    /// `nf_nat_exp_find_port`: the expectation at the port named if it is free, else at
    /// another one. The kernel then tries random ports of `port..65535` (up to 128 times); the
    /// next free port upwards is taken here. `None` when no port could be registered.
    fn exp_find_port(
        &mut self,
        mut exp: super::super::table::Expectation,
        port: u16,
        now_ns: u64,
    ) -> Option<u16> {
        let mut p = port;
        for _ in 0..=128 {
            if let L4Key::Ports { dst, .. } = &mut exp.tuple.l4 {
                *dst = p;
            }
            match self.expect_related(exp, now_ns) {
                Ok(()) => return Some(p),
                Err(ExpectError::Clash) => p = p.checked_add(1)?,
                Err(_) => return None,
            }
        }
        None
    }

    /// `nf_nat_mangle_tcp_packet`: the payload's numbers become `text`; a length change is
    /// remembered for the direction's later segments (`nf_ct_seqadj_set`).
    fn mangle(
        &mut self,
        master: super::super::table::ConnId,
        dir: Dir,
        seq: u32,
        m: &FtpMatch,
        text: String,
    ) {
        let off = text.len() as i32 - m.len as i32;
        if let Some(c) = self.get_mut(master) {
            if off != 0 {
                c.help.seqadj[dir.idx()].set(seq, off);
                c.status.set(Status::SEQ_ADJUST);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn commands_are_printed_as_nf_nat_ftp_does() {
        let a = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 200));
        assert_eq!(fmt_cmd(FtpType::Port, a, 40001), "203,0,113,200,156,65");
        assert_eq!(fmt_cmd(FtpType::Pasv, a, 21), "203,0,113,200,0,21");
        assert_eq!(fmt_cmd(FtpType::Eprt, a, 40011), "|1|203.0.113.200|40011|");
        assert_eq!(fmt_cmd(FtpType::Epsv, a, 50001), "|||50001|");
    }

    #[test]
    fn seqadj_moves_only_forward() {
        let mut s = SeqAdj::default();
        s.set(1000, 2);
        assert_eq!((s.offset(1000), s.offset(1001)), (0, 2));
        // A retransmission of the same segment does not add again.
        s.set(1000, 2);
        assert_eq!(s.offset(1001), 2);
        s.set(2000, -1i32);
        assert_eq!((s.offset(1500), s.offset(2001)), (2, 1));
        assert_eq!(SeqAdj::default().offset(5), 0);
    }

    #[test]
    fn a_taken_port_moves_the_expectation() {
        use crate::conntrack::table::Expectation;
        use crate::conntrack::tuple::Tuple;
        use crate::conntrack::{Hook, L4Info, PacketInfo, Params, UdpDatagram};
        let mut t = Table::new(Params::default());
        let mut master = |sport: u16| {
            let p = PacketInfo {
                src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 104)),
                dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 77)),
                proto: 17,
                l4: L4Info::Udp(UdpDatagram {
                    sport,
                    dport: 69,
                    length_field: 8,
                    l4_len: 8,
                }),
                ts_ns: 0,
                hook: Hook::LocalOut,
                checksum_ok: true,
            };
            let id = t.process(&p).conn.unwrap();
            t.confirm(id).unwrap();
            id
        };
        let (a, b) = (master(1000), master(1001));
        let exp = |m| Expectation {
            master: m,
            tuple: Tuple {
                src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 77)),
                dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 104)),
                proto: 6,
                l4: L4Key::Ports { src: 0, dst: 5000 },
            },
            match_src_addr: true,
            match_src_port: false,
            helper: None,
            expires_ns: u64::MAX,
            nat: None,
        };
        assert_eq!(t.exp_find_port(exp(a), 5000, 0), Some(5000));
        assert_eq!(t.exp_find_port(exp(b), 5000, 0), Some(5001));
    }
}
