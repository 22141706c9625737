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

/// Long names of iptables' own options (`original_opts`), with their short letter.
const GENERIC: &[(&str, char, Arg)] = &[
    ("append", 'A', Arg::Required),
    ("delete", 'D', Arg::Required),
    ("check", 'C', Arg::Required),
    ("insert", 'I', Arg::Required),
    ("replace", 'R', Arg::Required),
    ("list", 'L', Arg::Optional),
    ("list-rules", 'S', Arg::Optional),
    ("flush", 'F', Arg::Optional),
    ("zero", 'Z', Arg::Optional),
    ("new-chain", 'N', Arg::Required),
    ("delete-chain", 'X', Arg::Optional),
    ("rename-chain", 'E', Arg::Required),
    ("policy", 'P', Arg::Required),
    ("source", 's', Arg::Required),
    ("destination", 'd', Arg::Required),
    ("src", 's', Arg::Required),
    ("dst", 'd', Arg::Required),
    ("protocol", 'p', Arg::Required),
    ("in-interface", 'i', Arg::Required),
    ("jump", 'j', Arg::Required),
    ("table", 't', Arg::Required),
    ("match", 'm', Arg::Required),
    ("numeric", 'n', Arg::None),
    ("out-interface", 'o', Arg::Required),
    ("verbose", 'v', Arg::None),
    ("wait", 'w', Arg::Optional),
    ("wait-interval", 'W', Arg::Optional),
    ("exact", 'x', Arg::None),
    ("fragments", 'f', Arg::None),
    ("fragment", 'f', Arg::None),
    ("version", 'V', Arg::None),
    ("help", 'h', Arg::None),
    ("line-numbers", '0', Arg::None),
    ("modprobe", 'M', Arg::Required),
    ("set-counters", 'c', Arg::Required),
    ("goto", 'g', Arg::Required),
    ("ipv4", '4', Arg::None),
    ("ipv6", '6', Arg::None),
];

/// The exact long names of [`GENERIC`] as a `match`, which compiles to a
/// length switch: every extension option is looked up here first.
fn generic_exact(name: &str) -> Option<char> {
    Some(match name {
        "append" => 'A',
        "delete" => 'D',
        "check" => 'C',
        "insert" => 'I',
        "replace" => 'R',
        "list" => 'L',
        "list-rules" => 'S',
        "flush" => 'F',
        "zero" => 'Z',
        "new-chain" => 'N',
        "delete-chain" => 'X',
        "rename-chain" => 'E',
        "policy" => 'P',
        "source" | "src" => 's',
        "destination" | "dst" => 'd',
        "protocol" => 'p',
        "in-interface" => 'i',
        "jump" => 'j',
        "table" => 't',
        "match" => 'm',
        "numeric" => 'n',
        "out-interface" => 'o',
        "verbose" => 'v',
        "wait" => 'w',
        "wait-interval" => 'W',
        "exact" => 'x',
        "fragments" | "fragment" => 'f',
        "version" => 'V',
        "help" => 'h',
        "line-numbers" => '0',
        "modprobe" => 'M',
        "set-counters" => 'c',
        "goto" => 'g',
        "ipv4" => '4',
        "ipv6" => '6',
        _ => return None,
    })
}

/// The argument kind of iptables' short option `-c` (as [`GENERIC`] has it),
/// as a `match` rather than a search of the table.
fn short_arg(c: char) -> Option<Arg> {
    Some(match c {
        'A' | 'D' | 'C' | 'I' | 'R' | 'N' | 'E' | 'P' | 's' | 'd' | 'p' | 'i' | 'j' | 't' | 'm'
        | 'o' | 'M' | 'c' | 'g' => Arg::Required,
        'L' | 'S' | 'F' | 'Z' | 'X' | 'w' | 'W' => Arg::Optional,
        'n' | 'v' | 'x' | 'f' | 'V' | 'h' | '0' | '4' | '6' => Arg::None,
        _ => return None,
    })
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

    /// Finds the owner of `--name`: exact names first (iptables' own, then the
    /// target, then matches newest first), then a unique prefix over all.
    fn resolve(&self, name: &str) -> PResult<Owner> {
        if let Some(c) = generic_exact(name) {
            return Ok(Owner::Generic(c));
        }
        let mut candidates: Vec<(Owner, &'static str)> = Vec::new();
        if let Some((RuleTarget::Ext(t), _)) = &self.target {
            match lookup(t.options(), name) {
                Lookup::Found(s) if s.name == name => return Ok(Owner::Target(s)),
                Lookup::Found(s) => candidates.push((Owner::Target(s), s.key)),
                Lookup::Ambiguous => return Err(ambiguous(name)),
                Lookup::NotFound => {}
            }
        }
        for (i, e) in self.matches.iter().enumerate().rev() {
            match lookup(e.m.options(), name) {
                Lookup::Found(s) if s.name == name => return Ok(Owner::Match(i, s)),
                Lookup::Found(s) => candidates.push((Owner::Match(i, s), s.key)),
                Lookup::Ambiguous => return Err(ambiguous(name)),
                Lookup::NotFound => {}
            }
        }
        for (n, c, _) in GENERIC.iter().filter(|(n, _, _)| n.starts_with(name)) {
            candidates.push((Owner::Generic(*c), n));
        }
        match candidates.len() {
            0 => Err(ExtError::new(format!("unknown option \"--{name}\""))),
            1 => Ok(candidates.remove(0).0),
            _ => {
                let first = candidates[0].1;
                if candidates.iter().all(|(_, k)| *k == first) {
                    Ok(candidates.remove(0).0)
                } else {
                    Err(ambiguous(name))
                }
            }
        }
    }

    /// `load_proto()`: loads the match named like `-p`'s protocol, once.
    fn load_proto(&mut self, tok: &Token) -> PResult<bool> {
        self.proto_used = true;
        let Some((num, _, _)) = &self.proto else {
            return Ok(false);
        };
        let Some(name) = ext::proto_match_name(*num) else {
            return Ok(false);
        };
        let m = Match::new(name).ok_or_else(|| ExtError::new("internal: proto match"))?;
        self.matches.push(MatchEntry { m, span: tok.span });
        Ok(true)
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

    fn ext_option(
        &mut self,
        tok: &'a Token<'a>,
        name: &str,
        inline: Option<Token<'a>>,
        spec: &'static OptSpec,
        match_index: Option<usize>,
    ) -> PResult {
        let invert = self.take_invert();
        let ext_name = match match_index {
            Some(i) => self.matches[i].m.name(),
            None => self.target.as_ref().map_or("", |t| match &t.0 {
                RuleTarget::Ext(t) => t.name(),
                _ => "",
            }),
        };
        if invert && !spec.invert {
            return Err(ExtError::new(format!(
                "{ext_name}: option \"--{}\" cannot be inverted.",
                spec.name
            ))
            .at(tok.span));
        }
        let (value, extra): (Option<Token<'a>>, Vec<Token<'a>>) = match spec.arg {
            Arg::None => {
                if inline.is_some() {
                    return Err(ExtError::new(format!(
                        "option '--{name}' doesn't allow an argument"
                    ))
                    .at(tok.span));
                }
                (None, Vec::new())
            }
            Arg::Required => match inline {
                Some(v) => (Some(v), Vec::new()),
                None => (
                    Some(self.required(tok, ext_name, spec)?.clone()),
                    Vec::new(),
                ),
            },
            Arg::Optional => (inline.or_else(|| self.optional_word().cloned()), Vec::new()),
            Arg::Two => {
                let first = match inline {
                    Some(v) => v,
                    None => self.required(tok, ext_name, spec)?.clone(),
                };
                let second = self.optional_word().cloned();
                (Some(first), second.into_iter().collect())
            }
        };
        let span = tok.span.to(value.as_ref().map_or(tok.span, |v| v.span));
        let span = extra.last().map_or(span, |t| span.to(t.span));
        let call = OptCall {
            key: spec.key,
            name,
            invert,
            value: value.as_ref(),
            extra: &extra,
            span,
        };
        let ctx = self.rule_ctx();
        let owner = match_index.map_or(TARGET_OWNER, |i| i as OwnerId);
        if !spec.multi && self.seen.contains(owner, spec.key) {
            return Err(ExtError::new(format!(
                "{ext_name}: option \"--{}\" can only be used once.",
                spec.name
            ))
            .at(tok.span));
        }
        self.seen.push(owner, spec.key);
        match match_index {
            Some(i) => {
                let entry = &mut self.matches[i];
                entry.span = entry.span.to(span);
                entry.m.parse(&call, &ctx)
            }
            None => match self.target.as_mut() {
                Some((RuleTarget::Ext(t), s)) => {
                    *s = s.to(span);
                    t.parse(&call, &ctx)
                }
                _ => Err(ExtError::new("internal: target")),
            },
        }
    }

    fn required(&mut self, tok: &Token, ext_name: &str, spec: &OptSpec) -> PResult<&'a Token<'a>> {
        self.next_word().ok_or_else(|| {
            ExtError::new(format!(
                "{ext_name}: option \"--{}\" requires an argument.",
                spec.name
            ))
            .at(tok.span)
        })
    }

    fn rule_ctx(&self) -> RuleCtx {
        let (proto, proto_inv) = self.proto.as_ref().map_or((0, false), |p| (p.0, p.1));
        RuleCtx { proto, proto_inv }
    }

    fn set_op(&mut self, op: Op<'a>, tok: &Token) -> PResult {
        if let Some((_, prev)) = &self.op {
            return Err(ExtError::new("Cannot use two commands in one line")
                .at(tok.span)
                .help(format!(
                    "the command was already given at column {}",
                    self.file.line_col(prev.start as usize).col
                )));
        }
        if self.invert.is_some() {
            let what = format!("-{}", tok.text.trim_start_matches('-'));
            return self.no_invert(&what, tok.span);
        }
        self.op = Some((op, tok.span));
        Ok(())
    }

    fn rule_number(&self, t: &Token) -> PResult<(u32, Span)> {
        let n = crate::ext::value::number(&t.text, 1, u64::from(u32::MAX))
            .ok_or_else(|| ExtError::new(format!("Invalid rule number `{}'", t.text)).at(t.span))?;
        Ok((n as u32, t.span))
    }

    fn need<'t>(
        &self,
        v: Option<&'t Token<'a>>,
        tok: &Token,
        what: &str,
    ) -> PResult<&'t Token<'a>> {
        v.ok_or_else(|| {
            ExtError::new(format!(
                "option \"{}\" requires an argument{what}",
                tok.text
            ))
            .at(tok.span)
        })
    }

    fn once<T>(slot: &Option<T>, c: char, tok: &Token) -> PResult {
        if slot.is_some() {
            return Err(ExtError::new(format!("multiple -{c} flags not allowed")).at(tok.span));
        }
        Ok(())
    }

    fn generic(&mut self, c: char, tok: &Token, value: Option<&Token<'a>>) -> PResult {
        match c {
            'A' | 'C' | 'N' => {
                let chain = self.need(value, tok, "")?.clone();
                check_chain_name(&chain, c == 'N')?;
                let op = match c {
                    'A' => Op::Append(chain),
                    'C' => Op::Check(chain),
                    _ => Op::NewChain(chain),
                };
                self.set_op(op, tok)
            }
            'I' | 'D' => {
                let chain = self.need(value, tok, "")?.clone();
                let num = match self.optional_word() {
                    Some(t) => Some(self.rule_number(t)?),
                    None => None,
                };
                self.set_op(
                    if c == 'I' {
                        Op::Insert(chain, num)
                    } else {
                        Op::Delete(chain, num)
                    },
                    tok,
                )
            }
            'R' => {
                let chain = self.need(value, tok, "")?.clone();
                let t = self
                    .optional_word()
                    .ok_or_else(|| ExtError::new("-R requires a rule number").at(tok.span))?;
                let num = self.rule_number(t)?;
                self.set_op(Op::Replace(chain, num), tok)
            }
            'L' | 'S' => {
                self.optional_word();
                self.optional_word();
                self.set_op(Op::List, tok)
            }
            'F' | 'X' => {
                let chain = self.optional_word().cloned();
                self.set_op(
                    if c == 'F' {
                        Op::Flush(chain)
                    } else {
                        Op::DeleteChain(chain)
                    },
                    tok,
                )
            }
            'Z' => {
                let chain = self.optional_word().cloned();
                let num = match chain.as_ref().and_then(|_| self.optional_word()) {
                    Some(t) => Some(self.rule_number(t)?),
                    None => None,
                };
                self.set_op(Op::Zero(chain, num), tok)
            }
            'P' => {
                let chain = self.need(value, tok, "")?.clone();
                let policy = self
                    .optional_word()
                    .ok_or_else(|| ExtError::new("-P requires a chain and a policy").at(tok.span))?
                    .clone();
                self.set_op(Op::Policy(chain, policy), tok)
            }
            'E' => {
                let old = self.need(value, tok, "")?.clone();
                let new = self
                    .optional_word()
                    .ok_or_else(|| {
                        ExtError::new("-E requires old-chain-name and new-chain-name").at(tok.span)
                    })?
                    .clone();
                check_chain_name(&new, true)?;
                self.set_op(Op::Rename(old, new), tok)
            }
            's' | 'd' => {
                let v = self.need(value, tok, "")?.clone();
                let inv = self.take_invert();
                if c == 's' {
                    Self::once(&self.src, c, tok)?;
                    self.src = Some((v, inv));
                } else {
                    Self::once(&self.dst, c, tok)?;
                    self.dst = Some((v, inv));
                }
                Ok(())
            }
            'i' | 'o' => {
                let v = self.need(value, tok, "")?;
                let inv = self.take_invert();
                let iface = Iface::parse(&v.text).map_err(|e| ExtError::new(e).at(v.span))?;
                if iface.weird_char() {
                    self.warnings.push(ExtError::new(format!("Warning: weird character in interface `{}' ('/' and ' ' are not allowed by the kernel).", v.text)).at(v.span));
                }
                let slot = if c == 'i' {
                    &mut self.in_iface
                } else {
                    &mut self.out_iface
                };
                Self::once(slot, c, tok)?;
                *slot = Some((iface, inv));
                Ok(())
            }
            'p' => {
                let v = self.need(value, tok, "")?;
                let inv = self.take_invert();
                Self::once(&self.proto, c, tok)?;
                let num = proto::parse(&v.text).ok_or_else(|| {
                    ExtError::new(format!("unknown protocol \"{}\" specified", v.text)).at(v.span)
                })?;
                if num == 0 && inv {
                    return Err(ExtError::new("rule would never match protocol").at(v.span));
                }
                self.proto = Some((num, inv, v.clone()));
                Ok(())
            }
            'f' => {
                let inv = self.take_invert();
                Self::once(&self.frag, c, tok)?;
                self.frag = Some(inv);
                Ok(())
            }
            'm' => {
                let v = self.need(value, tok, "")?;
                self.no_invert("--match", tok.span)?;
                let m = Match::new(&v.text).ok_or_else(|| {
                    let e = ExtError::new(format!(
                        "Couldn't load match `{}':No such file or directory",
                        v.text
                    ))
                    .at(v.span);
                    match closest(&v.text, ext::MATCH_NAMES) {
                        Some(name) => e.help(format!("did you mean `-m {name}`?")),
                        None => e,
                    }
                })?;
                self.matches.push(MatchEntry {
                    m,
                    span: tok.span.to(v.span),
                });
                Ok(())
            }
            'j' | 'g' => {
                let v = self.need(value, tok, "")?;
                self.no_invert(if c == 'j' { "-j" } else { "-g" }, tok.span)?;
                if self.target.is_some() {
                    return Err(
                        ExtError::new(format!("multiple -{c} flags not allowed")).at(tok.span)
                    );
                }
                let target = target_for(&v.text, c == 'g').map_err(|e| e.at(v.span))?;
                self.target = Some((target, v.span));
                Ok(())
            }
            't' => {
                let v = self.need(value, tok, "")?;
                self.no_invert("-t", tok.span)?;
                Self::once(&self.table, c, tok)?;
                self.table = Some(v.clone());
                Ok(())
            }
            'c' => {
                let v = self.need(value, tok, "")?;
                let (p, b) = match v.text.split_once(',') {
                    Some((p, b)) => (p.to_string(), b.to_string()),
                    None => {
                        let b = self.optional_word().ok_or_else(|| {
                            ExtError::new("-c requires packet and byte counter").at(tok.span)
                        })?;
                        (v.text.to_string(), b.text.to_string())
                    }
                };
                let parse = |s: &str| {
                    crate::ext::value::strtoul(s, 10, u64::MAX)
                        .ok_or_else(|| ExtError::new("-c packet counter not numeric").at(v.span))
                };
                self.counters = Some(Counters {
                    packets: parse(&p)?,
                    bytes: parse(&b)?,
                });
                Ok(())
            }
            'w' | 'W' => {
                self.optional_word();
                Ok(())
            }
            'n' | 'v' | 'x' | '4' | '0' | 'M' => Ok(()),
            '6' => Err(ExtError::new("This is the IPv4 version of iptables.").at(tok.span)),
            'h' | 'V' => Err(ExtError::new(format!(
                "`{}' only prints information; nothing to apply",
                tok.text
            ))
            .at(tok.span)),
            other => Err(ExtError::new(format!("unknown option \"-{other}\"")).at(tok.span)),
        }
    }

    fn finish(mut self) -> PResult<ParsedCommand<'a>> {
        if let Some(span) = self.invert {
            return Err(ExtError::new("nothing appropriate following !").at(span));
        }
        let Some((op, op_span)) = self.op.take() else {
            return Err(ExtError::new("no command specified")
                .at(self.line)
                .help("an iptables command needs one of -A, -I, -D, -R, -N, -X, -F, -Z, -P, -E"));
        };
        let has_spec = self.src.is_some()
            || self.dst.is_some()
            || self.in_iface.is_some()
            || self.out_iface.is_some()
            || self.proto.is_some()
            || self.frag.is_some()
            || !self.matches.is_empty()
            || self.target.is_some();
        if !op.takes_rule() {
            if has_spec {
                return Err(ExtError::new(
                    "Illegal option with this command: it takes no rule specification",
                )
                .at(self.line));
            }
            return Ok(ParsedCommand {
                op,
                table: self.table,
                rules: Rules::None,
                warnings: self.warnings,
            });
        }
        let _ = op_span;
        let rules = self.build_rules()?;
        Ok(ParsedCommand {
            op,
            table: self.table.clone(),
            rules,
            warnings: std::mem::take(&mut self.warnings),
        })
    }

    fn build_rules(&mut self) -> PResult<Rules> {
        let ctx = self.rule_ctx();
        let mut matches = std::mem::take(&mut self.matches);
        for MatchEntry { m, span } in &mut matches {
            let span = *span;
            m.finalize(&ctx)
                .map_err(|e| if e.span.is_some() { e } else { e.at(span) })?;
        }
        let (target, target_span) = match self.target.take() {
            Some((mut t, span)) => {
                if let RuleTarget::Ext(ext) = &mut t {
                    ext.finalize(&ctx)
                        .map_err(|e| if e.span.is_some() { e } else { e.at(span) })?;
                }
                (t, Some(span))
            }
            None => (RuleTarget::None, None),
        };
        let (srcs, src_inv) = resolve_addrs(self.src.take())?;
        let (dsts, dst_inv) = resolve_addrs(self.dst.take())?;
        let (srcs, dsts) = (srcs.as_slice(), dsts.as_slice());
        let (in_iface, in_inv) = self.in_iface.take().unwrap_or_default();
        let (out_iface, out_inv) = self.out_iface.take().unwrap_or_default();
        let (proto, proto_inv) = (ctx.proto, ctx.proto_inv);
        let frag = self.frag;
        // One rule per source × destination, in do_parse's order. The rule
        // built here is the last of them (nearly always the only one); the
        // others are its copies with their own addresses.
        let (Some(last_src), Some(last_dst)) = (srcs.last(), dsts.last()) else {
            return Ok(Rules::Many(Vec::new()));
        };
        let last = Rule {
            src: IpNet::V4(*last_src),
            src_inv,
            dst: IpNet::V4(*last_dst),
            dst_inv,
            in_iface,
            in_inv,
            out_iface,
            out_inv,
            proto,
            proto_inv,
            frag: frag.is_some(),
            frag_inv: frag == Some(true),
            matches,
            target,
            counters: self.counters.unwrap_or_default(),
            origin: Origin {
                file: Arc::clone(self.file),
                line: self.line,
                target: target_span,
            },
        };
        let count = srcs.len() * dsts.len();
        if count == 1 {
            return Ok(Rules::One(last));
        }
        let mut rules = Vec::with_capacity(count);
        for k in 0..count - 1 {
            rules.push(Rule {
                src: IpNet::V4(srcs[k / dsts.len()]),
                dst: IpNet::V4(dsts[k % dsts.len()]),
                ..last.clone()
            });
        }
        rules.push(last);
        Ok(Rules::Many(rules))
    }
}

/// For an unknown `--name`: say which match extension has that option.
fn with_owner_hint(e: ExtError, name: &str) -> ExtError {
    let owners: Vec<&str> = ext::MATCH_NAMES
        .iter()
        .copied()
        .filter(|m| Match::new(m).is_some_and(|x| x.options().iter().any(|o| o.name == name)))
        .collect();
    // Port options belong to several protocol matches; users nearly always
    // mean TCP or UDP, which `-p` loads implicitly.
    if let Some(p) = ["tcp", "udp"].into_iter().find(|p| owners.contains(p)) {
        return e
            .help(format!(
                "`--{name}` belongs to a protocol match: give the protocol first (`-p {p} --{name} ...`)"
            ))
            .kind(super::LoadErrorKind::NeedsProtocol);
    }
    match owners.first() {
        Some(m) => e.help(format!(
            "`--{name}` belongs to the {m} match: add `-m {m}` before it"
        )),
        None => e,
    }
}

/// The known name closest to `word` (at most two edits away), for "did you mean".
pub fn closest<'n>(word: &str, names: &[&'n str]) -> Option<&'n str> {
    let lower = word.to_ascii_lowercase();
    names
        .iter()
        .map(|n| (edit_distance(&lower, &n.to_ascii_lowercase()), *n))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n)
}

/// Optimal-string-alignment distance: edits plus adjacent transpositions,
/// so `tpc` is one step from `tcp` (and not tied with `bpf`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let mut d = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            let swapped = i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca);
            if swapped {
                if let Some(t) = before.get(j - 1) {
                    d = d.min(t + 1);
                }
            }
            cur[j + 1] = d;
        }
        before = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

fn ambiguous(name: &str) -> ExtError {
    ExtError::new(format!("option '--{name}' is ambiguous"))
}

/// `-j NAME` / `-g NAME`: a standard verdict, a target extension, or a user
/// chain (checked to exist when the command is applied).
fn target_for(name: &str, goto: bool) -> PResult<RuleTarget> {
    if let Some(v) = Verdict::parse(name) {
        if goto {
            return Err(ExtError::new(format!("goto '{name}' is not a chain")));
        }
        return Ok(RuleTarget::Verdict(v));
    }
    if let Some(t) = Target::new(name) {
        if goto {
            return Err(ExtError::new(format!("goto '{name}' is not a chain")));
        }
        return Ok(RuleTarget::Ext(t));
    }
    if name.is_empty() {
        return Ok(RuleTarget::None);
    }
    Ok(if goto {
        RuleTarget::Goto(name.to_string())
    } else {
        RuleTarget::Jump(name.to_string())
    })
}

/// XT_EXTENSION_MAXNAMELEN − 1: chain names are at most 28 bytes.
pub const MAX_CHAIN_NAME: usize = 28;

/// The chain-name checks of do_parse (iptables/xshared.c 1.8.9) for a new
/// chain, in its order and wording. `-E` gets the same checks for its new
/// name although 1.8.9 skips them there: a chain renamed to "" or "a b" is
/// one iptables-save prints and iptables-restore then refuses.
fn check_chain_name(t: &Token, creating: bool) -> PResult {
    if t.text.len() > MAX_CHAIN_NAME {
        return Err(ExtError::new(format!(
            "chain name `{}' too long (must be under {} chars)",
            t.text,
            MAX_CHAIN_NAME + 1
        ))
        .at(t.span));
    }
    if creating {
        if let Some(c) = t.text.chars().next().filter(|c| matches!(c, '-' | '!')) {
            return Err(
                ExtError::new(format!("chain name not allowed to start with `{c}'")).at(t.span),
            );
        }
        // The standard target is named "", so an empty name clashes too.
        if t.text.is_empty() || Verdict::parse(&t.text).is_some() || Target::new(&t.text).is_some()
        {
            return Err(ExtError::new("chain name may not clash with target name").at(t.span));
        }
        if t.text.chars().any(char::is_whitespace) {
            return Err(ExtError::new(format!("Invalid chain name `{}'", t.text)).at(t.span));
        }
    }
    Ok(())
}

/// The networks of a `-s`/`-d` word: nearly always one, which needs no list.
enum Addrs {
    One(Ipv4Net),
    Many(Vec<Ipv4Net>),
}

impl Addrs {
    fn as_slice(&self) -> &[Ipv4Net] {
        match self {
            Addrs::One(n) => std::slice::from_ref(n),
            Addrs::Many(v) => v,
        }
    }
}

/// The networks of a `-s`/`-d` word (0.0.0.0/0 when absent).
fn resolve_addrs(word: Option<(Token, bool)>) -> PResult<(Addrs, bool)> {
    let Some((t, inv)) = word else {
        return Ok((Addrs::One(Ipv4Net::ANY), false));
    };
    if let Some(net) = addr::parse_plain(&t.text) {
        return Ok((Addrs::One(net), inv));
    }
    let nets = if t.text.bytes().any(|b| b == b',') {
        addr::parse_list(&t.text).map(Addrs::Many)
    } else {
        addr::parse_one(&t.text).map(Addrs::One)
    };
    nets.map(|n| (n, inv))
        .map_err(|e| ExtError::new(e.to_string()).at(t.span))
}

#[cfg(test)]
mod generic_tests {
    use super::*;

    #[test]
    fn short_arg_is_the_generic_table() {
        for (_, c, arg) in GENERIC {
            assert_eq!(short_arg(*c), Some(*arg), "-{c}");
        }
        for c in ['a', 'y', 'T', '-', '!'] {
            assert_eq!(short_arg(c), None, "-{c}");
        }
    }

    #[test]
    fn generic_exact_is_the_generic_table() {
        for (name, c, _) in GENERIC {
            assert_eq!(generic_exact(name), Some(*c), "--{name}");
        }
        assert_eq!(generic_exact("dport"), None);
        assert_eq!(generic_exact("sourc"), None, "prefixes are resolve()'s job");
    }
}
