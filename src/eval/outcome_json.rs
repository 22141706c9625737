//! The JSON line of a record, written by hand.
//!
//! `serde_json` spent more on a record (field by field through the `Serializer` machinery,
//! escaping every string byte by byte) than the replay spent on the packet. This writer
//! produces the same bytes as `serde_json::to_writer` on the derived `Serialize` impls of
//! [`Record`] (same field order, same skipped fields, same escaping); the derive stays the
//! definition, and a test holds the two equal on every kernel-truth scenario record.

use super::outcome::{Generated, HookPass, Ifaces, Outcome, Record, RuleName, Skipped, Verdict};
use crate::conntrack::status::Status;
use crate::conntrack::tuple::write_texts;
use crate::conntrack::CtView;
use crate::packet::text::{Endpoints, TextOut};
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

/// `,"NAME":`, the key of a field after an object's first, as one constant: copied at once
/// (keys are this file's own ASCII names, which need no escaping).
macro_rules! k {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}

// After `k!`, which they use.
mod flow;
mod learned;
pub(crate) use flow::{FlowJson, FlowJsons};
pub(crate) use learned::{LaneFields, LearnedJson};

/// An object being written; every method writes one field, its key a [`k!`] constant.
struct Obj<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> Obj<'o> {
    /// Opens an object with its first key, `{"NAME":` (a constant), and returns the buffer for
    /// the value.
    #[inline(always)]
    fn open(out: &'o mut Vec<u8>, first: &'static str) -> Self {
        out.extend_from_slice(first.as_bytes());
        Obj { out }
    }

    /// Starts a field.
    #[inline(always)]
    fn key(&mut self, k: &'static str) -> &mut Vec<u8> {
        self.out.extend_from_slice(k.as_bytes());
        self.out
    }

    #[inline(always)]
    fn num(&mut self, k: &'static str, v: u64) {
        self.key(k).push_num(v);
    }

    #[inline(always)]
    fn str(&mut self, k: &'static str, v: &str) {
        let out = self.key(k);
        string(out, v);
    }

    /// One of this crate's constant names (a verdict, hook, state, path, ...: ASCII letters,
    /// digits, `-`, `_`, `:`), copied as it is, like the keys.
    #[inline(always)]
    fn word(&mut self, k: &'static str, v: &'static str) {
        debug_assert!(!needs_escape(v.as_bytes()), "{v}");
        word(self.key(k), v);
    }

    /// [`Obj::word`], `null` when absent (a field serde writes even when `None`).
    #[inline(always)]
    fn opt_word(&mut self, k: &'static str, v: Option<&'static str>) {
        match v {
            Some(w) => self.word(k, w),
            None => self.key(k).extend_from_slice(b"null"),
        }
    }

    /// [`Obj::word`], nothing when absent.
    #[inline(always)]
    fn some_word(&mut self, k: &'static str, v: Option<&'static str>) {
        if let Some(w) = v {
            self.word(k, w);
        }
    }

    #[inline(always)]
    fn opt_str(&mut self, k: &'static str, v: Option<&str>) {
        let out = self.key(k);
        match v {
            Some(s) => string(out, s),
            None => out.extend_from_slice(b"null"),
        }
    }

    /// Nothing when absent (`skip_serializing_if = "Option::is_none"`).
    #[inline(always)]
    fn some_str(&mut self, k: &'static str, v: Option<&str>) {
        if let Some(s) = v {
            self.str(k, s);
        }
    }

    #[inline(always)]
    fn some_num(&mut self, k: &'static str, v: Option<u64>) {
        if let Some(n) = v {
            self.num(k, n);
        }
    }

    #[inline(always)]
    fn strs<S: AsRef<str>>(&mut self, k: &'static str, items: &[S]) {
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
    fn some_strs<S: AsRef<str>>(&mut self, k: &'static str, items: &[S]) {
        if !items.is_empty() {
            self.strs(k, items);
        }
    }

    #[inline(always)]
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
    /// The texts of the `ct_after` entry's connection, made of that very view
    /// ([`FlowJsons::of`]), when it has them: copied rather than made.
    pub flow: Option<&'a FlowJson>,
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
            flow: None,
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
        let mut o = Obj::open(out, "{\"index\":");
        o.out.push_num(self.index);
        self.head(&mut o);
        self.ct_state(&mut o);
        self.rule(&mut o);
        let made = self.packet(&mut o);
        self.middle(&mut o);
        self.ct_after(&mut o, made.as_ref());
        self.tail(o);
    }

    // The fields in order, in runs: those an established-flow lane learns (head, rule,
    // middle, tail) alternate with those of each packet (see [`LearnedJson`]).

    #[inline(always)]
    fn head(&self, o: &mut Obj<'_>) {
        o.some_word(k!("hook"), self.hook);
        o.word(k!("verdict"), self.verdict.name());
    }

    #[inline(always)]
    fn ct_state(&self, o: &mut Obj<'_>) {
        ct_state_words(o, self.ctstate, self.ctdir);
    }

    #[inline(always)]
    fn rule(&self, o: &mut Obj<'_>) {
        o.opt_str(k!("rule"), self.rule);
    }

    /// Returns the endpoint texts the summary made, for `ct_after`.
    #[inline(always)]
    fn packet(&self, o: &mut Obj<'_>) -> Option<Endpoints> {
        let made = match &self.summary {
            SummaryText::Text(s) => {
                o.str(k!("summary"), s);
                None
            }
            SummaryText::Of(s) => summary_string(o.key(k!("summary")), s, self.flow),
        };
        o.word(k!("path"), self.path);
        o.some_word(k!("reject_with"), self.reject_with);
        made
    }

    #[inline(always)]
    fn middle(&self, o: &mut Obj<'_>) {
        self.iface.write_json(o.key(k!("iface")));
        if !self.hooks.is_empty() {
            let list = o.key(k!("hooks"));
            array(list, self.hooks, HookPass::write_json);
        }
        o.some_word(k!("fate"), self.fate.map(|v| v.name()));
        if !self.generated.is_empty() {
            let list = o.key(k!("generated"));
            array(list, self.generated, Generated::write_json);
        }
    }

    #[inline(always)]
    fn ct_after(&self, o: &mut Obj<'_>, made: Option<&Endpoints>) {
        ct_after_value(o.key(k!("ct_after")), self.ct_after, self.flow, made);
    }

    #[inline(always)]
    fn tail(&self, mut o: Obj<'_>) {
        o.strs(k!("matched"), self.matched);
        o.some_strs(k!("depends_on"), self.depends_on);
        o.some_strs(k!("trace"), self.trace);
        o.some_strs(k!("log"), self.log);
        o.some_str(k!("at_filter"), self.at_filter);
        o.some_str(k!("egress"), self.egress);
        if self.nat_random_port {
            o.key(k!("nat_random_port")).extend_from_slice(b"true");
        }
        o.some_str(k!("note"), self.note);
        o.close();
    }
}

/// A packet's summary as a JSON string (ASCII without anything to escape), its tuple text
/// copied from `flow` when that is its connection's. Returns the endpoint texts it made
/// (`None` when it made none), for `ct_after`.
#[inline(always)]
fn summary_string(
    out: &mut Vec<u8>,
    s: &Summary<'_>,
    flow: Option<&FlowJson>,
) -> Option<Endpoints> {
    out.push(b'"');
    let made = match flow {
        Some(f) if s.write_known(out, |a, b| f.tuple_text(a, b)) => None,
        _ => Some(s.write_to(out)),
    };
    out.push(b'"');
    made
}

/// `ct_after`'s value: `view` (its start copied from `flow`, the texts of its connection,
/// when there are), or `null`. `made`: endpoint texts the record has made already.
#[inline(always)]
fn ct_after_value(
    out: &mut Vec<u8>,
    view: Option<&CtView>,
    flow: Option<&FlowJson>,
    made: Option<&Endpoints>,
) {
    match (view, flow) {
        (Some(v), Some(f)) => {
            out.extend_from_slice(f.head());
            v.write_rest(out);
        }
        (Some(v), None) => match made {
            Some(m) => v.write_json(out, m),
            None => v.write_json(out, &Endpoints::default()),
        },
        (None, _) => out.extend_from_slice(b"null"),
    }
}

/// `ctstate` and `ctdir`, `null` when absent.
#[inline(always)]
fn ct_state_words(o: &mut Obj<'_>, ctstate: Option<&'static str>, ctdir: Option<&'static str>) {
    o.opt_word(k!("ctstate"), ctstate);
    o.opt_word(k!("ctdir"), ctdir);
}

impl Ifaces {
    /// `{"in":..,"out":..}`, each only when present: the one object whose first field may be
    /// absent.
    fn write_json(&self, out: &mut Vec<u8>) {
        match (&self.input, &self.output) {
            (Some(i), Some(o)) => {
                out.extend_from_slice(b"{\"in\":");
                string(out, i);
                out.extend_from_slice(b",\"out\":");
                string(out, o);
            }
            (Some(i), None) => {
                out.extend_from_slice(b"{\"in\":");
                string(out, i);
            }
            (None, Some(o)) => {
                out.extend_from_slice(b"{\"out\":");
                string(out, o);
            }
            (None, None) => out.push(b'{'),
        }
        out.push(b'}');
    }
}

impl Skipped {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Obj::open(out, "{\"index\":");
        o.out.push_num(self.index);
        o.some_str(k!("skipped"), self.skipped.as_deref());
        o.some_str(k!("error"), self.error.as_deref());
        o.close();
    }
}

impl HookPass {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Obj::open(out, "{\"hook\":");
        word(o.out, self.hook);
        o.word(k!("verdict"), self.verdict.name());
        o.some_str(k!("in"), self.input.as_deref());
        o.some_str(k!("out"), self.output.as_deref());
        o.close();
    }
}

impl Generated {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Obj::open(out, "{\"src\":");
        string(o.out, &self.src);
        o.str(k!("dst"), &self.dst);
        o.str(k!("kind"), self.kind);
        o.some_num(k!("icmp_type"), self.icmp_type.map(u64::from));
        o.some_num(k!("icmp_code"), self.icmp_code.map(u64::from));
        o.str(k!("by"), self.by);
        o.close();
    }
}

impl CtView {
    /// `made`: endpoint texts the record has made already.
    fn write_json(&self, out: &mut Vec<u8>, made: &Endpoints) {
        // The start up to the first tuple as one constant for the protocols nearly every
        // entry has, rather than a number formatted (each copied as a constant length).
        match self.proto {
            6 => out.extend_from_slice(concat!("{\"proto\":6", k!("orig"), "\"").as_bytes()),
            17 => out.extend_from_slice(concat!("{\"proto\":17", k!("orig"), "\"").as_bytes()),
            1 => out.extend_from_slice(concat!("{\"proto\":1", k!("orig"), "\"").as_bytes()),
            p => {
                out.extend_from_slice(b"{\"proto\":");
                out.push_num(p.into());
                out.extend_from_slice(concat!(k!("orig"), "\"").as_bytes());
            }
        }
        // Tuple texts are ASCII without anything to escape.
        let between = concat!("\"", k!("reply"), "\"");
        write_texts(&self.orig, &self.reply, between.as_bytes(), made, out);
        self.write_rest(out);
    }

    /// The end of the view's JSON, after the reply tuple's text.
    #[inline(always)]
    fn write_rest(&self, out: &mut Vec<u8>) {
        status(out, self.status);
        let mut o = Obj { out };
        o.some_word(k!("tcp_state"), self.tcp_state);
        o.some_word(k!("helper"), self.helper);
        o.some_num(k!("mark"), self.mark.map(u64::from));
        o.close();
    }
}

/// `","status":[...]` (after the reply tuple's text): one constant for the status words
/// nearly every entry has (none, SEEN_REPLY, SEEN_REPLY and ASSURED, with or without the
/// unprinted CONFIRMED), rather than the printed bits looked up and copied one by one.
#[inline(always)]
fn status(out: &mut Vec<u8>, status: Status) {
    const SEEN: u32 = Status::SEEN_REPLY;
    const BOTH: u32 = Status::SEEN_REPLY | Status::ASSURED;
    let head = concat!("\"", k!("status"), "[");
    let constant = match status.0 & !Status::CONFIRMED {
        0 => concat!("\"", k!("status"), "[]"),
        SEEN => concat!("\"", k!("status"), "[\"SEEN_REPLY\"]"),
        BOTH => concat!("\"", k!("status"), "[\"SEEN_REPLY\",\"ASSURED\"]"),
        _ => {
            out.extend_from_slice(head.as_bytes());
            for (i, w) in status.names().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                word(out, w);
            }
            out.push(b']');
            return;
        }
    };
    out.extend_from_slice(constant.as_bytes());
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

/// A constant name in quotes (see [`Obj::word`]).
#[inline(always)]
fn word(out: &mut Vec<u8>, w: &'static str) {
    out.push(b'"');
    out.extend_from_slice(w.as_bytes());
    out.push(b'"');
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
    fn status_constants_are_the_printed_names() {
        // Every combination of the low bits, the constants' and the others'.
        for bits in 0u32..(1 << 14) {
            let mut mine = Vec::new();
            status(&mut mine, Status(bits));
            let names: Vec<String> = Status(bits).names().map(|n| format!("\"{n}\"")).collect();
            let want = format!("\",\"status\":[{}]", names.join(","));
            assert_eq!(String::from_utf8_lossy(&mine), want, "{bits:#x}");
        }
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
