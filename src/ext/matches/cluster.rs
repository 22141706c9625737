//! `-m cluster` (libxt_cluster.c, xt_cluster.c): hashes the connection's
//! original source address with a seed onto one of N nodes and matches when
//! that node is in the local node mask. `--cluster-local-node K` is stored
//! (and saved) as the mask bit K-1. Not judged offline: the hash is the
//! kernel's jhash and belongs to a live cluster setup.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{xt_exclusive, xt_mandatory, xt_uint};
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

/// XT_CLUSTER_NODES_MAX.
pub const NODES_MAX: u64 = 32;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cluster {
    pub total_nodes: u32,
    pub node_mask: u32,
    pub hash_seed: u32,
    /// XT_CLUSTER_F_INV.
    pub invert: bool,
    given: Vec<&'static str>,
}

impl MatchDef for Cluster {
    const NAME: &'static str = "cluster";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("cluster-total-nodes"),
        OptSpec::req("cluster-local-node").inv(),
        OptSpec::req("cluster-local-nodemask").inv(),
        OptSpec::req("cluster-hash-seed"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "cluster-total-nodes" => {
                self.total_nodes = xt_uint(call, "cluster", 1, NODES_MAX)? as u32
            }
            "cluster-local-node" => {
                let n = xt_uint(call, "cluster", 1, NODES_MAX)? as u32;
                self.node_mask = 1u32.wrapping_shl(n - 1);
                self.invert |= call.invert;
            }
            "cluster-local-nodemask" => {
                self.node_mask = xt_uint(call, "cluster", 1, NODES_MAX)? as u32;
                self.invert |= call.invert;
            }
            "cluster-hash-seed" => {
                self.hash_seed = xt_uint(call, "cluster", 0, u64::from(u32::MAX))? as u32
            }
            _ => return unreachable_option(call),
        }
        self.given.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let has = |k: &str| self.given.contains(&k);
        if !has("cluster-total-nodes") {
            return Err(xt_mandatory("cluster", "cluster-total-nodes"));
        }
        if has("cluster-local-node") && has("cluster-local-nodemask") {
            return Err(xt_exclusive(
                "cluster",
                "cluster-local-node",
                "cluster-local-nodemask",
            ));
        }
        if !has("cluster-hash-seed") {
            return Err(xt_mandatory("cluster", "cluster-hash-seed"));
        }
        let too_big = u64::from(self.node_mask) >= 1u64 << self.total_nodes;
        if has("cluster-local-node") {
            if too_big {
                return Err(ExtError::new(
                    "cluster match: `--cluster-local-node' must be <= `--cluster-total-nodes'",
                ));
            }
        } else if has("cluster-local-nodemask") {
            if too_big {
                return Err(ExtError::new(
                    "cluster match: `--cluster-local-nodemask' too big for `--cluster-total-nodes'",
                ));
            }
        } else {
            return Err(ExtError::new(
                "cluster match: `--cluster-local-node' or`--cluster-local-nodemask' is missing",
            ));
        }
        Ok(())
    }

    /// `cluster_print`.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        let inv = if self.invert { "!" } else { "" };
        let _ = write!(
            out,
            " cluster {inv}node_mask=0x{:08x} total_nodes={} hash_seed=0x{:08x}",
            self.node_mask, self.total_nodes, self.hash_seed
        );
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let bang = if self.invert { " !" } else { "" };
        let _ = write!(
            out,
            "{bang} --cluster-local-nodemask 0x{:08x} --cluster-total-nodes {} --cluster-hash-seed 0x{:08x}",
            self.node_mask, self.total_nodes, self.hash_seed
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn node_to_mask() {
        assert_eq!(
            roundtrip("-m cluster --cluster-total-nodes 2 ! --cluster-local-node 2 --cluster-hash-seed 0xfeedcafe").unwrap(),
            "-m cluster ! --cluster-local-nodemask 0x00000002 --cluster-total-nodes 2 --cluster-hash-seed 0xfeedcafe"
        );
        assert!(roundtrip(
            "-m cluster --cluster-total-nodes 2 --cluster-local-node 3 --cluster-hash-seed 1"
        )
        .is_err());
        assert!(roundtrip("-m cluster --cluster-total-nodes 2 --cluster-hash-seed 1").is_err());
        assert!(roundtrip("-m cluster --cluster-total-nodes 3").is_err());
    }
}
