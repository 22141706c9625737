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
