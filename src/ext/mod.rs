//! The extension registry: every match (`-m NAME`) and target (`-j NAME`).
//!
//! Each extension is one file under `matches/` or `targets/` that owns its
//! option table, parsing, checks (protocol dependency, allowed tables and
//! hooks) and canonical save text. The `registry!` list below names them all
//! and generates the [`Match`] and [`Target`] enums with their dispatch, so
//! adding an extension is one file and one line here. A name not listed is an
//! error with a span ("Couldn't load match `foo'"), never silently ignored.

pub mod facts;
pub mod matches;
pub mod netdb;
pub mod spec;
pub mod state;
pub mod targets;
pub mod value;

use crate::ir::hook::HookMask;
pub use facts::{Effects, Facts, MatchResult};
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
    /// Appends the `iptables -L -n` text, as the extension's `print` function
    /// in libxt_NAME.c prints it with `numeric` set (pieces usually begin with
    /// a space). An extension that prints nothing there says so in its body.
    fn list(&self, ctx: &RuleCtx, out: &mut String);
    /// Judges a packet as the kernel's match function does. Extensions that
    /// cannot be judged offline keep this default: the replay flags the
    /// packet as depending on them instead of guessing.
    fn eval(&self, _facts: &Facts) -> MatchResult {
        MatchResult::Unknown(Self::NAME)
    }
    /// Judges a packet with memory across packets (token buckets, counters,
    /// lists): `st` reaches this instance's state in the replay's store.
    /// Stateless matches keep this default, which is `eval`.
    fn eval_state(&self, facts: &Facts, _st: &mut state::State) -> MatchResult {
        self.eval(facts)
    }
}

/// What a target does to the packet (the parts replay models).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetResult {
    /// XT_CONTINUE: go on with the next rule.
    Continue,
    Accept,
    Drop,
    Queue,
    Stolen,
    /// Not modelled yet: replay continues as XT_CONTINUE and flags the packet
    /// `depends_on: [name]`.
    Unknown(&'static str),
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
    /// Appends the `iptables -L -n` text (the target's `print` function).
    fn list(&self, ctx: &RuleCtx, out: &mut String);
    /// Load-time checks that look at the rule's matches too (TCPMSS wants a
    /// tcp match requiring SYN); run after `check`.
    fn check_matches(
        &self,
        _ctx: &CheckCtx,
        _matches: &[crate::ir::rule::MatchEntry],
    ) -> ExtResult {
        Ok(())
    }
    /// Whether the target ends the packet's walk through the table (ACCEPT-,
    /// DROP- or REJECT-like); non-terminal targets return XT_CONTINUE.
    fn terminal(&self) -> bool {
        false
    }
    /// Runs the target on a packet, recording what it changes in `fx`. The
    /// default is honest about not being modelled.
    fn run(&self, _facts: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Unknown(Self::NAME)
    }
    /// Runs the target with the replay's memory (`-j SET` changes ipsets);
    /// targets without state keep this default, which is `run`.
    fn run_state(&self, facts: &Facts, fx: &mut Effects, _st: &mut state::State) -> TargetResult {
        self.run(facts, fx)
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
            pub fn list(&self, ctx: &RuleCtx, out: &mut String) {
                match self { $(Match::$mvar(m) => m.list(ctx, out)),* }
            }
            pub fn eval(&self, facts: &Facts) -> MatchResult {
                match self { $(Match::$mvar(m) => m.eval(facts)),* }
            }
            pub fn eval_state(&self, facts: &Facts, st: &mut state::State) -> MatchResult {
                match self { $(Match::$mvar(m) => m.eval_state(facts, st)),* }
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
            pub fn list(&self, ctx: &RuleCtx, out: &mut String) {
                match self { $(Target::$tvar(t) => t.list(ctx, out)),* }
            }
            pub fn check_matches(&self, ctx: &CheckCtx, matches: &[crate::ir::rule::MatchEntry]) -> ExtResult {
                match self { $(Target::$tvar(t) => t.check_matches(ctx, matches)),* }
            }
            pub fn terminal(&self) -> bool {
                match self { $(Target::$tvar(t) => t.terminal()),* }
            }
            pub fn run(&self, facts: &Facts, fx: &mut Effects) -> TargetResult {
                match self { $(Target::$tvar(t) => t.run(facts, fx)),* }
            }
            pub fn run_state(&self, facts: &Facts, fx: &mut Effects, st: &mut state::State) -> TargetResult {
                match self { $(Target::$tvar(t) => t.run_state(facts, fx, st)),* }
            }
        }
    };
}

registry! {
    matches {
        "addrtype" => Addrtype(matches::addrtype::Addrtype),
        "ah" => Ah(matches::ah::Ah),
        "bpf" => Bpf(matches::bpf::Bpf),
        "cgroup" => Cgroup(matches::cgroup::Cgroup),
        "cluster" => Cluster(matches::cluster::Cluster),
        "comment" => Comment(matches::comment::Comment),
        "connbytes" => Connbytes(matches::connbytes::Connbytes),
        "connlabel" => Connlabel(matches::connlabel::Connlabel),
        "connlimit" => Connlimit(matches::connlimit::Connlimit),
        "connmark" => Connmark(matches::connmark::Connmark),
        "conntrack" => Conntrack(matches::conntrack::Conntrack),
        "cpu" => Cpu(matches::cpu::Cpu),
        "dccp" => Dccp(matches::dccp::Dccp),
        "devgroup" => Devgroup(matches::devgroup::Devgroup),
        "dscp" => Dscp(matches::dscp::Dscp),
        "ecn" => Ecn(matches::ecn::Ecn),
        "esp" => Esp(matches::esp::Esp),
        "hashlimit" => Hashlimit(matches::hashlimit::Hashlimit),
        "helper" => Helper(matches::helper::Helper),
        "icmp" => Icmp(matches::icmp::Icmp),
        "ipcomp" => Ipcomp(matches::ipcomp::Ipcomp),
        "iprange" => Iprange(matches::iprange::Iprange),
        "ipvs" => Ipvs(matches::ipvs::Ipvs),
        "length" => Length(matches::length::Length),
        "limit" => Limit(matches::limit::Limit),
        "mac" => Mac(matches::mac::Mac),
        "mark" => Mark(matches::mark::Mark),
        "multiport" => Multiport(matches::multiport::Multiport),
        "nfacct" => Nfacct(matches::nfacct::Nfacct),
        "osf" => Osf(matches::osf::Osf),
        "owner" => Owner(matches::owner::Owner),
        "physdev" => Physdev(matches::physdev::Physdev),
        "pkttype" => Pkttype(matches::pkttype::Pkttype),
        "policy" => Policy(matches::policy::Policy),
        "quota" => Quota(matches::quota::Quota),
        "rateest" => Rateest(matches::rateest::Rateest),
        "realm" => Realm(matches::realm::Realm),
        "recent" => Recent(matches::recent::Recent),
        "rpfilter" => Rpfilter(matches::rpfilter::Rpfilter),
        "sctp" => Sctp(matches::sctp::Sctp),
        "set" => Set(matches::set::Set),
        "socket" => Socket(matches::socket::Socket),
        "state" => State(matches::state::State),
        "statistic" => Statistic(matches::statistic::Statistic),
        "string" => StringMatch(matches::string::StringMatch),
        "tcp" => Tcp(matches::tcp::Tcp),
        "tcpmss" => Tcpmss(matches::tcpmss::Tcpmss),
        "time" => Time(matches::time::Time),
        "tos" => Tos(matches::tos::Tos),
        "ttl" => Ttl(matches::ttl::Ttl),
        "u32" => U32(matches::u32::U32),
        "udp" => Udp(matches::udp::Udp),
    }
    targets {
        "LOG" => Log(targets::log::Log),
        "REJECT" => Reject(targets::reject::Reject),
        "DNAT" => Dnat(targets::dnat::Dnat),
        "SNAT" => Snat(targets::snat::Snat),
        "MASQUERADE" => Masquerade(targets::masquerade::Masquerade),
        "REDIRECT" => Redirect(targets::redirect::Redirect),
        "NETMAP" => Netmap(targets::netmap::Netmap),
        "MARK" => Mark(targets::mark::Mark),
        "CONNMARK" => Connmark(targets::connmark::Connmark),
        "CT" => Ct(targets::ct::Ct),
        "NOTRACK" => Notrack(targets::notrack::Notrack),
        "TRACE" => Trace(targets::trace::Trace),
        "TCPMSS" => Tcpmss(targets::tcpmss::Tcpmss),
        "CHECKSUM" => Checksum(targets::checksum::Checksum),
        "DSCP" => Dscp(targets::dscp::Dscp),
        "TOS" => Tos(targets::tos::Tos),
        "TTL" => Ttl(targets::ttl::Ttl),
        "CLASSIFY" => Classify(targets::classify::Classify),
        "NFLOG" => Nflog(targets::nflog::Nflog),
        "NFQUEUE" => Nfqueue(targets::nfqueue::Nfqueue),
        "AUDIT" => Audit(targets::audit::Audit),
        "SECMARK" => Secmark(targets::secmark::Secmark),
        "CONNSECMARK" => Connsecmark(targets::connsecmark::Connsecmark),
        "TEE" => Tee(targets::tee::Tee),
        "IDLETIMER" => Idletimer(targets::idletimer::Idletimer),
        "ECN" => Ecn(targets::ecn::Ecn),
        "SYNPROXY" => Synproxy(targets::synproxy::Synproxy),
        "TPROXY" => Tproxy(targets::tproxy::Tproxy),
        "TCPOPTSTRIP" => Tcpoptstrip(targets::tcpoptstrip::Tcpoptstrip),
        "SET" => Set(targets::set::Set),
        "HMARK" => Hmark(targets::hmark::Hmark),
        "RATEEST" => Rateest(targets::rateest::Rateest),
        "LED" => Led(targets::led::Led),
        "ULOG" => Ulog(targets::ulog::Ulog),
    }
}

/// The match that `-p NAME` loads implicitly when an option is not known yet
/// (`load_proto()` in iptables/xshared.c): the extension named like the
/// protocol, if there is one.
pub fn proto_match_name(proto: u8) -> Option<&'static str> {
    let name = crate::ir::proto::name(proto)?;
    MATCH_NAMES.iter().copied().find(|m| *m == name)
}
