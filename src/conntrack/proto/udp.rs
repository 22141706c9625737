//! UDP tracking: `nf_conntrack_proto_udp.c`.
//!
//! An entry is a "stream" once it has seen a reply and is still active two seconds after its
//! first packet (`stream_ts`); streams get `nf_conntrack_udp_timeout_stream` and ASSURED.
//! Invariant: time is the packet timestamp in nanoseconds, never the wall clock.

use super::{L4Result, ProtoData};
use crate::conntrack::params::Params;
use crate::conntrack::status::Status;
use crate::conntrack::InvalidReason;

/// The UDP header fields conntrack reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Datagram {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// The header's length field.
    pub length_field: u16,
    /// Bytes from the UDP header to the end of the IP payload (`skb->len - dataoff`).
    pub l4_len: u32,
}

/// `udp_error`: short or inconsistent length, bad checksum in PREROUTING.
/// `checksum_checked` is "PREROUTING and nf_conntrack_checksum=1"; a zero checksum counts as ok.
pub fn udp_error(d: &Datagram, checksum_checked: bool, checksum_ok: bool) -> Option<InvalidReason> {
    if d.l4_len < 8 {
        return Some(InvalidReason::Truncated);
    }
    if u32::from(d.length_field) > d.l4_len || d.length_field < 8 {
        return Some(InvalidReason::UdpLength);
    }
    if checksum_checked && !checksum_ok {
        return Some(InvalidReason::BadChecksum);
    }
    None
}

/// Two seconds, the kernel's `2 * HZ` before a replied flow counts as a stream.
const STREAM_DELAY_NS: u64 = 2_000_000_000;

/// The state a new UDP entry starts with.
pub fn udp_new(now_ns: u64) -> ProtoData {
    ProtoData::Udp {
        stream_ts_ns: now_ns.saturating_add(STREAM_DELAY_NS),
    }
}

/// `nf_conntrack_udp_packet` after `udp_error`: it always accepts.
pub fn packet(stream_ts_ns: u64, status: &mut Status, p: &Params, now_ns: u64) -> L4Result {
    L4Result::Accept {
        timeout: Some(timeout(stream_ts_ns, status, p, now_ns)),
    }
}

/// The timeout (seconds) `nf_conntrack_udp_packet` refreshes the entry with; sets ASSURED
/// on a stream.
#[inline]
pub fn timeout(stream_ts_ns: u64, status: &mut Status, p: &Params, now_ns: u64) -> u32 {
    if !status.has(Status::SEEN_REPLY) {
        return p.udp_timeout;
    }
    // time_after(jiffies, stream_ts): strictly later.
    let stream_time = now_ns > stream_ts_ns;
    // (IPS_NAT_CLASH entries never become ASSURED; clashes are not modelled.)
    if stream_time && !status.has(Status::ASSURED) {
        status.set(Status::ASSURED);
    }
    if stream_time {
        p.udp_timeout_stream
    } else {
        p.udp_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors() {
        let ok = Datagram {
            sport: 1,
            dport: 2,
            length_field: 20,
            l4_len: 20,
        };
        assert_eq!(udp_error(&ok, true, true), None);
        assert_eq!(
            udp_error(&Datagram { l4_len: 7, ..ok }, false, true),
            Some(InvalidReason::Truncated)
        );
        assert_eq!(
            udp_error(
                &Datagram {
                    length_field: 21,
                    ..ok
                },
                false,
                true
            ),
            Some(InvalidReason::UdpLength)
        );
        assert_eq!(
            udp_error(
                &Datagram {
                    length_field: 7,
                    ..ok
                },
                false,
                true
            ),
            Some(InvalidReason::UdpLength)
        );
        assert_eq!(
            udp_error(&ok, true, false),
            Some(InvalidReason::BadChecksum)
        );
        assert_eq!(udp_error(&ok, false, false), None);
    }

    #[test]
    fn stream_after_two_seconds_of_replies() {
        let p = Params::default();
        let mut st = Status::default();
        assert_eq!(
            packet(2_000, &mut st, &p, 1_000),
            L4Result::Accept { timeout: Some(30) }
        );
        st.set(Status::SEEN_REPLY);
        assert_eq!(
            packet(2_000, &mut st, &p, 2_000),
            L4Result::Accept { timeout: Some(30) }
        );
        assert!(!st.has(Status::ASSURED));
        assert_eq!(
            packet(2_000, &mut st, &p, 2_001),
            L4Result::Accept { timeout: Some(120) }
        );
        assert!(st.has(Status::ASSURED));
    }
}
