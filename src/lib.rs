//! # iptwalk
//!
//! An offline, root-free interpreter for the iptables rule language.
//!
//! ```text
//! rules text ──syntax──► ast::RuleFile ──ir::build + ext registry──► ir::Ruleset ──ir::save──► iptables-save text
//! capture ──packet::capture──► Frame ──packet::decode──► Packet
//! Packet + Ruleset ──eval::Engine (⇅ conntrack::Table)──► Outcome per packet ──report──► text / JSONL / ...
//! ipset save text ──ipset::parse──► ipset::Sets (what -m set and -j SET use during a replay)
//! ```
//!
//! A stage may use the stages above it, never one below: `packet` knows nothing of
//! rules, `conntrack` knows packets but not rules, `eval` joins them, `report` only formats.
//!
//! ## Using it from Rust: [`Firewall`]
//!
//! Load a ruleset, describe the host (its own addresses, the LAN behind `eth1`),
//! and replay a capture or packets written in the summary notation that
//! `iptwalk replay` prints and `iptwalk trace --packet` reads. Each packet gets
//! an [`Outcome`]: the [`Verdict`], the filter hook, the deciding rule as
//! `table/CHAIN/N` (`None` when a policy decided), the conntrack state and
//! direction, the rules that matched, and what cannot be judged offline.
//! The example's rules and packets are a kernel-truth scenario
//! (`testdata/scenarios/hm_user_chains`): the real kernel gave these verdicts.
//!
//! ```
//! use iptwalk::{Firewall, Verdict};
//!
//! # fn main() -> Result<(), iptwalk::Error> {
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/scenarios/hm_user_chains");
//! let fw = Firewall::load(format!("{dir}/rules.v4"))?.with_local(&["10.0.0.104"])?;
//!
//! // Packets in the summary notation, through one conntrack table.
//! let out = fw.replay_packets(&[
//!     "tcp 10.0.0.77:50800>10.0.0.104:22 S",
//!     "tcp 203.0.113.10:33001>10.0.0.104:22 S",
//! ])?;
//! assert_eq!(out[0].verdict, Verdict::Accept);
//! assert_eq!(out[0].rule.as_deref(), Some("filter/svc/1"));
//! assert_eq!((out[1].verdict, out[1].hook), (Verdict::Reject, Some("INPUT")));
//! assert_eq!(out[1].reject_with, Some("tcp-reset"));
//! assert_eq!(out[1].ctstate, Some("NEW"));
//!
//! // A capture: one record per capture record, as `replay --format jsonl`.
//! let records = fw.replay_pcap(format!("{dir}/trace.pcap"))?;
//! assert_eq!(records.len(), 10);
//! // Short lines, handy for snapshot tests (`insta::assert_snapshot!`).
//! let text = iptwalk::report::replay::lines(&records);
//! assert!(text.lines().nth(1).unwrap().contains("REJECT"));
//! # Ok(())
//! # }
//! ```
//!
//! [`Firewall::trace`] explains one packet rule by rule, as `iptwalk trace` does.
//! `testdata/examples/snapshot_my_firewall.rs` is a complete insta test to copy.
#![forbid(unsafe_code)]

pub mod conntrack;
pub mod diagnostic;
pub mod eval;
pub mod ext;
pub mod firewall;
pub mod ipset;
pub mod ir;
pub mod lint;
pub mod packet;
pub mod report;
pub mod source;
pub mod syntax;
#[cfg(test)]
mod test_rng;

pub use eval::host::Host;
pub use eval::outcome::{Outcome, Record, Verdict};
pub use firewall::{Error, Firewall};
