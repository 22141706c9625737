//! iptables' own options (`-A`, `-s`, `-p`, `-j`, ...): their names, and what
//! each does to the command being parsed (the `switch (cs->c)` of do_parse).

use super::*;

/// Long names of iptables' own options (`original_opts`), with their short letter.
pub(super) const GENERIC: &[(&str, char, Arg)] = &[
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
pub(super) fn generic_exact(name: &str) -> Option<char> {
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
pub(super) fn short_arg(c: char) -> Option<Arg> {
    Some(match c {
        'A' | 'D' | 'C' | 'I' | 'R' | 'N' | 'E' | 'P' | 's' | 'd' | 'p' | 'i' | 'j' | 't' | 'm'
        | 'o' | 'M' | 'c' | 'g' => Arg::Required,
        'L' | 'S' | 'F' | 'Z' | 'X' | 'w' | 'W' => Arg::Optional,
        'n' | 'v' | 'x' | 'f' | 'V' | 'h' | '0' | '4' | '6' => Arg::None,
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    pub(super) fn set_op(&mut self, op: Op<'a>, tok: &Token) -> PResult {
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

    pub(super) fn rule_number(&self, t: &Token) -> PResult<(u32, Span)> {
        let n = crate::ext::value::number(&t.text, 1, u64::from(u32::MAX))
            .ok_or_else(|| ExtError::new(format!("Invalid rule number `{}'", t.text)).at(t.span))?;
        Ok((n as u32, t.span))
    }

    pub(super) fn need<'t>(
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

    pub(super) fn once<T>(slot: &Option<T>, c: char, tok: &Token) -> PResult {
        if slot.is_some() {
            return Err(ExtError::new(format!("multiple -{c} flags not allowed")).at(tok.span));
        }
        Ok(())
    }

    pub(super) fn generic(&mut self, c: char, tok: &Token, value: Option<&Token<'a>>) -> PResult {
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
