//! The IPT1xx lints against the real thing: each case below was loaded with
//! iptables-legacy-restore 1.8.9 into a fresh network namespace (Linux 6.18);
//! those with a code were refused (by iptables, or by the kernel at COMMIT,
//! with the reason in the kernel log), those with `None` loaded.

use super::{run_loaded, Selection};
use crate::source::SourceFile;

/// (table, rules, the 1xx code of the first error or `None` when it loads).
const CASES: &[(&str, &str, Option<&str>)] = &[
    ("filter", "-A INPUT -j MISSING", Some("IPT103")),
    ("filter", "-A INPUT -g MISSING", Some("IPT103")),
    ("filter", "-A INPUT -m multiport --dports 1,2 -j ACCEPT", Some("IPT105")),
    ("filter", "-A INPUT -p icmp -m multiport --dports 1,2 -j ACCEPT", Some("IPT105")),
    ("filter", "-A INPUT --dport 22 -j ACCEPT", Some("IPT105")),
    ("filter", "-A INPUT --syn -j ACCEPT", Some("IPT105")),
    ("filter", "-A INPUT -m tcp --dport 22 -j ACCEPT", Some("IPT105")),
    ("filter", "-A INPUT -j REJECT --reject-with tcp-reset", Some("IPT105")),
    ("filter", "-A INPUT -j U\n-A U -j V\n-A V -j U", Some("IPT104")),
    ("filter", "-A U -j V\n-A V -j U", None),
    ("filter", "-A INPUT -j DNAT --to-destination 1.2.3.4", Some("IPT101")),
    ("filter", "-A INPUT -m owner --uid-owner 0 -j ACCEPT", Some("IPT102")),
    ("filter", "-A INPUT -j U\n-A OUTPUT -j U\n-A U -m owner --uid-owner 0 -j ACCEPT", Some("IPT102")),
    ("filter", "-A OUTPUT -m physdev --physdev-out eth0 -j ACCEPT", Some("IPT102")),
    ("filter", "-A INPUT -m physdev --physdev-out eth0 -j ACCEPT", None),
    ("filter", "-A INPUT -m addrtype --dst-type LOCAL --limit-iface-out -j ACCEPT", Some("IPT102")),
    ("filter", "-A OUTPUT -m addrtype --dst-type LOCAL --limit-iface-in -j ACCEPT", Some("IPT102")),
    ("filter", "-A INPUT -m mac --mac-source 02:00:00:00:00:01 -j ACCEPT\n-A OUTPUT -j U\n-A U -m mac --mac-source 02:00:00:00:00:01 -j ACCEPT", Some("IPT102")),
    ("filter", "-A INPUT -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu", Some("IPT102")),
    ("filter", "-A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu", None),
    ("filter", "-A FORWARD -j TCPMSS --set-mss 1400", Some("IPT105")),
    ("filter", "-A INPUT -m time --days Mon -j ACCEPT", Some("IPT100")),
    ("nat", "-A POSTROUTING -j U\n-A U -p tcp -j DNAT --to-destination 1.2.3.4", Some("IPT102")),
    ("nat", "-A PREROUTING -j MASQUERADE", Some("IPT102")),
    ("nat", "-A PREROUTING -j U\n-A U -j REDIRECT", None),
    ("mangle", "-A PREROUTING -j U\n-A U -j REJECT", Some("IPT101")),
    ("mangle", "-A PREROUTING -j NOTRACK", Some("IPT101")),
    ("filter", "-A INPUT -j TOS --set-tos 0x10", Some("IPT101")),
    ("mangle", "-A PREROUTING -p tcp -j TCPMSS --clamp-mss-to-pmtu", Some("IPT102")),
    ("filter", "-A INPUT -m rpfilter -j DROP", Some("IPT101")),
];

fn file(table: &str, rules: &str) -> String {
    let chains = match table {
        "filter" => ":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:U - [0:0]\n:V - [0:0]",
        "nat" => ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:U - [0:0]",
        _ => ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:U - [0:0]",
    };
    format!("*{table}\n{chains}\n{rules}\nCOMMIT\n")
}

#[test]
fn load_errors_get_the_code_of_their_kind() {
    let select = Selection {
        select: vec!["IPT1".into()],
        ignore: vec![],
    };
    for (table, rules, want) in CASES {
        let f = SourceFile::new("t", file(table, rules));
        let loaded = crate::ir::load(&f);
        let out = run_loaded(&f, &loaded, &select);
        assert!(
            out.input_errors.is_empty(),
            "{rules}: {:?}",
            out.input_errors
        );
        let got = out.diagnostics.iter().find_map(|d| d.code);
        assert_eq!(got, *want, "{table}: {rules}");
    }
}

#[test]
fn a_table_that_lost_a_command_is_not_linted_further() {
    // The jump to a missing chain is skipped; without it USERS would look
    // unused (IPT203) and INPUT would lack its accept. Only IPT103 is true.
    let text = "*filter\n:INPUT DROP [0:0]\n:USERS - [0:0]\n-A INPUT -j USER\n-A USERS -j ACCEPT\nCOMMIT\n";
    let f = SourceFile::new("t", text);
    let out = run_loaded(&f, &crate::ir::load(&f), &Selection::default());
    let codes: Vec<_> = out.diagnostics.iter().filter_map(|d| d.code).collect();
    assert_eq!(codes, ["IPT103"]);
}

#[test]
fn tokenizer_errors_are_input_errors() {
    // A table never committed: the file's structure, not a rule.
    let f = SourceFile::new("t", "*filter\n-A INPUT -j ACCEPT\n");
    let out = run_loaded(&f, &crate::ir::load(&f), &Selection::default());
    assert!(!out.input_errors.is_empty(), "{:?}", out.diagnostics);
    assert!(out.diagnostics.is_empty());
}

#[test]
fn script_cleanups_are_warnings_and_lint_goes_on() {
    let text = "iptables -X LOGDROP\niptables -N LOGDROP\niptables -A LOGDROP -j DROP\niptables -A INPUT -s 192.0.2.0/24 -j LOGDROP\niptables -A INPUT -s 192.0.2.0/24 -j LOGDROP\n";
    let f = SourceFile::new("t.sh", text);
    let out = run_loaded(&f, &crate::ir::load(&f), &Selection::default());
    assert!(out.input_errors.is_empty());
    let seen: Vec<_> = out
        .diagnostics
        .iter()
        .map(|d| (d.code, d.severity))
        .collect();
    use crate::diagnostic::Severity::Warning;
    assert_eq!(seen, [(None, Warning), (Some("IPT205"), Warning)]);
}
