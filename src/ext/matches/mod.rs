//! Match extensions (`-m NAME`), one file each; listed in `ext::registry!`.

pub mod addrtype;
pub mod ah;
pub mod bpf;
pub mod cgroup;
pub mod cluster;
pub mod comment;
pub mod connbytes;
pub mod connlabel;
pub mod connlimit;
pub mod connmark;
pub mod conntrack;
pub mod cpu;
pub mod dccp;
pub mod devgroup;
pub mod dscp;
pub mod ecn;
pub mod esp;
pub mod hashlimit;
pub mod hashlimit_state;
pub mod helper;
pub mod icmp;
pub mod ipcomp;
pub mod iprange;
pub mod ipvs;
pub mod length;
pub mod limit;
pub mod mac;
pub mod mark;
pub mod multiport;
pub mod nfacct;
pub mod osf;
pub mod owner;
pub mod physdev;
pub mod pkttype;
pub mod policy;
pub mod quota;
pub mod rateest;
pub mod realm;
pub mod recent;
pub mod rpfilter;
pub mod sctp;
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

/// Test helper: loads `-A CHAIN RULE` into `table` through the whole front
/// end (parse, apply, kernel checks) and returns what iptables-save would
/// print after `-A CHAIN `, or the first error message.
#[cfg(test)]
pub(crate) fn roundtrip(table: &str, chain: &str, rule: &str) -> Result<String, String> {
    let text = format!("*{table}\n-A {chain} {rule}\nCOMMIT\n");
    let file = crate::source::SourceFile::new("test.v4", text);
    let loaded = crate::ir::load(&file);
    if let Some(d) = loaded.diagnostics.iter().find(|d| d.is_error()) {
        return Err(d.message.clone());
    }
    let saved = crate::ir::save::save(&loaded.ruleset, Default::default());
    let prefix = format!("-A {chain} ");
    saved
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()).map(str::to_string))
        .ok_or_else(|| format!("no rule saved in:\n{saved}"))
}
