//! Options of match and target extensions: which extension owns a `--name`,
//! loading `-p`'s match on demand, and handing the option to its parser.

use super::*;

impl<'a> Parser<'a> {
    /// Finds the owner of `--name`: exact names first (iptables' own, then the
    /// target, then matches newest first), then a unique prefix over all.
    pub(super) fn resolve(&self, name: &str) -> PResult<Owner> {
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
    pub(super) fn load_proto(&mut self, tok: &Token) -> PResult<bool> {
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

    pub(super) fn ext_option(
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

    pub(super) fn required(
        &mut self,
        tok: &Token,
        ext_name: &str,
        spec: &OptSpec,
    ) -> PResult<&'a Token<'a>> {
        self.next_word().ok_or_else(|| {
            ExtError::new(format!(
                "{ext_name}: option \"--{}\" requires an argument.",
                spec.name
            ))
            .at(tok.span)
        })
    }

    pub(super) fn rule_ctx(&self) -> RuleCtx {
        let (proto, proto_inv) = self.proto.as_ref().map_or((0, false), |p| (p.0, p.1));
        RuleCtx { proto, proto_inv }
    }
}

/// For an unknown `--name`: say which match extension has that option.
pub(super) fn with_owner_hint(e: ExtError, name: &str) -> ExtError {
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
            .kind(crate::ir::LoadErrorKind::NeedsProtocol);
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
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
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

pub(super) fn ambiguous(name: &str) -> ExtError {
    ExtError::new(format!("option '--{name}' is ambiguous"))
}
