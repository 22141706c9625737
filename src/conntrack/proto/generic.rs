//! The generic tracker (`generic_packet` in nf_conntrack_core.c): any protocol without its own
//! tracker is tracked by addresses and protocol number, with `nf_conntrack_generic_timeout`.
//!
//! SCTP, DCCP and UDP-Lite have their own trackers in the kernel; until they are modelled they
//! fall back to this one (see the module docs of `conntrack`). GRE has its timers in `gre`. Invariant: never INVALID.

use super::L4Result;
use crate::conntrack::params::Params;

/// `generic_packet`: refresh the timer, nothing else.
pub fn packet(p: &Params) -> L4Result {
    L4Result::Accept {
        timeout: Some(p.generic_timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_with_generic_timeout() {
        let p = Params {
            generic_timeout: 7,
            ..Params::default()
        };
        assert_eq!(packet(&p), L4Result::Accept { timeout: Some(7) });
    }
}
