//! The extension registry: every match (`-m NAME`) and target (`-j NAME`).
//!
//! Each extension is one file under `matches/` or `targets/` that owns its
//! option table, parsing, checks (protocol dependency, allowed tables and
//! hooks) and canonical save text. The [`registry!`] list below names them all
//! and generates the [`Match`] and [`Target`] enums with their dispatch, so
//! adding an extension is one file and one line here. A name not listed is an
//! error with a span ("Couldn't load match `foo'"), never silently ignored.

pub mod matches;
pub mod netdb;
pub mod spec;
pub mod targets;
pub mod value;

use crate::ir::hook::HookMask;
pub use spec::{Arg, ExtError, ExtResult, OptCall, OptSpec};
use std::fmt;

/// What an extension may know of the rule it sits in while parsing and
/// saving: the protocol given with `-p` (0 = any) and whether it was negated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleCtx {
    pub proto: u8,
    pub proto_inv: bool,
}

impl RuleCtx {
    /// The `-p` protocol, when given without `!`.
    pub fn proto(&self) -> Option<u8> {
        (!self.proto_inv && self.proto != 0).then_some(self.proto)
    }
}

/// What the kernel's `checkentry` sees when a table is loaded: the table, the
/// hooks from which the rule is reachable, and the rule's protocol.
#[derive(Debug, Clone, Copy)]
pub struct CheckCtx<'a> {
    pub table: &'a str,
    pub hooks: HookMask,
    pub rule: RuleCtx,
}

/// A match extension (`-m NAME`), one per file under `matches/`.
pub trait MatchDef: Default + Clone + fmt::Debug + PartialEq {
    const NAME: &'static str;
    const OPTIONS: &'static [OptSpec];
    /// One option occurrence, in command-line order.
    fn parse(&mut self, call: &OptCall, ctx: &RuleCtx) -> ExtResult;
    /// After the rule's last word: userspace's `final_check`.
    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        Ok(())
    }
    /// The kernel's `checkentry` at table load (protocol, table, hooks).
    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        Ok(())
    }
    /// The name printed after `-m` (an alias may print another).
    fn save_name(&self) -> &'static str {
        Self::NAME
    }
    /// Appends the canonical options, each preceded by a space, as the
    /// extension's `save` function in libxt_NAME.c prints them.
    fn save(&self, ctx: &RuleCtx, out: &mut String);
}

/// A target extension (`-j NAME`), one per file under `targets/`.
pub trait TargetDef: Default + Clone + fmt::Debug + PartialEq {
    const NAME: &'static str;
    const OPTIONS: &'static [OptSpec];
    fn parse(&mut self, call: &OptCall, ctx: &RuleCtx) -> ExtResult;
    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        Ok(())
    }
    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        Ok(())
    }
    fn save_name(&self) -> &'static str {
        Self::NAME
    }
    fn save(&self, ctx: &RuleCtx, out: &mut String);
    /// Whether the target ends the packet's walk through the table (ACCEPT-,
    /// DROP- or REJECT-like); non-terminal targets return XT_CONTINUE.
    fn terminal(&self) -> bool {
        false
    }
}

macro_rules! registry {
    (
        matches { $($mname:literal => $mvar:ident($mty:ty)),* $(,)? }
        targets { $($tname:literal => $tvar:ident($tty:ty)),* $(,)? }
    ) => {
        /// A parsed match: one variant per match extension.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Match { $($mvar($mty)),* }

        /// A parsed target extension: one variant per target extension.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Target { $($tvar($tty)),* }

        /// Names of all match extensions, as `-m` takes them.
        pub const MATCH_NAMES: &[&str] = &[$($mname),*];
        /// Names of all target extensions, as `-j` takes them.
        pub const TARGET_NAMES: &[&str] = &[$($tname),*];

        impl Match {
            /// A fresh match for `-m name`, or `None` for an unknown name.
            pub fn new(name: &str) -> Option<Match> {
                match name {
                    $($mname => Some(Match::$mvar(<$mty>::default())),)*
                    _ => None,
                }
            }
            pub fn name(&self) -> &'static str {
                match self { $(Match::$mvar(_) => <$mty as MatchDef>::NAME),* }
            }
            pub fn options(&self) -> &'static [OptSpec] {
                match self { $(Match::$mvar(_) => <$mty as MatchDef>::OPTIONS),* }
            }
            pub fn parse(&mut self, call: &OptCall, ctx: &RuleCtx) -> ExtResult {
                match self { $(Match::$mvar(m) => m.parse(call, ctx)),* }
            }
            pub fn finalize(&mut self, ctx: &RuleCtx) -> ExtResult {
                match self { $(Match::$mvar(m) => m.finalize(ctx)),* }
            }
            pub fn check(&self, ctx: &CheckCtx) -> ExtResult {
                match self { $(Match::$mvar(m) => m.check(ctx)),* }
            }
            pub fn save_name(&self) -> &'static str {
                match self { $(Match::$mvar(m) => m.save_name()),* }
            }
            pub fn save(&self, ctx: &RuleCtx, out: &mut String) {
                match self { $(Match::$mvar(m) => m.save(ctx, out)),* }
            }
        }

        impl Target {
            pub fn new(name: &str) -> Option<Target> {
                match name {
                    $($tname => Some(Target::$tvar(<$tty>::default())),)*
                    _ => None,
                }
            }
            pub fn name(&self) -> &'static str {
                match self { $(Target::$tvar(_) => <$tty as TargetDef>::NAME),* }
            }
            pub fn options(&self) -> &'static [OptSpec] {
                match self { $(Target::$tvar(_) => <$tty as TargetDef>::OPTIONS),* }
            }
            pub fn parse(&mut self, call: &OptCall, ctx: &RuleCtx) -> ExtResult {
                match self { $(Target::$tvar(t) => t.parse(call, ctx)),* }
            }
            pub fn finalize(&mut self, ctx: &RuleCtx) -> ExtResult {
                match self { $(Target::$tvar(t) => t.finalize(ctx)),* }
            }
            pub fn check(&self, ctx: &CheckCtx) -> ExtResult {
                match self { $(Target::$tvar(t) => t.check(ctx)),* }
            }
            pub fn save_name(&self) -> &'static str {
                match self { $(Target::$tvar(t) => t.save_name()),* }
            }
            pub fn save(&self, ctx: &RuleCtx, out: &mut String) {
                match self { $(Target::$tvar(t) => t.save(ctx, out)),* }
            }
            pub fn terminal(&self) -> bool {
                match self { $(Target::$tvar(t) => t.terminal()),* }
            }
        }
    };
}

registry! {
    matches {
        "addrtype" => Addrtype(matches::addrtype::Addrtype),
        "ah" => Ah(matches::ah::Ah),
        "comment" => Comment(matches::comment::Comment),
        "connmark" => Connmark(matches::connmark::Connmark),
        "conntrack" => Conntrack(matches::conntrack::Conntrack),
        "dccp" => Dccp(matches::dccp::Dccp),
        "esp" => Esp(matches::esp::Esp),
        "hashlimit" => Hashlimit(matches::hashlimit::Hashlimit),
        "icmp" => Icmp(matches::icmp::Icmp),
        "iprange" => Iprange(matches::iprange::Iprange),
        "length" => Length(matches::length::Length),
        "limit" => Limit(matches::limit::Limit),
        "mac" => Mac(matches::mac::Mac),
        "mark" => Mark(matches::mark::Mark),
        "multiport" => Multiport(matches::multiport::Multiport),
        "owner" => Owner(matches::owner::Owner),
        "physdev" => Physdev(matches::physdev::Physdev),
        "pkttype" => Pkttype(matches::pkttype::Pkttype),
        "recent" => Recent(matches::recent::Recent),
        "sctp" => Sctp(matches::sctp::Sctp),
        "state" => State(matches::state::State),
        "tcp" => Tcp(matches::tcp::Tcp),
        "udp" => Udp(matches::udp::Udp),
    }
    targets {
        "LOG" => Log(targets::log::Log),
    }
}

/// The match that `-p NAME` loads implicitly when an option is not known yet
/// (`load_proto()` in iptables/xshared.c): the extension named like the
/// protocol, if there is one.
pub fn proto_match_name(proto: u8) -> Option<&'static str> {
    let name = crate::ir::proto::name(proto)?;
    MATCH_NAMES.iter().copied().find(|m| *m == name)
}
