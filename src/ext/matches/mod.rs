//! Match extensions (`-m NAME`), one file each; listed in `ext::registry!`.

pub mod comment;
pub mod connmark;
pub mod conntrack;
pub mod icmp;
pub mod length;
pub mod mac;
pub mod mark;
pub mod pkttype;
pub mod state;
pub mod tcp;
pub mod udp;
