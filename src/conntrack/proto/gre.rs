//! The GRE tracker's timers (`nf_conntrack_gre_packet` in nf_conntrack_proto_gre.c): GRE is
//! not tracked by the generic tracker but has its own timeouts, `nf_conntrack_gre_timeout`
//! (30 s) until a reply was seen and `nf_conntrack_gre_timeout_stream` (180 s) after, when the
//! entry also becomes ASSURED. Kernel-checked in testdata/timeouts/to_gre: with the generic
//! timeout at 2 s a GRE flow survives a 4 s gap, with the GRE timeouts lowered it does not.
//!
//! Not modelled: the PPTP call IDs (GRE version 1 keys, `gre_pkt_to_tuple` with the pptp
//! helper's keymap); version 0 GRE has no keys in the kernel either ("behave like generic").

use super::L4Result;
use crate::conntrack::params::Params;
use crate::conntrack::status::Status;

/// `nf_conntrack_gre_packet`: the stream timeout and ASSURED once both directions were seen.
pub fn packet(status: &mut Status, p: &Params) -> L4Result {
    if !status.has(Status::SEEN_REPLY) {
        return L4Result::Accept {
            timeout: Some(p.gre_timeout),
        };
    }
    // (IPS_NAT_CLASH entries never become ASSURED; clashes are not modelled.)
    status.set(Status::ASSURED);
    L4Result::Accept {
        timeout: Some(p.gre_timeout_stream),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replied_flows_get_the_stream_timeout_and_assured() {
        let p = Params {
            gre_timeout: 3,
            gre_timeout_stream: 9,
            ..Params::default()
        };
        let mut s = Status::default();
        assert_eq!(packet(&mut s, &p), L4Result::Accept { timeout: Some(3) });
        assert!(!s.has(Status::ASSURED));
        s.set(Status::SEEN_REPLY);
        assert_eq!(packet(&mut s, &p), L4Result::Accept { timeout: Some(9) });
        assert!(s.has(Status::ASSURED));
    }
}
