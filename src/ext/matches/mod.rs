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
