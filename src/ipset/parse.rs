//! Reading `ipset save` output (which `ipset restore` reads back): `create`
//! lines with the type's options, then `add` lines with an element and its
//! extensions. The element words go through [`super::elem`]; ranges and
//! CIDRs expand as the kernel's `uadt` expands them.
//!
//! Every error points at the word it is about (a [`Span`] in the file), so
//! the CLI prints `file:line:col`. Sets of family inet6 are kept (they exist
//! and rules may name them) but their elements are not read: no IPv4 packet
//! can match them, as `ip_set_test` compares families first.

use super::elem;
use super::set::{Elem, Expiry, Ext, Key, Kind, Set};
use super::Sets;
use crate::source::Span;

/// A line of the file that ipset would refuse, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub span: Span,
    pub message: String,
}

/// One whitespace-separated word (double quotes group, as for comments).
#[derive(Debug, Clone, Copy)]
pub(super) struct Word<'a> {
    pub(super) text: &'a str,
    pub(super) span: Span,
}

pub(super) fn err<T>(w: &Word, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        span: w.span,
        message: message.into(),
    })
}

/// Splits one line (starting at byte `base` of the file) into words.
fn words(line: &str, base: usize) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            let text = &line[start + 1..i];
            i = (i + 1).min(b.len());
            out.push(Word {
                text,
                span: Span::new(base + start, base + i),
            });
            continue;
        }
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        out.push(Word {
            text: &line[start..i],
            span: Span::new(base + start, base + i),
        });
    }
    out
}

/// Parses a whole file.
pub fn parse(text: &str) -> Result<Sets, ParseError> {
    let mut sets = Sets::default();
    let mut base = 0;
    for line in text.split_inclusive('\n') {
        let ws = words(line.trim_end_matches(['\n', '\r']), base);
        base += line.len();
        let Some(cmd) = ws.first() else {
            continue;
        };
        match cmd.text {
            c if c.starts_with('#') => {}
            "create" | "-N" => create(&mut sets, &ws)?,
            "add" | "-A" => add(&mut sets, &ws)?,
            _ => {
                return err(
                    cmd,
                    format!("unknown command {}: expected create or add", cmd.text),
                )
            }
        }
    }
    Ok(sets)
}

/// Part of a word, reported at the whole word.
fn sub<'a>(w: &Word, text: &'a str) -> Word<'a> {
    Word { text, span: w.span }
}

fn number<T: TryFrom<u64>>(w: &Word, what: &str) -> Result<T, ParseError> {
    let t = w.text;
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        t.parse::<u64>().ok()
    };
    match v.and_then(|v| T::try_from(v).ok()) {
        Some(v) => Ok(v),
        None => err(w, format!("invalid {what} value {t}")),
    }
}

fn create(sets: &mut Sets, ws: &[Word]) -> Result<(), ParseError> {
    let (Some(name), Some(ty)) = (ws.get(1), ws.get(2)) else {
        return err(&ws[0], "create needs a set name and a type");
    };
    if name.text.len() > 31 {
        return err(name, "the set name is longer than 31 characters");
    }
    if sets.index_of(name.text).is_some() {
        return err(name, format!("set {} already exists", name.text));
    }
    let Some(kind) = Kind::parse(ty.text) else {
        return err(ty, format!("unknown set type {}", ty.text));
    };
    let mut set = Set::new(name.text, kind);
    set.type_name = ty.text.to_string();
    if kind == Kind::Unsupported {
        // Kept so rules may name it; its options and elements are not read.
        set.create_opts = ws[3..].iter().map(|w| w.text).collect::<Vec<_>>().join(" ");
        sets.push(set);
        return Ok(());
    }
    let mut it = ws[3..].iter();
    while let Some(w) = it.next() {
        create_option(&mut set, w, &mut it)?;
    }
    if kind == Kind::BitmapIp {
        if set.range == (0, 0) && !ws.iter().any(|w| w.text == "range") {
            return err(ty, "bitmap:ip needs a range");
        }
        let m = elem::mask(set.netmask);
        set.range = (set.range.0 & m, set.range.1 | !m);
    }
    if kind == Kind::BitmapPort && !ws.iter().any(|w| w.text == "range") {
        return err(ty, "bitmap:port needs a range");
    }
    let opts: Vec<&str> = ws[3..].iter().map(|w| w.text).collect();
    set.create_opts = opts.join(" ");
    sets.push(set);
    Ok(())
}

/// One option of a `create` line (the type's create options in ipset's
/// `lib/ipset_<type>.c`; those that only size the hash are checked and ignored).
fn create_option<'a>(
    set: &mut Set,
    w: &Word<'a>,
    it: &mut std::slice::Iter<'_, Word<'a>>,
) -> Result<(), ParseError> {
    let kind = set.kind;
    let mut value = || {
        it.next()
            .ok_or(())
            .or_else(|_| err(w, format!("{} needs a value", w.text)))
    };
    match (w.text, kind) {
        ("family", k) if !matches!(k, Kind::BitmapPort | Kind::ListSet | Kind::BitmapIp) => {
            let v = value()?;
            set.inet = match v.text {
                "inet" => true,
                "inet6" => false,
                _ => return err(v, format!("unknown family {}", v.text)),
            };
        }
        ("hashsize" | "bucketsize" | "initval" | "probes" | "resize", k)
            if !matches!(k, Kind::BitmapPort | Kind::ListSet | Kind::BitmapIp) =>
        {
            number::<u32>(value()?, w.text)?;
        }
        ("maxelem", _) => set.maxelem = number(value()?, "maxelem")?,
        ("bitmask", Kind::HashIp | Kind::HashIpPort) => {
            let v = value()?;
            set.bitmask = Some(elem::ip(v.text).or_else(|e| err(v, e))?);
        }
        ("netmask", Kind::HashIp | Kind::HashIpPort | Kind::BitmapIp) => {
            let v = value()?;
            set.netmask = number(v, "netmask")?;
            if !(1..=32).contains(&set.netmask) {
                return err(v, "netmask must be 1-32");
            }
        }
        ("range", Kind::BitmapIp) => {
            let v = value()?;
            set.range = elem::ip_range(v.text).or_else(|e| err(v, e))?;
        }
        ("range", Kind::BitmapPort) => {
            let v = value()?;
            let (a, b) = v.text.split_once('-').unwrap_or((v.text, v.text));
            let a = elem::port(a, "tcp").or_else(|e| err(v, e))?;
            let b = elem::port(b, "tcp").or_else(|e| err(v, e))?;
            set.range = (u32::from(a.min(b)), u32::from(a.max(b)));
        }
        ("size", Kind::ListSet) => set.size = number(value()?, "size")?,
        ("timeout", _) => set.timeout = Some(number(value()?, "timeout")?),
        ("counters", _) => set.counters = true,
        ("comment", _) => set.comment = true,
        ("skbinfo", _) => set.skbinfo = true,
        ("forceadd", _) => {}
        _ => return err(w, format!("unknown option {} for {}", w.text, kind.name())),
    }
    Ok(())
}

/// The extensions after an element (`timeout N`, `packets N`, `bytes N`,
/// `comment "..."`, skbinfo, `nomatch`); list:set `before|after NAME`.
fn extensions(set: &Set, ws: &[Word]) -> Result<(Elem, Option<(bool, String)>), ParseError> {
    let mut e = Elem {
        nomatch: false,
        ext: Ext::default(),
        member: None,
    };
    if let Some(t) = set.timeout {
        e.ext.expiry = if t == 0 {
            Expiry::Never
        } else {
            Expiry::After(t)
        };
    }
    let mut place = None;
    let mut it = ws.iter();
    while let Some(w) = it.next() {
        let mut value = || {
            it.next()
                .ok_or(())
                .or_else(|_| err(w, format!("{} needs a value", w.text)))
        };
        match w.text {
            "timeout" if set.timeout.is_some() => {
                let t: u32 = number(value()?, "timeout")?;
                e.ext.expiry = if t == 0 {
                    Expiry::Never
                } else {
                    Expiry::After(t)
                };
            }
            "packets" if set.counters => e.ext.packets = number(value()?, "packets")?,
            "bytes" if set.counters => e.ext.bytes = number(value()?, "bytes")?,
            "comment" if set.comment => e.ext.comment = Some(value()?.text.to_string()),
            "nomatch" if set.kind.has_nomatch() => e.nomatch = true,
            "skbmark" if set.skbinfo => e.ext.skbmark = Some(skbmark(value()?)?),
            "skbprio" if set.skbinfo => e.ext.skbprio = Some(skbprio(value()?)?),
            "skbqueue" if set.skbinfo => e.ext.skbqueue = Some(number(value()?, "skbqueue")?),
            "before" | "after" if set.kind == Kind::ListSet => {
                place = Some((w.text == "before", value()?.text.to_string()));
            }
            _ => {
                let (name, kind) = (&set.name, set.kind.name());
                return err(
                    w,
                    format!(
                        "{} is not an option of an element of {name} ({kind})",
                        w.text
                    ),
                );
            }
        }
    }
    Ok((e, place))
}

/// `skbmark VALUE[/MASK]` (the mask defaults to all ones).
fn skbmark(v: &Word) -> Result<(u32, u32), ParseError> {
    let (m, k) = v.text.split_once('/').unwrap_or((v.text, "0xffffffff"));
    Ok((
        number(&sub(v, m), "skbmark")?,
        number(&sub(v, k), "skbmark mask")?,
    ))
}

/// `skbprio MAJOR:MINOR` as the kernel's u32 priority.
fn skbprio(v: &Word) -> Result<u32, ParseError> {
    let (a, b) = v.text.split_once(':').unwrap_or(("0", v.text));
    let a: u16 = number(&sub(v, a), "skbprio")?;
    let b: u16 = number(&sub(v, b), "skbprio")?;
    Ok(u32::from(a) << 16 | u32::from(b))
}

fn add(sets: &mut Sets, ws: &[Word]) -> Result<(), ParseError> {
    let (Some(name), Some(value)) = (ws.get(1), ws.get(2)) else {
        return err(&ws[0], "add needs a set name and an element");
    };
    let Some(idx) = sets.index_of(name.text) else {
        return err(name, format!("set {} does not exist", name.text));
    };
    let set = &sets.sets[idx];
    if !set.inet || set.kind == Kind::Unsupported {
        return Ok(());
    }
    let (e, place) = extensions(set, &ws[3..])?;
    if set.kind == Kind::ListSet {
        return add_member(sets, idx, value, e, place);
    }
    let keys = super::expand::keys(set, value)?;
    if keys.len() as u64 + set.elems.len() as u64 > u64::from(set.maxelem) {
        return err(
            value,
            format!("set {} is full (maxelem {})", set.name, set.maxelem),
        );
    }
    let set = &mut sets.sets[idx];
    for k in keys {
        if set.elems.contains_key(&k) {
            return err(
                value,
                format!("element {} is already in set {}", value.text, set.name),
            );
        }
        set.insert(k, e.clone());
    }
    Ok(())
}

/// list:set: a member set, appended or placed before/after another.
fn add_member(
    sets: &mut Sets,
    idx: usize,
    value: &Word,
    mut e: Elem,
    place: Option<(bool, String)>,
) -> Result<(), ParseError> {
    match sets.get(value.text) {
        None => return err(value, format!("set {} does not exist", value.text)),
        Some(s) if s.kind == Kind::ListSet => {
            return err(value, "a list:set cannot contain a list:set")
        }
        Some(_) => {}
    }
    let list = &sets.sets[idx];
    let mut members: Vec<Elem> = list.elems.values().cloned().collect();
    if members
        .iter()
        .any(|m| m.member.as_deref() == Some(value.text))
    {
        return err(value, format!("{} is already in {}", value.text, list.name));
    }
    if members.len() >= list.size as usize {
        return err(
            value,
            format!("list {} is full (size {})", list.name, list.size),
        );
    }
    e.member = Some(value.text.to_string());
    let at = match place {
        None => members.len(),
        Some((before, other)) => {
            let Some(i) = members
                .iter()
                .position(|m| m.member.as_deref() == Some(&other))
            else {
                return err(value, format!("{other} is not in {}", list.name));
            };
            if before {
                i
            } else {
                i + 1
            }
        }
    };
    members.insert(at, e);
    let list = &mut sets.sets[idx];
    list.elems.clear();
    for (i, m) in members.into_iter().enumerate() {
        list.elems.insert(
            Key {
                ip: i as u32,
                ..Key::default()
            },
            m,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAVE: &str = "create a hash:ip family inet hashsize 1024 maxelem 65536 timeout 300 counters comment bucketsize 12 initval 0xa13ac580
add a 10.0.1.2 timeout 299 packets 0 bytes 0
add a 10.0.0.1 timeout 99 packets 5 bytes 600 comment \"hi there\"
create b hash:net family inet hashsize 1024 maxelem 65536 counters bucketsize 12 initval 0xc1b364f5
add b 192.168.0.4/31 packets 0 bytes 0
add b 10.1.0.0/16 nomatch packets 0 bytes 0
create c hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x52248e14
add c 10.0.0.1,icmp:echo-request
add c 10.0.0.1,gre:0
add c 10.0.0.2,tcp:80-81
create f bitmap:port range 1000-2000 timeout 60
add f 1022 timeout 59
create g2 bitmap:ip range 10.0.0.0-10.0.0.255 netmask 30
add g2 10.0.0.8
create v6 hash:net family inet6
add v6 2001:db8::/32
create h list:set size 8
add h a
add h b before a
";

    #[test]
    fn reads_a_save_file() {
        let s = parse(SAVE).unwrap();
        let a = s.get("a").unwrap();
        assert_eq!(a.timeout, Some(300));
        let e = &a.elems[&Key {
            ip: 0x0a000001,
            ..Key::default()
        }];
        assert_eq!((e.ext.packets, e.ext.bytes), (5, 600));
        assert_eq!(e.ext.comment.as_deref(), Some("hi there"));
        assert_eq!(e.ext.expiry, Expiry::After(99));
        let b = s.get("b").unwrap();
        assert_eq!(b.nets.keys().copied().collect::<Vec<_>>(), vec![16, 31]);
        assert_eq!(s.get("c").unwrap().elems.len(), 4);
        assert_eq!(s.get("g2").unwrap().elems.keys().next().unwrap().ip, 2);
        assert!(!s.get("v6").unwrap().inet);
        let h = s.get("h").unwrap();
        let order: Vec<_> = h
            .elems
            .values()
            .map(|e| e.member.clone().unwrap())
            .collect();
        assert_eq!(order, vec!["b", "a"]);
    }

    #[test]
    fn errors_point_at_the_word() {
        let bad = "create a hash:ip\nadd a 10.0.0.1 nomatch\n";
        let e = parse(bad).unwrap_err();
        assert_eq!(&bad[e.span.range()], "nomatch");
        let e = parse("create a hash:foo\n").unwrap_err();
        assert_eq!(e.span, Span::new(9, 17));
        assert!(parse("add x 1.2.3.4\n").is_err());
        assert!(
            parse("create a hash:ip\nadd a 10.0.0.0/8\n").is_err(),
            "beyond maxelem"
        );
        assert!(parse("create a hash:ip,port\nadd a 10.0.0.1\n").is_err());
        assert!(parse("create p bitmap:port range 10-20\nadd p 30\n").is_err());
        assert!(parse("create l list:set\nadd l nothere\n").is_err());
        assert!(parse("create a hash:ip\nadd a 10.0.0.1\nadd a 10.0.0.1\n").is_err());
    }
}
