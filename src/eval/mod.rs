//! Evaluation: packets through hooks, tables and chains, joined with
//! conntrack. This first part is the chain walk shared by every command.

pub mod classify;
#[cfg(test)]
mod classify_tests;
pub mod diff;
pub mod engine;
pub mod expect;
pub mod explain;
pub mod header;
pub mod host;
mod host_index;
pub mod ipsets;
pub mod judge;
pub mod nat;
pub mod outcome;
mod outcome_json;
pub mod parallel;
pub mod reads;
pub mod single;
pub mod state;
pub mod view;
pub mod walk;
