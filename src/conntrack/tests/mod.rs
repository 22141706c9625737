//! Test suites for conntrack: the sequence DSL and its behaviour cases.

mod cases;
mod dsl;
mod kernel_truth;
mod pcap;
