//! Match extensions (`-m NAME`), one file each; listed in `ext::registry!`.

pub mod comment;
pub mod conntrack;
pub mod icmp;
pub mod state;
pub mod tcp;
pub mod udp;
