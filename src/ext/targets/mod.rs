//! Target extensions (`-j NAME`), one file each; listed in `ext::registry!`.
//! The standard verdicts (ACCEPT, DROP, RETURN, QUEUE) and jumps to user
//! chains are not extensions: see `ir::rule::Verdict`.

pub mod audit;
pub mod checksum;
pub mod classify;
pub mod connmark;
pub mod connsecmark;
pub mod ct;
pub mod dnat;
pub mod dscp;
pub mod ecn;
pub mod excl;
pub mod hmark;
pub mod idletimer;
pub mod led;
pub mod log;
pub mod log_line;
pub mod mark;
pub mod masquerade;
pub mod nat_range;
pub mod netmap;
pub mod nflog;
pub mod nfqueue;
pub mod notrack;
pub mod rateest;
pub mod redirect;
pub mod reject;
pub mod scope;
pub mod secmark;
pub mod set;
pub mod snat;
pub mod synproxy;
pub mod tcpmss;
pub mod tcpoptstrip;
pub mod tee;
pub mod tos;
pub mod tproxy;
pub mod trace;
pub mod ttl;
pub mod ulog;
pub mod unsupported;

/// Test helper: loads `-A CHAIN RULE` into TABLE and returns what
/// iptables-save would print after `-A CHAIN `, or the first error message.
#[cfg(test)]
pub fn fmt_rule(table: &str, chain: &str, rule: &str) -> Result<String, String> {
    let text = format!("*{table}\n-A {chain} {rule}\nCOMMIT\n");
    let file = crate::source::SourceFile::new("test.v4", text);
    let loaded = crate::ir::load(&file);
    if let Some(d) = loaded.diagnostics.iter().find(|d| d.is_error()) {
        return Err(d.message.clone());
    }
    let out = crate::ir::save::save(&loaded.ruleset, Default::default());
    let prefix = format!("-A {chain} ");
    out.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(str::to_string)
        .ok_or_else(|| format!("no rule saved:\n{out}"))
}
