//! Memory of stateful matches across packets during a replay.
//!
//! The kernel keeps state inside match instances (`xt_limit`'s token bucket,
//! `xt_quota`'s remaining bytes, `xt_statistic`'s nth counter,
//! `xt_connlimit`'s connection lists) and in named objects shared by every
//! rule naming them (`xt_recent` lists, `xt_hashlimit` tables). A [`Store`]
//! holds both for one replay: per match instance under a [`MatchKey`]
//! (table, chain, rule, match index: a rule's position after load never
//! changes during a replay), and per (kind, name) for the shared objects.
//! Values are typed by the extension that owns them (`Any`), so each match
//! keeps its state type in its own file.
//!
//! Time is the capture time of the packet (`Facts::now_ns`), never the wall
//! clock. The kernel counts time in jiffies; [`jiffies`] converts with the
//! HZ of the oracle's kernel (`CONFIG_HZ=250`, read from /proc/config.gz of
//! the 6.18 kernel the scenarios were made with).
//!
//! Matches that look at conntrack beyond the packet's own facts (connlimit's
//! lookups of remembered tuples, connbytes' accounting counters) ask through
//! the narrow [`ConnView`] trait, which `eval` implements over its conntrack
//! table; `ext` stays independent of `conntrack`.

use std::any::Any;
use std::collections::HashMap;

/// `CONFIG_HZ` of the reference kernel (6.18.44, /proc/config.gz).
pub const HZ: u64 = 250;

/// The kernel's `jiffies` at capture time `now_ns`. The phase of the real
/// counter (INITIAL_JIFFIES, boot time) is unknown offline; only differences
/// matter to the matches, so the epoch is taken as jiffy 0.
pub fn jiffies(now_ns: u64) -> u64 {
    now_ns / (1_000_000_000 / HZ)
}

/// Where a match instance sits: the table's index in the ruleset, the chain
/// index in the table, the rule index in the chain and the match's index in
/// the rule (all 0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MatchKey {
    pub table: usize,
    pub chain: usize,
    pub rule: usize,
    pub idx: usize,
}

/// A conntrack tuple as the stateful matches need it (IPv4): the protocol,
/// addresses and the layer-4 identity (ports, or ICMP id and type/code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnKey {
    pub proto: u8,
    pub src: u32,
    pub dst: u32,
    /// Ports (src, dst); ICMP: (id, type << 8 | code); others (0, 0).
    pub l4: (u16, u16),
}

/// What a remembered tuple maps to in the conntrack table now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// No confirmed entry holds the tuple (`nf_conntrack_find_get` fails).
    Gone,
    /// A TCP entry in TIME_WAIT or CLOSE (`already_closed` in nf_conncount.c).
    Closed,
    Alive,
}

/// Per-direction accounting of a connection (`struct nf_conn_counter`):
/// `[original, reply]` as (packets, bytes).
pub type Acct = [(u64, u64); 2];

/// The conntrack questions stateful matches ask.
pub trait ConnView {
    /// The original tuple of the packet's own entry (`ct->tuplehash[0]`),
    /// confirmed or not; `None` when the packet has no entry.
    fn current(&self) -> Option<ConnKey>;
    /// Whether a confirmed entry holds `key`.
    fn presence(&self, key: &ConnKey) -> Presence;
    /// The accounting counters of the packet's entry.
    fn acct(&self) -> Option<Acct>;
}

/// No conntrack at all (unit tests, `trace` without a table).
pub struct NoConns;

impl ConnView for NoConns {
    fn current(&self) -> Option<ConnKey> {
        None
    }
    fn presence(&self, _key: &ConnKey) -> Presence {
        Presence::Gone
    }
    fn acct(&self) -> Option<Acct> {
        None
    }
}

/// All stateful-match memory of one replay.
#[derive(Default)]
pub struct Store {
    rules: HashMap<MatchKey, Box<dyn Any>>,
    named: HashMap<(&'static str, String), Box<dyn Any>>,
    /// The replay's ipsets (`--ipset FILE`); `None`: sets are unknown and
    /// `-m set` / `-j SET` are flagged instead of judged.
    pub ipsets: Option<crate::ipset::Sets>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("rules", &self.rules.len())
            .field("named", &self.named.len())
            .field("ipsets", &self.ipsets.as_ref().map(|s| s.sets.len()))
            .finish()
    }
}

/// The typed slot inside a boxed value; a value of another type (cannot
/// happen for a fixed key, as one key is one extension) is replaced.
fn typed<T: Any>(b: &mut Box<dyn Any>) -> &mut Option<T> {
    if !b.is::<Option<T>>() {
        *b = Box::new(None::<T>);
    }
    match b.downcast_mut::<Option<T>>() {
        Some(slot) => slot,
        None => unreachable!("the box was just made to hold Option<T>"),
    }
}

/// What one match instance sees of the store while judging one packet.
pub struct State<'s> {
    store: &'s mut Store,
    key: MatchKey,
    pub conns: &'s dyn ConnView,
}

impl<'s> State<'s> {
    pub fn new(store: &'s mut Store, key: MatchKey, conns: &'s dyn ConnView) -> State<'s> {
        State { store, key, conns }
    }

    /// This match instance's own state; `None` before its first packet.
    pub fn rule<T: Any>(&mut self) -> &mut Option<T> {
        let b = self
            .store
            .rules
            .entry(self.key)
            .or_insert_with(|| Box::new(None::<T>));
        typed(b)
    }

    /// The replay's ipsets, when it has them.
    pub fn ipsets(&mut self) -> Option<&mut crate::ipset::Sets> {
        self.store.ipsets.as_mut()
    }

    /// A named object shared by every rule naming it (`kind` = the
    /// extension's name, so `-m recent --name x` and `-m hashlimit
    /// --hashlimit-name x` stay apart).
    pub fn named<T: Any>(&mut self, kind: &'static str, name: &str) -> &mut Option<T> {
        let b = self
            .store
            .named
            .entry((kind, name.to_string()))
            .or_insert_with(|| Box::new(None::<T>));
        typed(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: MatchKey = MatchKey {
        table: 0,
        chain: 1,
        rule: 2,
        idx: 0,
    };

    #[test]
    fn rule_state_persists_and_is_per_key() {
        let mut store = Store::default();
        {
            let mut st = State::new(&mut store, K, &NoConns);
            *st.rule::<u32>().get_or_insert(0) += 5;
        }
        let mut st = State::new(&mut store, K, &NoConns);
        assert_eq!(*st.rule::<u32>(), Some(5));
        let other = MatchKey { idx: 1, ..K };
        let mut st2 = State::new(&mut store, other, &NoConns);
        assert_eq!(*st2.rule::<u32>(), None);
    }

    #[test]
    fn named_state_is_shared_by_name_and_kind() {
        let mut store = Store::default();
        State::new(&mut store, K, &NoConns)
            .named::<u32>("recent", "a")
            .replace(7);
        let other = MatchKey { rule: 9, ..K };
        let mut st = State::new(&mut store, other, &NoConns);
        assert_eq!(*st.named::<u32>("recent", "a"), Some(7));
        assert_eq!(*st.named::<u32>("hashlimit", "a"), None);
    }

    #[test]
    fn jiffies_at_hz_250() {
        assert_eq!(jiffies(3_999_999), 0);
        assert_eq!(jiffies(4_000_000), 1);
        assert_eq!(jiffies(1_000_000_000), 250);
    }
}
