//! Test support for match extensions: one rule through the whole front end
//! (parse, apply, kernel checks) and back out through the canonical printer.

use crate::ir::save::rule_spec;
use crate::source::SourceFile;

/// Loads `-A CHAIN RULE` in `table` and returns what iptables-save would
/// print after `-A CHAIN`, or the first error message.
pub fn roundtrip_in(table: &str, chain: &str, rule: &str) -> Result<String, String> {
    let builtin = matches!(
        chain,
        "PREROUTING" | "INPUT" | "FORWARD" | "OUTPUT" | "POSTROUTING"
    );
    let policy = if builtin { "ACCEPT" } else { "-" };
    let text = format!("*{table}\n:{chain} {policy} [0:0]\n-A {chain} {rule}\nCOMMIT\n");
    let loaded = crate::ir::load(&SourceFile::new("t.v4", text));
    if let Some(d) = loaded.diagnostics.iter().find(|d| d.is_error()) {
        return Err(d.message.clone());
    }
    let mut out = String::new();
    for t in &loaded.ruleset.tables {
        for c in &t.chains {
            for r in &c.rules {
                rule_spec(&mut out, r);
            }
        }
    }
    Ok(out.trim_start().to_string())
}

/// [`roundtrip_in`] in the filter table's INPUT chain.
pub fn roundtrip(rule: &str) -> Result<String, String> {
    roundtrip_in("filter", "INPUT", rule)
}

/// The first match of `-A INPUT RULE` in the filter table.
pub fn first_match(rule: &str) -> crate::ext::Match {
    let text = format!("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {rule}\nCOMMIT\n");
    let loaded = crate::ir::load(&SourceFile::new("t.v4", text));
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.ruleset.tables[0].chains[0].rules[0].matches[0]
        .m
        .clone()
}

/// An IPv4 packet's facts at INPUT: `bytes` from the IP header on, with the
/// given TOS, TTL, layer-4 view and capture time.
pub fn facts<'p>(
    bytes: &'p [u8],
    tos: u8,
    ttl: u8,
    l4: crate::ext::facts::L4Facts<'p>,
    now_ns: u64,
) -> crate::ext::Facts<'p> {
    use crate::ext::facts::{CtFacts, NoHost};
    crate::ext::Facts {
        hook: crate::ir::Hook::Input,
        table: crate::ir::TableKind::Filter,
        in_iface: "eth0",
        out_iface: "",
        src: 0x0a00_0001,
        dst: 0x0a00_0002,
        proto: 6,
        ttl,
        tos,
        frag_off: 0,
        len: bytes.len() as u32,
        bytes,
        ihl: 20,
        l4,
        l4_truncated: false,
        src_mac: None,
        mac_header: None,
        pkttype: 0,
        mark: 0,
        ct: CtFacts::default(),
        now_ns,
        host: &NoHost,
    }
}
