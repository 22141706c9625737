//! The lint registry: one module per lint, listed once in [`ALL`].

use super::Lint;

pub mod refused;
pub mod util;

pub mod deprecated_state;
pub mod dnat_not_forwarded;
pub mod duplicate_rule;
pub mod empty_chain;
pub mod ftp_without_helper;
pub mod invalid_not_dropped;
pub mod jump_loop;
pub mod masquerade_static;
pub mod missing_chain;
pub mod missing_protocol;
pub mod mixed_state_matches;
pub mod new_without_syn;
pub mod no_established_accept;
pub mod non_canonical;
pub mod rejected_rule;
pub mod shadowed_rule;
pub mod sport_as_reply;
pub mod syn_flags_without_ack;
pub mod syn_instead_of_state;
pub mod unreachable_rule;
pub mod unused_chain;
pub mod wrong_hook;
pub mod wrong_table;

/// Every lint, in code order.
pub static ALL: &[Lint] = &[
    rejected_rule::LINT,
    wrong_table::LINT,
    wrong_hook::LINT,
    missing_chain::LINT,
    jump_loop::LINT,
    missing_protocol::LINT,
    shadowed_rule::LINT,
    unreachable_rule::LINT,
    unused_chain::LINT,
    empty_chain::LINT,
    duplicate_rule::LINT,
    shadowed_rule::REDUNDANT,
    no_established_accept::LINT,
    sport_as_reply::LINT,
    syn_instead_of_state::LINT,
    mixed_state_matches::LINT,
    new_without_syn::LINT,
    ftp_without_helper::LINT,
    invalid_not_dropped::LINT,
    dnat_not_forwarded::LINT,
    masquerade_static::LINT,
    non_canonical::LINT,
    deprecated_state::LINT,
    syn_flags_without_ack::LINT,
];
