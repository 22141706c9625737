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
#![forbid(unsafe_code)]

pub mod conntrack;
pub mod diagnostic;
pub mod eval;
pub mod ext;
pub mod ipset;
pub mod ir;
pub mod lint;
pub mod packet;
pub mod report;
pub mod source;
pub mod syntax;
