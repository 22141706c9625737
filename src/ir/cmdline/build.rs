//! The end of a command line: the parsed parts checked and made into rules
//! (`-s`/`-d` expanded, the target resolved, chain names checked).

use super::*;

impl<'a> Parser<'a> {
    pub(super) fn finish(mut self) -> PResult<ParsedCommand<'a>> {
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

    pub(super) fn build_rules(&mut self) -> PResult<Rules> {
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

/// `-j NAME` / `-g NAME`: a standard verdict, a target extension, or a user
/// chain (checked to exist when the command is applied).
pub(super) fn target_for(name: &str, goto: bool) -> PResult<RuleTarget> {
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
pub(super) fn check_chain_name(t: &Token, creating: bool) -> PResult {
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
pub(super) enum Addrs {
    One(Ipv4Net),
    Many(Vec<Ipv4Net>),
}

impl Addrs {
    pub(super) fn as_slice(&self) -> &[Ipv4Net] {
        match self {
            Addrs::One(n) => std::slice::from_ref(n),
            Addrs::Many(v) => v,
        }
    }
}

/// The networks of a `-s`/`-d` word (0.0.0.0/0 when absent).
pub(super) fn resolve_addrs(word: Option<(Token, bool)>) -> PResult<(Addrs, bool)> {
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
