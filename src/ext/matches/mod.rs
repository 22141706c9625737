//! Match extensions (`-m NAME`), one file each; listed in `ext::registry!`.

pub mod bpf;
pub mod cgroup;
pub mod cluster;
pub mod comment;
pub mod connbytes;
pub mod connlabel;
pub mod connlimit;
pub mod cpu;
pub mod devgroup;
pub mod dscp;
pub mod ecn;
pub mod helper;
pub mod ipcomp;
pub mod ipvs;
pub mod nfacct;
pub mod osf;
pub mod policy;
pub mod quota;
pub mod rateest;
pub mod realm;
pub mod rpfilter;
pub mod set;
pub mod socket;
pub mod state;
pub mod statistic;
pub mod string;
pub mod tcp;
pub mod tcpmss;
#[cfg(test)]
pub mod testutil;
pub mod time;
pub mod tos;
pub mod ttl;
pub mod u32;
pub mod udp;
