//! Output formats. Only formats: no decisions are made here.

pub mod diagnostics;
pub mod findings;
pub mod graph;
pub mod pcap;
pub mod replay;
pub mod style;
pub mod trace;
