//! One rule as the kernel holds it: the `ipt_ip` header fields, the matches in
//! order, the target, and the counters.

use super::iface::Iface;
use super::net::IpNet;
use crate::ext::{Match, RuleCtx, Target};
use crate::source::{SourceFile, Span};
use crate::syntax::ast::Counters;
use std::sync::Arc;

/// The standard verdicts (`XT_STANDARD_TARGET` with a negative verdict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Accept,
    Drop,
    Queue,
    Return,
}

impl Verdict {
    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "ACCEPT" => Some(Verdict::Accept),
            "DROP" => Some(Verdict::Drop),
            "QUEUE" => Some(Verdict::Queue),
            "RETURN" => Some(Verdict::Return),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
            Verdict::Queue => "QUEUE",
            Verdict::Return => "RETURN",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RuleTarget {
    /// No `-j`: the rule only counts.
    None,
    Verdict(Verdict),
    /// `-j CHAIN`: returns here when the chain ends or RETURNs.
    Jump(String),
    /// `-g CHAIN`: does not push a return point.
    Goto(String),
    Ext(Target),
}

impl RuleTarget {
    /// The user chain this target enters, if any.
    pub fn chain(&self) -> Option<&str> {
        match self {
            RuleTarget::Jump(c) | RuleTarget::Goto(c) => Some(c),
            _ => None,
        }
    }
}

/// Where a rule came from, for diagnostics and lints.
#[derive(Debug, Clone)]
pub struct Origin {
    pub file: Arc<SourceFile>,
    /// The whole command (line) that created the rule.
    pub line: Span,
    /// The `-j`/`-g` target word, when there is one.
    pub target: Option<Span>,
}

#[derive(Debug, Clone)]
pub struct MatchEntry {
    pub m: Match,
    /// From `-m NAME` (or the first option, for an implicit protocol match)
    /// to the match's last option.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Rule {
    /// `-s`: IPv4 for now (ip6tables input is refused); see [`IpNet`].
    pub src: IpNet,
    pub src_inv: bool,
    pub dst: IpNet,
    pub dst_inv: bool,
    pub in_iface: Iface,
    pub in_inv: bool,
    pub out_iface: Iface,
    pub out_inv: bool,
    /// 0 = any protocol.
    pub proto: u8,
    pub proto_inv: bool,
    /// `-f`: only second and later fragments.
    pub frag: bool,
    pub frag_inv: bool,
    pub matches: Vec<MatchEntry>,
    pub target: RuleTarget,
    pub counters: Counters,
    pub origin: Origin,
}

impl Rule {
    pub fn ctx(&self) -> RuleCtx {
        RuleCtx {
            proto: self.proto,
            proto_inv: self.proto_inv,
        }
    }

    /// No condition on the IP header: any address, interface and protocol, no `-f`, nothing
    /// inverted (the header half of the kernel's `unconditional()` in ip_tables.c; whether
    /// matches count is the caller's question).
    pub fn header_is_any(&self) -> bool {
        self.src.is_any()
            && !self.src_inv
            && self.dst.is_any()
            && !self.dst_inv
            && self.in_iface.is_any()
            && self.out_iface.is_any()
            && self.proto == 0
            && !self.proto_inv
            && !self.frag
    }

    /// Same rule specification, as `-D CHAIN spec` compares (`iptc_delete_entry`
    /// compares the entry bytes; counters and source position are not part of it).
    pub fn same_spec(&self, other: &Rule) -> bool {
        self.src == other.src
            && self.src_inv == other.src_inv
            && self.dst == other.dst
            && self.dst_inv == other.dst_inv
            && self.in_iface == other.in_iface
            && self.in_inv == other.in_inv
            && self.out_iface == other.out_iface
            && self.out_inv == other.out_inv
            && self.proto == other.proto
            && self.proto_inv == other.proto_inv
            && self.frag == other.frag
            && self.frag_inv == other.frag_inv
            && self.target == other.target
            && self.matches.len() == other.matches.len()
            && self
                .matches
                .iter()
                .zip(&other.matches)
                .all(|(a, b)| a.m == b.m)
    }
}
