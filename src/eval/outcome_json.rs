//! The JSON line of a record, written by hand.
//!
//! `serde_json` spent more on a record (field by field through the `Serializer` machinery,
//! escaping every string byte by byte) than the replay spent on the packet. This writer
//! produces the same bytes as `serde_json::to_writer` on the derived `Serialize` impls of
//! [`Record`] (same field order, same skipped fields, same escaping); the derive stays the
//! definition, and a test holds the two equal on every kernel-truth scenario record.

use super::outcome::{Generated, HookPass, Ifaces, Outcome, Record, RuleName, Skipped, Verdict};
use crate::conntrack::CtView;
use crate::packet::text::TextOut;
use crate::packet::Summary;

impl Record {
    /// Appends the record's JSON (no newline), as `serde_json::to_writer` writes it.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Record::Packet(o) => o.write_json(out),
            Record::Skipped(s) => s.write_json(out),
        }
    }
}

/// An object being written: remembers whether a comma is due.
struct Obj<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Obj<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// Starts a field. Keys are this file's own ASCII constants, which need no escaping, so
    /// they are copied as they are (every record has a dozen of them).
    #[inline(always)]
    fn key(&mut self, k: &str) -> &mut Vec<u8> {
        let lead: &[u8] = if self.first { b"\"" } else { b",\"" };
        self.first = false;
        self.out.extend_from_slice(lead);
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    #[inline(always)]
    fn num(&mut self, k: &str, v: u64) {
        let out = self.key(k);
        num(out, v);
    }

    #[inline(always)]
    fn str(&mut self, k: &str, v: &str) {
        let out = self.key(k);
        string(out, v);
    }

    /// `null` when absent (a field serde writes even when `None`).
    /// One of this crate's constant names (a verdict, hook, state, path, ...: ASCII letters,
    /// digits, `-`, `_`, `:`), copied as it is, like the keys.
    #[inline(always)]
    fn word(&mut self, k: &str, v: &'static str) {
        debug_assert!(!needs_escape(v.as_bytes()), "{v}");
        let out = self.key(k);
        out.push(b'"');
        out.extend_from_slice(v.as_bytes());
        out.push(b'"');
    }

    /// [`Obj::word`], `null` when absent.
    #[inline(always)]
    fn opt_word(&mut self, k: &str, v: Option<&'static str>) {
        match v {
            Some(w) => self.word(k, w),
            None => self.key(k).extend_from_slice(b"null"),
        }
    }

    /// [`Obj::word`], nothing when absent.
    #[inline(always)]
    fn some_word(&mut self, k: &str, v: Option<&'static str>) {
        if let Some(w) = v {
            self.word(k, w);
        }
    }

    #[inline(always)]
    fn opt_str(&mut self, k: &str, v: Option<&str>) {
        let out = self.key(k);
        match v {
            Some(s) => string(out, s),
            None => out.extend_from_slice(b"null"),
        }
    }

    /// Nothing when absent (`skip_serializing_if = "Option::is_none"`).
    #[inline(always)]
    fn some_str(&mut self, k: &str, v: Option<&str>) {
        if let Some(s) = v {
            self.str(k, s);
        }
    }

    #[inline(always)]
    fn some_num(&mut self, k: &str, v: Option<u64>) {
        if let Some(n) = v {
            self.num(k, n);
        }
    }

    #[inline(always)]
    fn strs<S: AsRef<str>>(&mut self, k: &str, items: &[S]) {
        let out = self.key(k);
        out.push(b'[');
        for (i, s) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, s.as_ref());
        }
        out.push(b']');
    }

    /// Skipped when empty (`skip_serializing_if = "Vec::is_empty"`).
    #[inline(always)]
    fn some_strs<S: AsRef<str>>(&mut self, k: &str, items: &[S]) {
        if !items.is_empty() {
            self.strs(k, items);
        }
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// A packet record's fields as its JSON line shows them, borrowed: from an [`Outcome`], or
/// from an established-flow lane record that builds none
/// ([`crate::eval::engine::LaneRecord::write_json`]). One writer for both, so both give the
/// same bytes.
pub(crate) struct Fields<'a> {
    pub index: u64,
    pub hook: Option<&'static str>,
    pub verdict: Verdict,
    pub ctstate: Option<&'static str>,
    pub ctdir: Option<&'static str>,
    pub rule: Option<&'a str>,
    pub summary: SummaryText<'a>,
    pub path: &'static str,
    pub reject_with: Option<&'static str>,
    pub iface: &'a Ifaces,
    pub hooks: &'a [HookPass],
    pub fate: Option<Verdict>,
    pub generated: &'a [Generated],
    pub ct_after: Option<&'a CtView>,
    pub matched: &'a [RuleName],
    pub depends_on: &'a [&'static str],
    pub trace: &'a [String],
    pub log: &'a [String],
    pub at_filter: Option<&'a str>,
    pub egress: Option<&'a str>,
    pub nat_random_port: bool,
    pub note: Option<&'a str>,
}

/// A record's `summary`: the text an [`Outcome`] holds, or the packet's [`Summary`], printed
/// straight into the line (the same text as [`Summary::text`]).
pub(crate) enum SummaryText<'a> {
    Text(&'a str),
    Of(Summary<'a>),
}

impl Outcome {
    fn write_json(&self, out: &mut Vec<u8>) {
        Fields {
            index: self.index,
            hook: self.hook,
            verdict: self.verdict,
            ctstate: self.ctstate,
            ctdir: self.ctdir,
            rule: self.rule.as_deref(),
            summary: SummaryText::Text(&self.summary),
            path: self.path,
            reject_with: self.reject_with,
            iface: &self.iface,
            hooks: &self.hooks,
            fate: self.fate,
            generated: &self.generated,
            ct_after: self.ct_after.as_ref(),
            matched: &self.matched,
            depends_on: &self.depends_on,
            trace: &self.trace,
            log: &self.log,
            at_filter: self.at_filter.as_deref(),
            egress: self.egress.as_deref(),
            nat_random_port: self.nat_random_port,
            note: self.note.as_deref(),
        }
        .write_json(out);
    }
}

impl Fields<'_> {
    /// Appends the record's JSON (no newline), as `serde_json::to_writer` writes the
    /// [`Outcome`] with these fields.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Obj::open(out);
        o.num("index", self.index);
        o.some_word("hook", self.hook);
        o.word("verdict", self.verdict.name());
        o.opt_word("ctstate", self.ctstate);
        o.opt_word("ctdir", self.ctdir);
        o.opt_str("rule", self.rule);
        match &self.summary {
            SummaryText::Text(s) => o.str("summary", s),
            SummaryText::Of(s) => {
                let out = o.key("summary");
                out.push(b'"');
                s.write_to(out);
                out.push(b'"');
            }
        }
        o.word("path", self.path);
        o.some_word("reject_with", self.reject_with);
        let iface = o.key("iface");
        let mut i = Obj::open(iface);
        i.some_str("in", self.iface.input.as_deref());
        i.some_str("out", self.iface.output.as_deref());
        i.close();
        if !self.hooks.is_empty() {
            let list = o.key("hooks");
            array(list, self.hooks, HookPass::write_json);
        }
        o.some_word("fate", self.fate.map(|v| v.name()));
        if !self.generated.is_empty() {
            let list = o.key("generated");
            array(list, self.generated, Generated::write_json);
        }
        let ct = o.key("ct_after");
        match self.ct_after {
            Some(v) => v.write_json(ct),
            None => ct.extend_from_slice(b"null"),
        }
        o.strs("matched", self.matched);
        o.some_strs("depends_on", self.depends_on);
        o.some_strs("trace", self.trace);
        o.some_strs("log", self.log);
        o.some_str("at_filter", self.at_filter);
        o.some_str("egress", self.egress);
        if self.nat_random_port {
            o.key("nat_random_port").extend_from_slice(b"true");
        }
        o.some_str("note", self.note);
        o.close();
    }
}

impl Skipped {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Obj::open(out);
        o.num("index", self.index);
        o.some_str("skipped", self.skipped.as_deref());
        o.some_str("error", self.error.as_deref());
        o.close();
    }
}

impl HookPass {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Obj::open(out);
        o.word("hook", self.hook);
        o.word("verdict", self.verdict.name());
        o.some_str("in", self.input.as_deref());
        o.some_str("out", self.output.as_deref());
        o.close();
    }
}

impl Generated {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Obj::open(out);
        o.str("src", &self.src);
        o.str("dst", &self.dst);
        o.str("kind", self.kind);
        o.some_num("icmp_type", self.icmp_type.map(u64::from));
        o.some_num("icmp_code", self.icmp_code.map(u64::from));
        o.str("by", self.by);
        o.close();
    }
}

impl CtView {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Obj::open(out);
        o.num("proto", self.proto.into());
        // Tuple texts are ASCII without anything to escape.
        for (k, t) in [("orig", &self.orig), ("reply", &self.reply)] {
            let out = o.key(k);
            out.push(b'"');
            t.write_text(out);
            out.push(b'"');
        }
        let out = o.key("status");
        out.push(b'[');
        for (i, w) in self.status.names().enumerate() {
            out.extend_from_slice(if i > 0 { b",\"" } else { b"\"" });
            out.extend_from_slice(w.as_bytes());
            out.push(b'"');
        }
        out.push(b']');
        o.some_word("tcp_state", self.tcp_state);
        o.some_word("helper", self.helper);
        o.some_num("mark", self.mark.map(u64::from));
        o.close();
    }
}

fn array<T>(out: &mut Vec<u8>, items: &[T], write: fn(&T, &mut Vec<u8>)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(item, out);
    }
    out.push(b']');
}

#[inline(always)]
fn num(out: &mut Vec<u8>, v: u64) {
    out.push_num(v);
}

/// A JSON string, escaped as serde_json escapes: `"` and `\` with a backslash, the control
/// characters with their short escapes or `\u00XX` (lowercase hex), everything else (UTF-8
/// included) as it is.
#[inline(always)]
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
    } else {
        for &b in bytes {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                c if c < 0x20 => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let esc = [
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(c >> 4)],
                        HEX[usize::from(c & 0xf)],
                    ];
                    out.extend_from_slice(&esc);
                }
                c => out.push(c),
            }
        }
    }
    out.push(b'"');
}

/// Whether any byte is a control character, `"` or `\`; eight bytes at a time, since every
/// string of every record goes through here. `(x - 0x01..·n) & !x & 0x80..` is non-zero
/// exactly when some byte of `x` is below `n` (n ≤ 0x80); equality is "below 1" after XOR.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        if below(x, 0x20)
            || below(x ^ (ONES * u64::from(b'"')), 1)
            || below(x ^ (ONES * u64::from(b'\\')), 1)
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_scan_finds_every_byte_to_escape_at_every_position() {
        for bad in (0u8..0x20).chain([b'"', b'\\']) {
            for len in 1..20 {
                for at in 0..len {
                    let mut v = vec![b'a'; len];
                    v[at] = bad;
                    assert!(needs_escape(&v), "{bad:#x} at {at} of {len}");
                }
            }
        }
        let clean: Vec<u8> = (0x20u8..=0xff)
            .filter(|b| *b != b'"' && *b != b'\\')
            .collect();
        assert!(!needs_escape(&clean));
    }

    #[test]
    fn strings_escape_as_serde_json_does() {
        let all: String = (0u8..0x80)
            .map(char::from)
            .chain("é→\u{2028}".chars())
            .collect();
        for s in ["", "plain", "a\"b\\c", "tab\tnl\n", all.as_str()] {
            let mut mine = Vec::new();
            string(&mut mine, s);
            assert_eq!(
                String::from_utf8_lossy(&mine),
                serde_json::to_string(s).unwrap_or_default()
            );
        }
    }
}
