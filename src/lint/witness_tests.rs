//! Witness packets replayed through the engine: each one must be decided by
//! the rule the finding names, in the state the finding names.

use super::rules::shadowed_rule::witnesses;
use super::LintInput;
use crate::conntrack::Params;
use crate::eval::engine::{Engine, Options};
use crate::eval::host::Host;
use crate::eval::outcome::Record;
use crate::packet::{parse_summary, Frame};
use crate::source::SourceFile;

/// Shadowing through ports, multiport, icmp type/code, iprange and
/// `--ctstate`, all in INPUT so a packet to a local address walks it.
const RULES: &str = "\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 1:1024 -j DROP
-A INPUT -p tcp -m multiport --dports 1025:8000,8001:65535 -j DROP
-A INPUT -p tcp --dport 8080 -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 8 -j DROP
-A INPUT -p icmp -m icmp --icmp-type 8/0 -j ACCEPT
-A INPUT -p udp -m multiport --ports 53,123 -j DROP
-A INPUT -p udp --dport 53 -j ACCEPT
-A INPUT -p udp -m iprange --src-range 203.0.113.0-203.0.113.255 -j REJECT
-A INPUT -p udp -s 203.0.113.7 --sport 1024:65535 --dport 5000:6000 -m conntrack --ctstate NEW,UNTRACKED -j ACCEPT
COMMIT
";

#[test]
fn every_witness_replays_to_the_deciding_rule() {
    let file = SourceFile::new("witness.rules", RULES);
    let loaded = crate::ir::load(&file);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let found = witnesses(&LintInput {
        file: &file,
        ruleset: &loaded.ruleset,
        refused: &[],
    });
    let shown: Vec<(&str, &str)> = found
        .iter()
        .map(|w| (w.code, w.decided_by.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("IPT201", "filter/INPUT/2"),
            ("IPT201", "filter/INPUT/4"),
            ("IPT201", "filter/INPUT/6"),
            ("IPT201", "filter/INPUT/8"),
        ]
    );
    for w in &found {
        assert_eq!(w.state, "NEW", "{w:?}");
        let synth = parse_summary(&w.packet).expect("witness notation parses");
        let dst = synth.packet().expect("well-formed").ip.dst();
        let host = Host::oracle(&[dst], &[]);
        let mut engine = Engine::new(&loaded.ruleset, host, Params::default(), Options::default());
        let bytes = synth.bytes();
        let frame = Frame {
            index: 0,
            offset: 0,
            ts_ns: 0,
            linktype: 228, // LINKTYPE_IPV4
            iface: None,
            orig_len: bytes.len() as u32,
            data: bytes,
            anomaly: None,
        };
        let Record::Packet(out) = engine.process(&frame) else {
            panic!("{} was skipped", w.packet);
        };
        assert_eq!(
            out.rule.as_deref(),
            Some(w.decided_by.as_str()),
            "{}",
            w.packet
        );
        assert_eq!(out.ctstate, Some("NEW"), "{}", w.packet);
    }
}
