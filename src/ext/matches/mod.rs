//! Match extensions (`-m NAME`), one file each; listed in `ext::registry!`.

pub mod addrtype;
pub mod ah;
pub mod comment;
pub mod connmark;
pub mod conntrack;
pub mod dccp;
pub mod esp;
pub mod hashlimit;
pub mod icmp;
pub mod iprange;
pub mod length;
pub mod limit;
pub mod mac;
pub mod mark;
pub mod multiport;
pub mod owner;
pub mod physdev;
pub mod pkttype;
pub mod recent;
pub mod sctp;
pub mod state;
pub mod tcp;
pub mod udp;
