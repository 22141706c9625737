//! One iptables command line (argv) to a [`ParsedCommand`], as `do_parse()` in
//! iptables/xshared.c (1.8.9) reads it.
//!
//! getopt_long semantics: long options match exactly or by a unique prefix and
//! take `--opt value` or `--opt=value`; an option unknown to everything loaded
//! so far makes `-p PROTO` load its match (`load_proto`) and is retried; `!`
//! negates the next option; the most recently loaded extension's options win.
//! Short options do not take glued values in 1.8.9 (`-ptcp` is refused), and
//! the old `--opt ! value` form is refused by the extensions that 1.8.9 parses
//! with the guided parser (checked against iptables-legacy 1.8.9).
//!
//! The loop over the words is here; iptables' own options are in `generic`,
//! extension options in `extension`, and the finished line's checks and
//! rules in `build`.

use super::addr::{self, Ipv4Net};
use super::iface::Iface;
use super::net::IpNet;
use super::proto;
use super::rule::{MatchEntry, Origin, Rule, RuleTarget, Verdict};
use crate::ext::spec::{lookup, Arg, ExtError, Lookup, OptCall, OptSpec};
use crate::ext::{self, Match, RuleCtx, Target};
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{Counters, Token};
use std::sync::Arc;

mod build;
mod extension;
mod generic;

pub use build::MAX_CHAIN_NAME;
use build::{check_chain_name, target_for};
pub use extension::closest;
use extension::with_owner_hint;
use generic::{generic_exact, short_arg, GENERIC};

/// What the command does.
#[derive(Debug, Clone)]
pub enum Op<'a> {
    Append(Token<'a>),
    Insert(Token<'a>, Option<(u32, Span)>),
    /// `-D CHAIN NUM` or `-D CHAIN rule-spec`.
    Delete(Token<'a>, Option<(u32, Span)>),
    Replace(Token<'a>, (u32, Span)),
    Check(Token<'a>),
    /// `-L`/`-S`: read-only.
    List,
    Flush(Option<Token<'a>>),
    Zero(Option<Token<'a>>, Option<(u32, Span)>),
    NewChain(Token<'a>),
    DeleteChain(Option<Token<'a>>),
    Policy(Token<'a>, Token<'a>),
    Rename(Token<'a>, Token<'a>),
}

impl Op<'_> {
    fn takes_rule(&self) -> bool {
        matches!(
            self,
            Op::Append(_) | Op::Insert(..) | Op::Replace(..) | Op::Check(_) | Op::Delete(_, None)
        )
    }
}

#[derive(Debug, Clone)]
pub struct ParsedCommand<'a> {
    pub op: Op<'a>,
    /// `-t NAME`, if given.
    pub table: Option<Token<'a>>,
    /// The rules the spec expands to (one per source × destination address).
    pub rules: Rules,
    /// Non-fatal remarks (iptables prints them as warnings).
    pub warnings: Vec<ExtError>,
}

/// The rules of one command: nearly always exactly one, held inline so a
/// command allocates no list for it (hence the variants' sizes differ).
#[derive(Debug, Clone, Default)]
#[allow(clippy::large_enum_variant)]
pub enum Rules {
    #[default]
    None,
    One(Rule),
    Many(Vec<Rule>),
}

impl Rules {
    /// Moves the rules to the end of `out`, in order.
    pub fn append_to(self, out: &mut Vec<Rule>) {
        match self {
            Rules::None => {}
            Rules::One(r) => out.push(r),
            Rules::Many(rs) => out.extend(rs),
        }
    }

    pub fn into_vec(self) -> Vec<Rule> {
        let mut out = Vec::new();
        self.append_to(&mut out);
        out
    }
}

impl std::ops::Deref for Rules {
    type Target = [Rule];
    fn deref(&self) -> &[Rule] {
        match self {
            Rules::None => &[],
            Rules::One(r) => std::slice::from_ref(r),
            Rules::Many(rs) => rs,
        }
    }
}

impl std::ops::DerefMut for Rules {
    fn deref_mut(&mut self) -> &mut [Rule] {
        match self {
            Rules::None => &mut [],
            Rules::One(r) => std::slice::from_mut(r),
            Rules::Many(rs) => rs,
        }
    }
}

/// Which extension of the command an option went to: a match by index, or
/// the target.
type OwnerId = u16;
const TARGET_OWNER: OwnerId = OwnerId::MAX;

/// The option keys each extension has been given (for "can only be used
/// once"): a few inline, so most commands allocate nothing for them.
#[derive(Default)]
struct Seen {
    inline: [(OwnerId, &'static str); 6],
    len: usize,
    more: Vec<(OwnerId, &'static str)>,
}

impl Seen {
    fn contains(&self, owner: OwnerId, key: &str) -> bool {
        let hit = |(o, k): &(OwnerId, &str)| *o == owner && *k == key;
        self.inline[..self.len].iter().any(hit) || self.more.iter().any(hit)
    }

    fn push(&mut self, owner: OwnerId, key: &'static str) {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                *slot = (owner, key);
                self.len += 1;
            }
            None => self.more.push((owner, key)),
        }
    }
}

/// Which parsed element an option belongs to.
enum Owner {
    Generic(char),
    Match(usize, &'static OptSpec),
    Target(&'static OptSpec),
}

struct Parser<'a> {
    args: &'a [Token<'a>],
    pos: usize,
    file: &'a Arc<SourceFile>,
    line: Span,
    op: Option<(Op<'a>, Span)>,
    table: Option<Token<'a>>,
    invert: Option<Span>,
    /// `-s`/`-d` words: resolved only after the whole line is read, as
    /// do_parse runs xtables_ipparse_multiple after its getopt loop (so
    /// `-s ! 1.2.3.4` is "Bad argument `1.2.3.4'", not a bad address `!`).
    src: Option<(Token<'a>, bool)>,
    dst: Option<(Token<'a>, bool)>,
    in_iface: Option<(Iface, bool)>,
    out_iface: Option<(Iface, bool)>,
    proto: Option<(u8, bool, Token<'a>)>,
    proto_used: bool,
    frag: Option<bool>,
    /// Each with its span so far (`-m NAME` to its last option).
    matches: Vec<MatchEntry>,
    target: Option<(RuleTarget, Span)>,
    seen: Seen,
    counters: Option<Counters>,
    warnings: Vec<ExtError>,
}

type PResult<T = ()> = Result<T, ExtError>;

/// Parses one command. `counters` is a restore line's `[p:b]` prefix.
pub fn parse<'a>(
    args: &'a [Token<'a>],
    file: &'a Arc<SourceFile>,
    line: Span,
    counters: Option<Counters>,
) -> PResult<ParsedCommand<'a>> {
    let mut p = Parser {
        args,
        pos: 0,
        file,
        line,
        op: None,
        table: None,
        invert: None,
        src: None,
        dst: None,
        in_iface: None,
        out_iface: None,
        proto: None,
        proto_used: false,
        frag: None,
        matches: Vec::new(),
        target: None,
        seen: Seen::default(),
        counters,
        warnings: Vec::new(),
    };
    while p.pos < args.len() {
        p.step()?;
    }
    p.finish()
}

impl<'a> Parser<'a> {
    fn next_word(&mut self) -> Option<&'a Token<'a>> {
        let t = self.args.get(self.pos)?;
        self.pos += 1;
        Some(t)
    }

    /// getopt's optional argument as iptables takes it: the next word, when it
    /// does not look like an option or `!`.
    fn optional_word(&mut self) -> Option<&'a Token<'a>> {
        let t = self.args.get(self.pos)?;
        if t.text.starts_with('-') || t.text.starts_with('!') {
            return None;
        }
        self.pos += 1;
        Some(t)
    }

    fn step(&mut self) -> PResult {
        let args = self.args;
        let tok = &args[self.pos];
        self.pos += 1;
        let text: &'a str = &tok.text;
        if text == "!" {
            if self.invert.is_some() {
                return Err(ExtError::new("multiple consecutive ! not allowed").at(tok.span));
            }
            self.invert = Some(tok.span);
            return Ok(());
        }
        if let Some(long) = text.strip_prefix("--").filter(|l| !l.is_empty()) {
            // A byte scan: `split_once` with a char pattern costs more on
            // words this short.
            let (name, inline) = match long.bytes().position(|b| b == b'=') {
                Some(at) => (&long[..at], Some(&long[at + 1..])),
                None => (long, None),
            };
            return self.long_option(tok, name, inline);
        }
        if text.len() >= 2 && text.starts_with('-') {
            return self.short_option(tok);
        }
        Err(ExtError::new(format!("Bad argument `{text}'")).at(tok.span))
    }

    fn short_option(&mut self, tok: &'a Token<'a>) -> PResult {
        let mut chars = tok.text[1..].chars();
        let c = chars.next().unwrap_or('-');
        let rest = chars.as_str();
        let Some(arg) = short_arg(c).filter(|_| c != '0') else {
            return Err(ExtError::new(format!("unknown option \"-{c}\"")).at(tok.span));
        };
        if !rest.is_empty() {
            // `-nvL` style flag clusters are fine; a glued value is not.
            if arg == Arg::None
                && rest
                    .chars()
                    .all(|x| short_arg(x).is_some_and(|a| a != Arg::Required))
            {
                for f in std::iter::once(c).chain(rest.chars()) {
                    self.generic(f, tok, None)?;
                }
                return Ok(());
            }
            return Err(ExtError::new(format!(
                "`{}': iptables 1.8.9 does not take a value glued to a short option",
                tok.text
            ))
            .at(tok.span)
            .help(format!("write `-{c} {rest}`")));
        }
        let value = match arg {
            Arg::Required | Arg::Two => Some(self.next_word().ok_or_else(|| {
                ExtError::new(format!("option \"-{c}\" requires an argument")).at(tok.span)
            })?),
            Arg::Optional | Arg::None => None,
        };
        self.generic(c, tok, value)
    }

    fn long_option(
        &mut self,
        tok: &'a Token<'a>,
        name: &'a str,
        inline: Option<&'a str>,
    ) -> PResult {
        let owner = match self.resolve(name) {
            Ok(o) => o,
            Err(e) => {
                if !self.proto_used && self.load_proto(tok)? {
                    return self.long_option(tok, name, inline);
                }
                return Err(with_owner_hint(e.at(tok.span), name));
            }
        };
        let inline_tok = inline.map(|v| {
            let start = tok.span.end as usize - v.len();
            Token::new(v, Span::new(start, tok.span.end as usize))
        });
        match owner {
            Owner::Generic(c) => {
                let arg = short_arg(c).unwrap_or(Arg::None);
                let value = match (arg, &inline_tok) {
                    (Arg::None, Some(_)) => {
                        return Err(ExtError::new(format!(
                            "option '--{name}' doesn't allow an argument"
                        ))
                        .at(tok.span))
                    }
                    (Arg::Required | Arg::Two, None) => {
                        Some(self.next_word().ok_or_else(|| {
                            ExtError::new(format!("option \"--{name}\" requires an argument"))
                                .at(tok.span)
                        })?)
                    }
                    _ => None,
                };
                match inline_tok {
                    // iptables 1.8.9's do_parse reads the argument of these
                    // options as argv[optind - 1], which for `--source=X` is
                    // the whole word: `--source=1.2.3.4` is "host/network
                    // `--source=1.2.3.4' not found" (checked against
                    // iptables-legacy 1.8.9; -m/-A/-I/-g/-c use optarg).
                    Some(_) if "sdpioj".contains(c) => self.generic(c, tok, Some(tok)),
                    Some(t) => self.generic(c, tok, Some(&t)),
                    None => self.generic(c, tok, value),
                }
            }
            Owner::Match(i, spec) => self.ext_option(tok, name, inline_tok, spec, Some(i)),
            Owner::Target(spec) => self.ext_option(tok, name, inline_tok, spec, None),
        }
    }

    fn take_invert(&mut self) -> bool {
        self.invert.take().is_some()
    }

    fn no_invert(&mut self, what: &str, span: Span) -> PResult {
        if self.invert.take().is_some() {
            return Err(ExtError::new(format!("cannot have ! before {what}")).at(span));
        }
        Ok(())
    }
}
