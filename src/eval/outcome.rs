//! The per-packet record of a replay: what the host did with one capture
//! record, in the field names and meanings of the kernel oracle's
//! `kernel.json` (and ARCHITECTURE.md §5), so outputs compare directly.

use crate::conntrack::CtView;
use serde::Serialize;
use std::sync::Arc;

/// `table/CHAIN/N` of a rule (N 1-based, as `iptables -L --line-numbers`). Shared: the
/// engine names each rule once and every record it decides points at that name.
pub type RuleName = Arc<str>;

/// An interface name: at most 15 bytes (`IFNAMSIZ`), so always stored inline, never allocated.
pub type IfName = compact_str::CompactString;

/// A filter-table verdict as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Accept,
    Drop,
    Reject,
    /// Never entered the filter table: dropped in raw/mangle/nat, by
    /// routing, or a fragment held for reassembly.
    NotReached,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
            Verdict::Reject => "REJECT",
            Verdict::NotReached => "NOT_REACHED",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Ifaces {
    #[serde(rename = "in", skip_serializing_if = "Option::is_none")]
    pub input: Option<IfName>,
    #[serde(rename = "out", skip_serializing_if = "Option::is_none")]
    pub output: Option<IfName>,
}

/// One filter hook on a path that crosses several (local → local via lo).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookPass {
    pub hook: &'static str,
    pub verdict: Verdict,
    #[serde(rename = "in", skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(rename = "out", skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// A packet the host itself would send in answer (informational).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generated {
    pub src: String,
    pub dst: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    pub by: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub index: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook: Option<&'static str>,
    pub verdict: Verdict,
    pub ctstate: Option<&'static str>,
    pub ctdir: Option<&'static str>,
    pub rule: Option<RuleName>,
    pub summary: String,
    pub path: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_with: Option<&'static str>,
    pub iface: Ifaces,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookPass>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fate: Option<Verdict>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub generated: Vec<Generated>,
    pub ct_after: Option<CtView>,
    pub matched: Vec<RuleName>,
    /// Matches or targets this outcome depends on that cannot be judged
    /// offline (or are not modelled yet).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<&'static str>,
    /// TRACE lines, when asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<String>,
    /// The lines LOG rules wrote to the kernel log for this packet, in order, as dmesg
    /// shows them without the timestamp (`replay --log`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
    /// The header the filter table saw, when NAT changed it (summary notation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_filter: Option<String>,
    /// The header that left the host, when NAT changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<String>,
    /// NAT had to pick a port where the kernel draws one at random (`get_random_u16` in
    /// `nf_nat_l4proto_unique_tuple`): the port in `egress` and `ct_after` is ours, the
    /// oracle shows `~natportN` there.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub nat_random_port: bool,
    /// Why the record was not replayed exactly (e.g. a malformed header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What totals count of a replayed packet, borrowed: from a whole [`Outcome`],
/// or from what the established-flow lane learned (a verdicts-only replay then
/// builds no record at all; see [`crate::eval::engine::Step`]).
#[derive(Debug, Clone, Copy)]
pub struct Brief<'a> {
    pub verdict: Verdict,
    pub hook: Option<&'static str>,
    pub ctstate: Option<&'static str>,
    pub rule: Option<&'a RuleName>,
    pub depends_on: &'a [&'static str],
}

impl Outcome {
    pub fn brief(&self) -> Brief<'_> {
        Brief {
            verdict: self.verdict,
            hook: self.hook,
            ctstate: self.ctstate,
            rule: self.rule.as_ref(),
            depends_on: &self.depends_on,
        }
    }
}

/// A record that is not an IPv4 packet, or could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub index: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Either kind of record, in capture order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Record {
    Packet(Box<Outcome>),
    Skipped(Skipped),
}
