//! Touching ahead in the replay loop: before a run of packets is replayed, the conntrack
//! memory their lookups need is read for all of them at once
//! ([`Table::touch`](crate::conntrack::Table::touch)), so that
//! the cache misses of the run overlap instead of stalling each packet in turn (memory-level
//! parallelism; see `conntrack::touch` for why a plain read and not a prefetch instruction).
//!
//! The packets ahead are the records the capture reader already holds: it shows them in
//! place, framed once, before they are taken as read
//! ([`CaptureReader::peek_run`](crate::packet::CaptureReader::peek_run), classic pcap
//! only), and [`flow_of`] reads the tuple of those the plain-frame parser
//! ([`packet::plain`](mod@crate::packet::plain): untagged Ethernet, IPv4 TCP or UDP, nearly every
//! record) accepts, at the same offsets but without its checks: run on every record ahead,
//! `plain` itself cost some 130 instructions a packet, more than the rest of the touch.
//! Anything else simply gets no touch. The dealing worker of a sharded replay looks ahead the
//! same way and decides each record's shard in the same look (`sharded::lead`); a dealt
//! worker touches the flows of the batch it was dealt.
//!
//! Cost and gain (fwd_100, one worker): about 165 instructions a packet (callgrind, mix_1m),
//! against some 2,400; the gain is in the memory stalls and shows only in time: on mix_10m
//! (~450k connections) a fifth less replay time and CPU time (medians of 7 interleaved runs
//! each on a shared 2-core VM), on mix_1m about a sixth.
//!
//! Invariant: nothing here changes what is replayed: the reader is only looked at, and the
//! table only read; a touch that turns out useless (the record was not kept, the entry changed
//! meanwhile) costs time, never a different result.

use crate::conntrack::Flow4;
use crate::packet::link::linktype;

/// Packets touched together: enough misses in flight to fill a core's miss buffers (10 to
/// 16 on x86); 4 to 32 measured within the noise of one another.
pub(super) const AHEAD: usize = 16;

/// The conntrack tuple of an untagged Ethernet IPv4 TCP or UDP frame that is not a fragment,
/// read at fixed offsets: the fields [`packet::plain`](mod@crate::packet::plain) reads for the
/// frames it accepts (see the test), without its checks of lengths and header sizes, which a
/// hint does not need (and which cost more than the touch itself).
#[inline]
pub(super) fn flow_of(link: u32, data: &[u8]) -> Option<Flow4> {
    const ETH: usize = 14;
    let h: &[u8; ETH + 20] = data.get(..ETH + 20)?.try_into().ok()?;
    let fragment = u16::from_be_bytes([h[ETH + 6], h[ETH + 7]]) & 0x3fff != 0;
    let proto = h[ETH + 9];
    if link != linktype::ETHERNET
        || h[12..ETH] != [0x08, 0x00]
        || h[ETH] >> 4 != 4
        || fragment
        || !matches!(proto, 6 | 17)
    {
        return None;
    }
    let at = ETH + usize::from(h[ETH] & 0x0f) * 4;
    let ports: &[u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    let be32 = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    Some(Flow4 {
        src: be32(ETH + 12),
        dst: be32(ETH + 16),
        proto,
        sport: u16::from_be_bytes([ports[0], ports[1]]),
        dport: u16::from_be_bytes([ports[2], ports[3]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::plain::plain;

    /// A frame as the plain-frame parser's tests build it, without padding.
    fn frame(proto: u8, ihl: u8, l4: &[u8]) -> Vec<u8> {
        crate::packet::plain::tests::frame(proto, ihl, l4, 0)
    }

    /// Wherever the plain-frame parser reads a frame, the flow read here is its tuple.
    fn agree(link: u32, data: &[u8]) -> bool {
        let Some(p) = plain(link, data) else {
            return false;
        };
        let (sport, dport) = p.ports();
        let want = Flow4 {
            src: p.src(),
            dst: p.dst(),
            proto: p.proto(),
            sport,
            dport,
        };
        assert_eq!(flow_of(link, data), Some(want), "{data:02x?}");
        true
    }

    #[test]
    fn the_flow_is_the_plain_frames_tuple() {
        let tcp = [
            0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0,
        ];
        let udp = [0x30, 0x39, 0, 53, 0, 10, 0, 0, 1, 2];
        let mut accepted = 0;
        for (proto, l4) in [(6, &tcp[..]), (17, &udp[..])] {
            for ihl in [5, 6, 15] {
                let base = frame(proto, ihl, l4);
                for cut in 0..=base.len() {
                    accepted += usize::from(agree(linktype::ETHERNET, &base[..cut]));
                }
                // Every header byte through values that change a decision.
                for at in 0..base.len() {
                    for v in [
                        0u8, 1, 4, 5, 6, 8, 0x11, 0x20, 0x3f, 0x40, 0x45, 0x4f, 0x81, 0xff,
                    ] {
                        let mut f = base.clone();
                        f[at] = v;
                        accepted += usize::from(agree(linktype::ETHERNET, &f));
                    }
                }
            }
        }
        assert!(accepted > 1000, "{accepted}");
        // Not Ethernet, not IPv4, not TCP or UDP, a fragment: no flow.
        let f = frame(6, 5, &tcp);
        assert_eq!(flow_of(linktype::RAW, &f), None);
        for (at, v) in [(12, 0x86), (14, 0x65), (23, 1), (20, 0x20)] {
            let mut g = f.clone();
            g[at] = v;
            assert_eq!(flow_of(linktype::ETHERNET, &g), None, "{at}");
        }
    }
}
