//! Touching ahead: warm the memory the next few packets' lookups will read, so that their
//! cache misses overlap instead of coming one after the other.
//!
//! With hundreds of thousands of connections, tracking a packet costs two dependent cache
//! (and TLB) misses: the cell of the tuple hash where [`Table::find`] starts probing, then the
//! entry that cell names. Processed one packet at a time, each miss waits for the one before
//! it, and the core idles for most of a memory latency twice per packet. The tuples of the
//! next packets are known early (the capture reader holds their bytes), and their lookups are
//! independent of each other: [`Table::touch`] reads the K home cells back to back, so the K
//! misses are in flight together, then the K entries the same way (the three cache lines of
//! each that a packet reads). When the packets are then
//! processed one by one, as before, their lines are (mostly) already in the cache.
//!
//! Why a plain read and not a prefetch instruction: the crate forbids `unsafe`, which
//! `_mm_prefetch` needs, and `std`'s prefetch intrinsics are unstable. A load whose value is
//! passed to [`std::hint::black_box`] is one the compiler must keep, and the out-of-order core
//! overlaps independent loads just as it would prefetches; the cost is a register's worth of
//! value per read and a probe repeated for the second round.
//!
//! Invariant: touching reads only (`&self`) and its result is thrown away, so it never changes
//! what a replay computes; the table may change between a touch and the packets it was for
//! (inserts, growth, backward-shift deletes, expiry), which only makes a touch useless.

use std::hint::black_box;

use super::table::Table;

/// An IPv4 flow by its numbers, as touching needs it: the tuple (`nf_ct_get_tuple`) of a TCP
/// or UDP packet, without building a [`Tuple`](super::Tuple).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow4 {
    /// Source address.
    pub src: u32,
    /// Destination address.
    pub dst: u32,
    /// IP protocol.
    pub proto: u8,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
}

impl Flow4 {
    /// The flow of the other direction: the reply tuple `nf_ct_invert_tuple` makes of this
    /// one when no NAT rewrites it.
    #[inline]
    pub fn reversed(&self) -> Flow4 {
        Flow4 {
            src: self.dst,
            dst: self.src,
            proto: self.proto,
            sport: self.dport,
            dport: self.sport,
        }
    }
}

impl Table {
    /// Reads the memory that looking up each of `flows` will read first: all the tuple-hash
    /// cells, then the entries found, or for a flow without one, the cell where its reply
    /// tuple would be entered on confirmation. A hint: nothing changes.
    pub fn touch(&self, flows: &[Flow4]) {
        // One word for all the reads: the loads stay independent of each other, and the
        // compiler must keep them all.
        let mut seen = 0u64;
        // Hashing each flow once for both rounds (keys and home cells kept in an array)
        // saved ~15 instructions per packet of hashing and lost more to the array's
        // initialization and indexing (callgrind: +5 per packet in all), so each round
        // computes the key again.
        for f in flows {
            seen ^= self.cell_word(f);
        }
        for f in flows {
            // A flow without an entry is (mostly) a new connection, which confirmation will
            // enter under its reply tuple too: that tuple's home cell is the miss to warm.
            seen ^= match self.entry_word(f) {
                Some(w) => w,
                None => self.cell_word(&f.reversed()),
            };
        }
        black_box(seen);
    }
}

#[cfg(test)]
mod tests {
    use super::Flow4;
    use crate::conntrack::{CtState, Hook, L4Info, L4Key, PacketInfo, Params, Table};
    use crate::conntrack::{TcpSegment, UdpDatagram};
    use std::net::{IpAddr, Ipv4Addr};

    fn v4(x: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | x))
    }

    /// A packet of a small flow space: UDP and TCP (SYN, SYN-ACK, ACK, RST by turns), both
    /// directions, now and then IPv6, over a long enough time for entries to expire.
    fn packet(n: u64) -> PacketInfo {
        let x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        let (a, b) = (x as u32 % 97, 1000 + (x >> 8) as u32 % 13);
        let (src, dst) = if x & 1 == 0 {
            (v4(a), v4(b))
        } else {
            (v4(b), v4(a))
        };
        let (sport, dport) = if x & 1 == 0 { (4000, 53) } else { (53, 4000) };
        let ts_ns = n * 150_000_000;
        let (src, dst) = if x % 23 == 0 {
            let six = |v: IpAddr| match v {
                IpAddr::V4(a) => IpAddr::V6(a.to_ipv6_mapped()),
                IpAddr::V6(a) => IpAddr::V6(a),
            };
            (six(src), six(dst))
        } else {
            (src, dst)
        };
        let (proto, l4) = if x & 2 == 0 {
            let len = 8;
            let d = UdpDatagram {
                sport,
                dport,
                length_field: len,
                l4_len: u32::from(len),
            };
            (17, L4Info::Udp(d))
        } else {
            let flags = [0x02, 0x12, 0x10, 0x04][(x >> 3) as usize % 4];
            let seg = TcpSegment {
                sport,
                dport,
                flags,
                seq: 1,
                ack: 1,
                doff: 5,
                window: 1000,
                l4_len: 20,
                ..Default::default()
            };
            (6, L4Info::Tcp(seg))
        };
        PacketInfo {
            src,
            dst,
            proto,
            l4,
            ts_ns,
            hook: Hook::PreRouting,
            checksum_ok: true,
        }
    }

    /// The flow of an IPv4 packet with ports (others: a flow of nothing in particular).
    fn flow_of(p: &PacketInfo) -> Flow4 {
        let v4 = |a: IpAddr| match a {
            IpAddr::V4(a) => u32::from(a),
            IpAddr::V6(_) => 7,
        };
        let (sport, dport) = match crate::conntrack::packet_tuple(p).map(|t| t.l4) {
            Some(L4Key::Ports { src, dst }) => (src, dst),
            _ => (1, 2),
        };
        Flow4 {
            src: v4(p.src),
            dst: v4(p.dst),
            proto: p.proto,
            sport,
            dport,
        }
    }

    /// Two tables fed the same packets, one touched before every packet with the tuples of the
    /// next eight (some stale by the time they are processed, some not in the table, some
    /// made up), give the same verdicts and the same final table.
    #[test]
    fn touching_never_changes_results() {
        let mut plain = Table::new(Params::default());
        let mut touched = Table::new(Params::default());
        let mut seen = [0usize; 2];
        for n in 0..20_000u64 {
            let ahead: Vec<Flow4> = (n..n + 8).map(|k| flow_of(&packet(k))).collect();
            touched.touch(&ahead);
            let p = packet(n);
            let (a, b) = (plain.process(&p), touched.process(&p));
            assert_eq!(a, b, "packet {n}");
            seen[usize::from(a.state == CtState::Established)] += 1;
            // Confirm most new entries, as a replay does for accepted packets.
            if let Some(id) = a.conn.filter(|_| a.unconfirmed && n % 5 != 0) {
                assert_eq!(plain.confirm(id), touched.confirm(id));
            }
        }
        assert!(seen[0] > 100 && seen[1] > 100, "{seen:?}");
        assert_eq!(plain.len(), touched.len());
        assert_eq!(plain.dump(u64::MAX / 2), touched.dump(u64::MAX / 2));
        let now = 20_000 * 150_000_000;
        assert_eq!(plain.dump(now), touched.dump(now));
        assert!(!plain.dump(now).is_empty());
    }
}
