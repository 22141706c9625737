//! [`Firewall`]: the library's front door for Rust users who keep their own
//! firewall under test (for example with insta snapshots). Load a ruleset,
//! describe the host, replay a capture or a list of packets written in the
//! summary notation, and get the same records `iptwalk replay --format jsonl`
//! prints, as typed values ([`Outcome`]: verdict, hook, deciding rule,
//! conntrack state and direction, ...).
//!
//! This is a thin layer over [`crate::ir::load`], [`crate::eval::engine::Engine`]
//! and [`crate::packet::CaptureReader`]; it adds nothing to what they decide,
//! so its outcomes are the CLI's. Every replay starts from an empty conntrack
//! table and fresh counters; the packets of one call share one table, so a
//! handshake written packet by packet is tracked as a connection.

use crate::conntrack::Params;
use crate::diagnostic::Diagnostic;
use crate::eval::engine::{Engine, Options};
use crate::eval::host::Host;
use crate::eval::outcome::{Outcome, Record, Skipped};
use crate::ir::Ruleset;
use crate::packet::{self, CaptureReader, Frame};
use crate::source::SourceFile;
use std::net::Ipv4Addr;
use std::path::Path;

/// What can go wrong loading or replaying.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The rule file does not load; the text is the rendered diagnostics.
    #[error("the rules do not load:\n{0}")]
    Rules(String),
    #[error("bad address `{0}`: {1}")]
    Address(String, String),
    #[error("host description: {0}")]
    Host(String),
    #[error("sysctl {0}: {1}")]
    Sysctl(String, crate::conntrack::ParamError),
    #[error("packet `{0}`: {1}")]
    Packet(String, packet::SummaryParseError),
    #[error("capture: {0}")]
    Capture(#[from] packet::CaptureError),
    #[error("trace: {0}")]
    Trace(#[from] crate::eval::single::TraceError),
}

/// A loaded ruleset and the host it runs on.
#[derive(Debug, Clone)]
pub struct Firewall {
    ruleset: Ruleset,
    warnings: Vec<Diagnostic>,
    local: Vec<Ipv4Addr>,
    lan: Vec<crate::ir::addr::Ipv4Net>,
    host: Option<Host>,
    params: Params,
    trust_checksums: bool,
}

/// Synthetic packets start at 1 s and follow 1 ms apart (what `iptwalk
/// trace` uses), far from any conntrack timeout.
const FIRST_NS: i128 = 1_000_000_000;
const STEP_NS: i128 = 1_000_000;

impl Firewall {
    /// Reads a rule file: iptables-save/-restore text, a shell script of
    /// iptables commands, or `iptables -S` output.
    pub fn load(path: impl AsRef<Path>) -> Result<Firewall, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        Firewall::parse(&path.display().to_string(), &text)
    }

    /// Parses rules given as text; `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<Firewall, Error> {
        let loaded = crate::ir::load(&SourceFile::new(name, text));
        if loaded.has_errors() {
            let text = crate::report::diagnostics::render_all(&loaded.diagnostics, false);
            return Err(Error::Rules(text));
        }
        Ok(Firewall {
            ruleset: loaded.ruleset,
            warnings: loaded.diagnostics,
            local: Vec::new(),
            lan: Vec::new(),
            host: None,
            params: Params::default(),
            trust_checksums: false,
        })
    }

    /// The host's own addresses (`--local`; 127.0.0.0/8 always is).
    pub fn with_local(mut self, addrs: &[&str]) -> Result<Firewall, Error> {
        for a in addrs {
            let ip = a.parse().map_err(|e: std::net::AddrParseError| {
                Error::Address(a.to_string(), e.to_string())
            })?;
            self.local.push(ip);
        }
        Ok(self)
    }

    /// Networks behind eth1 (`--lan`); everything else is behind eth0.
    pub fn with_lan(mut self, nets: &[&str]) -> Result<Firewall, Error> {
        for n in nets {
            let net = crate::ir::addr::parse_one(n)
                .map_err(|e| Error::Address(n.to_string(), e.to_string()))?;
            self.lan.push(net);
        }
        Ok(self)
    }

    /// A full host description instead of the `--local`/`--lan` model.
    pub fn with_host(mut self, host: Host) -> Firewall {
        self.host = Some(host);
        self
    }

    /// A host description in the TOML of `iptwalk replay --host`.
    pub fn with_host_toml(self, text: &str) -> Result<Firewall, Error> {
        let host = Host::from_toml(text).map_err(Error::Host)?;
        Ok(self.with_host(host))
    }

    /// A conntrack sysctl by its kernel name, e.g. `nf_conntrack_tcp_loose`.
    pub fn with_sysctl(mut self, name: &str, value: i64) -> Result<Firewall, Error> {
        self.params
            .set(name, value)
            .map_err(|e| Error::Sysctl(name.to_string(), e))?;
        Ok(self)
    }

    /// Treat layer-4 checksums as correct (captures of offloaded traffic).
    pub fn trust_checksums(mut self, on: bool) -> Firewall {
        self.trust_checksums = on;
        self
    }

    /// The loaded ruleset.
    pub fn ruleset(&self) -> &Ruleset {
        &self.ruleset
    }

    /// Warnings from loading (e.g. shell lines that were not interpreted).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    fn host(&self) -> Host {
        self.host
            .clone()
            .unwrap_or_else(|| Host::oracle(&self.local, &self.lan))
    }

    fn engine(&self) -> Engine<'_> {
        let host = self.host();
        let opts = Options {
            trust_checksums: self.trust_checksums,
            ..Options::default()
        };
        Engine::new(&self.ruleset, host, self.params, opts)
    }

    /// Replays a pcap or pcapng file: one record per capture record, in
    /// order. A record that cannot be read becomes a [`Skipped`] with its
    /// `error`; a broken file header or a record whose length cannot be
    /// trusted ends the replay with an error.
    pub fn replay_pcap(&self, path: impl AsRef<Path>) -> Result<Vec<Record>, Error> {
        let mut reader = CaptureReader::open(path.as_ref())?;
        let mut engine = self.engine();
        let mut out = Vec::new();
        while let Some(next) = reader.next_frame() {
            match next {
                Ok(frame) => out.push(engine.process(&frame)),
                Err(e) if e.is_fatal() => return Err(e.into()),
                Err(e) => {
                    if let packet::CaptureError::Record { index, .. } = &e {
                        out.push(Record::Skipped(Skipped {
                            index: *index,
                            skipped: None,
                            error: Some(e.to_string()),
                        }));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Replays packets written in the summary notation (`tcp
    /// 10.0.0.7:51000>10.0.0.1:22 S`, see `iptwalk trace --help`) through one
    /// conntrack table, 1 ms apart: index N is the Nth packet.
    pub fn replay_packets(&self, packets: &[&str]) -> Result<Vec<Outcome>, Error> {
        let synth = packets
            .iter()
            .map(|p| packet::parse_summary(p).map_err(|e| Error::Packet(p.to_string(), e)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut engine = self.engine();
        let mut out = Vec::new();
        for (i, pkt) in synth.iter().enumerate() {
            let bytes = pkt.bytes();
            let frame = Frame {
                index: i as u64,
                offset: 0,
                ts_ns: FIRST_NS + i as i128 * STEP_NS,
                linktype: packet::link::linktype::RAW,
                iface: None,
                orig_len: bytes.len() as u32,
                data: bytes,
                anomaly: None,
            };
            match engine.process(&frame) {
                Record::Packet(o) => out.push(*o),
                // A synthetic packet is always IPv4; keep the reason if not.
                Record::Skipped(s) => {
                    let why = s.skipped.or(s.error).unwrap_or_default();
                    return Err(Error::Host(format!(
                        "packet `{}` skipped: {why}",
                        packets[i]
                    )));
                }
            }
        }
        Ok(out)
    }

    /// One packet through every hook, table and chain, as `iptwalk trace`:
    /// each rule tested and why it did or did not match. `state` first sets
    /// up conntrack so the packet has that state (ESTABLISHED, RELATED; see
    /// [`crate::eval::single`]). [`crate::report::trace::render_text`] prints
    /// it as the CLI does; the report is also `Serialize` (the JSON form).
    pub fn trace(
        &self,
        packet: &str,
        state: Option<crate::conntrack::CtState>,
    ) -> Result<crate::report::trace::TraceReport, Error> {
        let pkt =
            packet::parse_summary(packet).map_err(|e| Error::Packet(packet.to_string(), e))?;
        let host = self.host();
        let traced = crate::eval::single::trace_packet(
            &self.ruleset,
            host,
            self.params,
            &pkt,
            state,
            Options::default(),
        )?;
        Ok(crate::report::trace::TraceReport::new(
            &self.ruleset,
            traced,
        ))
    }

    /// One packet from a fresh conntrack table: `replay_packets(&[packet])`.
    pub fn check(&self, packet: &str) -> Result<Outcome, Error> {
        let mut v = self.replay_packets(&[packet])?;
        v.pop()
            .ok_or_else(|| Error::Host("no outcome for the packet".to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::outcome::Verdict;

    const RULES: &str = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n";

    fn fw() -> Firewall {
        Firewall::parse("t.v4", RULES)
            .unwrap()
            .with_local(&["10.0.0.1"])
            .unwrap()
    }

    #[test]
    fn packets_of_one_call_share_conntrack() {
        let o = fw()
            .replay_packets(&[
                "tcp 192.0.2.7:40000>10.0.0.1:22 S seq=100",
                "tcp 10.0.0.1:22>192.0.2.7:40000 SA seq=500 ack=101",
                "tcp 192.0.2.7:40000>10.0.0.1:22 A seq=101 ack=501",
            ])
            .unwrap();
        let got: Vec<_> = o
            .iter()
            .map(|o| (o.verdict, o.ctstate, o.rule.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Verdict::Accept, Some("NEW"), Some("filter/INPUT/2")),
                (Verdict::Accept, Some("ESTABLISHED"), None),
                (Verdict::Accept, Some("ESTABLISHED"), Some("filter/INPUT/1")),
            ]
        );
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let e = Firewall::parse(
            "bad.v4",
            "*filter\n-A INPUT -p tcp --dport x -j ACCEPT\nCOMMIT\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("bad.v4:2:"), "{e}");
        assert!(matches!(fw().check("tcp nonsense"), Err(Error::Packet(..))));
        assert!(matches!(
            fw().with_local(&["10.0.0"]),
            Err(Error::Address(..))
        ));
        assert!(matches!(
            fw().with_sysctl("nf_conntrack_nope", 1),
            Err(Error::Sysctl(..))
        ));
        assert!(matches!(
            fw().replay_pcap("/nonexistent.pcap"),
            Err(Error::Capture(_))
        ));
        assert_eq!(
            fw().check("tcp 192.0.2.7:40000>10.0.0.1:23 S")
                .unwrap()
                .verdict,
            Verdict::Drop
        );
    }

    fn kernel(path: &str) -> Vec<serde_json::Value> {
        let path = format!("{}/testdata/{path}", env!("CARGO_MANIFEST_DIR"));
        let k: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        k["packets"].as_array().unwrap().clone()
    }

    fn same(o: &Outcome, k: &serde_json::Value) {
        let got = serde_json::json!({
            "hook": o.hook, "verdict": o.verdict, "ctstate": o.ctstate,
            "ctdir": o.ctdir, "rule": o.rule, "summary": o.summary,
        });
        for field in ["hook", "verdict", "ctstate", "ctdir", "rule", "summary"] {
            assert_eq!(got[field], k[field], "{field} of {}", k["summary"]);
        }
    }

    #[test]
    fn trace_explains_like_the_cli() {
        let t = fw()
            .trace(
                "tcp 192.0.2.7:40000>10.0.0.1:22 A seq=101 ack=501",
                Some(crate::conntrack::CtState::Established),
            )
            .unwrap();
        let text = crate::report::trace::render_text(&t);
        assert!(
            text.contains("verdict   ACCEPT at INPUT by filter/INPUT/1"),
            "{text}"
        );
        assert_eq!(t.packet().map(|o| o.ctstate), Some(Some("ESTABLISHED")));
    }

    /// The packets testdata/examples/snapshot_my_firewall.rs writes by hand
    /// get what the real kernel gave them (testdata/examples/kernel.json, the
    /// oracle on handshake.pcap), and the scenario's capture too.
    #[test]
    fn the_example_packets_get_the_kernels_answers() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/scenarios/hm_user_chains"
        );
        let fw = Firewall::load(format!("{dir}/rules.v4"))
            .unwrap()
            .with_local(&["10.0.0.104"])
            .unwrap();
        let out = fw
            .replay_packets(&[
                "tcp 10.0.0.77:50900>10.0.0.104:22 S seq=1000",
                "tcp 10.0.0.104:22>10.0.0.77:50900 SA seq=5000 ack=1001",
                "tcp 10.0.0.77:50900>10.0.0.104:22 A seq=1001 ack=5001",
                "udp 203.0.113.10:5000>10.0.0.104:53",
            ])
            .unwrap();
        let k = kernel("examples/kernel.json");
        assert_eq!(out.len(), k.len());
        out.iter().zip(&k).for_each(|(o, k)| same(o, k));
        let records = fw.replay_pcap(format!("{dir}/trace.pcap")).unwrap();
        let k = kernel("scenarios/hm_user_chains/kernel.json");
        assert_eq!(records.len(), k.len());
        for (r, k) in records.iter().zip(&k) {
            match r {
                Record::Packet(o) => same(o, k),
                Record::Skipped(s) => panic!("record {} skipped", s.index),
            }
        }
    }
}
