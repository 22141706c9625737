//! `-m sctp` (libxt_sctp.c, kernel xt_sctp.c): SCTP ports and chunk types.
//! The kernel requires `-p sctp` without `!`.
//!
//! `--chunk-types {all|any|only} LIST` takes two words. Chunk flags
//! (`DATA:Be`) are recorded as iptables 1.8.9 records them: keyed by the
//! chunk's index in its name table, which equals the chunk type only for
//! the types up to SHUTDOWN_COMPLETE (kept so the kernel-visible data and the
//! saved text stay those of 1.8.9).

use super::tcp::{bang, require_proto, unreachable_option};
use crate::ext::facts::{Facts, L4Facts, MatchResult};
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::port_range;
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

/// `sctp_chunk_names`: name, chunk type, valid flag letters (bit 7 first).
const CHUNKS: &[(&str, u8, &str)] = &[
    ("DATA", 0, "----IUBE"),
    ("INIT", 1, "--------"),
    ("INIT_ACK", 2, "--------"),
    ("SACK", 3, "--------"),
    ("HEARTBEAT", 4, "--------"),
    ("HEARTBEAT_ACK", 5, "--------"),
    ("ABORT", 6, "-------T"),
    ("SHUTDOWN", 7, "--------"),
    ("SHUTDOWN_ACK", 8, "--------"),
    ("ERROR", 9, "--------"),
    ("COOKIE_ECHO", 10, "--------"),
    ("COOKIE_ACK", 11, "--------"),
    ("ECN_ECNE", 12, "--------"),
    ("ECN_CWR", 13, "--------"),
    ("SHUTDOWN_COMPLETE", 14, "-------T"),
    ("I_DATA", 64, "----IUBE"),
    ("RE_CONFIG", 130, "--------"),
    ("PAD", 132, "--------"),
    ("ASCONF", 193, "--------"),
    ("ASCONF_ACK", 128, "--------"),
    ("FORWARD_TSN", 192, "--------"),
    ("I_FORWARD_TSN", 194, "--------"),
];
/// `XT_NUM_SCTP_FLAGS`.
const MAX_FLAG_ENTRIES: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkMatch {
    Any,
    All,
    Only,
}

/// One `xt_sctp_flag_info`: the chunk key (see module docs), flag values
/// and which flag bits are tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkFlags {
    pub chunktype: u8,
    pub flag: u8,
    pub mask: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunks {
    pub kind: ChunkMatch,
    /// Bit `n` of the 256-bit map = chunk type `n`.
    pub map: [u32; 8],
    pub flags: Vec<ChunkFlags>,
    pub invert: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sctp {
    pub sport: Option<((u16, u16), bool)>,
    pub dport: Option<((u16, u16), bool)>,
    pub chunks: Option<Chunks>,
}

impl MatchDef for Sctp {
    const NAME: &'static str = "sctp";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("source-port").inv().alias("sport"),
        OptSpec::req("sport").inv(),
        OptSpec::req("destination-port").inv().alias("dport"),
        OptSpec::req("dport").inv(),
        OptSpec::two("chunk-types").inv(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        let at = |e: ExtError| e.at(call.arg_span());
        match call.key {
            "sport" => {
                self.sport = Some((port_range(call.arg(), "sctp").map_err(at)?, call.invert))
            }
            "dport" => {
                self.dport = Some((port_range(call.arg(), "sctp").map_err(at)?, call.invert))
            }
            "chunk-types" => {
                let Some(list) = call.extra.first() else {
                    return Err(ExtError::new("--chunk-types requires two args").at(call.span));
                };
                let mut c = parse_chunks(call.arg(), &list.text).map_err(|e| e.at(call.span))?;
                c.invert = call.invert;
                self.chunks = Some(c);
            }
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        require_proto(ctx, 132, "sctp")
    }

    /// `sctp_mt`: later fragments never match; a missing header or a
    /// zero-length chunk drops the packet (`hotdrop`).
    fn eval(&self, f: &Facts) -> MatchResult {
        if f.frag_off != 0 {
            return MatchResult::No;
        }
        let (sport, dport) = match f.l4 {
            L4Facts::Ports { sport, dport } if f.proto == 132 => (sport, dport),
            _ if f.l4_truncated => return MatchResult::Hotdrop,
            _ => return MatchResult::No,
        };
        let port_ok = |p: Option<((u16, u16), bool)>, v: u16| {
            p.is_none_or(|((lo, hi), inv)| (lo <= v && v <= hi) != inv)
        };
        if !port_ok(self.sport, sport) || !port_ok(self.dport, dport) {
            return MatchResult::No;
        }
        let Some(c) = &self.chunks else {
            return MatchResult::Yes;
        };
        match chunks_match(c, f.bytes, usize::from(f.ihl)) {
            Some(hit) => MatchResult::from_bool(hit != c.invert),
            None => MatchResult::Hotdrop,
        }
    }

    /// `sctp_print`: ports as libxt_tcp.c prints them, then ` !` and the
    /// chunk list with numeric chunk types.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" sctp");
        for (name, p) in [("spt", self.sport), ("dpt", self.dport)] {
            if let Some((range, inv)) = p {
                super::tcp::list_ports(out, name, range, inv);
            }
        }
        if let Some(c) = &self.chunks {
            out.push_str(bang(c.invert));
            out.push_str(match c.kind {
                ChunkMatch::Any => " any",
                ChunkMatch::All => " all",
                ChunkMatch::Only => " only",
            });
            chunk_list(out, c, true);
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        for (name, p) in [("sport", self.sport), ("dport", self.dport)] {
            if let Some(((lo, hi), inv)) = p {
                let _ = write!(out, "{} --{name} {lo}", bang(inv));
                if lo != hi {
                    let _ = write!(out, ":{hi}");
                }
            }
        }
        if let Some(c) = &self.chunks {
            save_chunks(out, c);
        }
    }
}

/// `match_packet` (xt_sctp.c): walks the chunks after the 12-byte common
/// header; `None` is the kernel's hotdrop (a chunk header cut short or a
/// zero chunk length).
fn chunks_match(c: &Chunks, bytes: &[u8], ihl: usize) -> Option<bool> {
    let mut copy = c.map;
    let mut offset = ihl + 12;
    loop {
        let head = bytes.get(offset..offset + 4)?;
        let (ty, flags) = (head[0], head[1]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        if len == 0 {
            return None;
        }
        if is_set(&c.map, ty) {
            let flags_ok = c
                .flags
                .iter()
                .find(|fl| fl.chunktype == ty)
                .is_none_or(|fl| flags & fl.mask == fl.flag);
            match c.kind {
                ChunkMatch::Any if flags_ok => return Some(true),
                ChunkMatch::All if flags_ok => {
                    if let Some(w) = copy.get_mut(usize::from(ty / 32)) {
                        *w &= !(1 << (ty % 32));
                    }
                }
                ChunkMatch::Only if !flags_ok => return Some(false),
                _ => {}
            }
        } else if c.kind == ChunkMatch::Only {
            return Some(false);
        }
        offset += (len + 3) & !3;
        if offset >= bytes.len() {
            break;
        }
    }
    Some(match c.kind {
        ChunkMatch::All => copy == [0; 8],
        ChunkMatch::Any => false,
        ChunkMatch::Only => true,
    })
}

/// `parse_sctp_chunks`: the match kind, then `ALL`, `NONE` or a comma list of
/// `NAME[:FLAGS]` (upper-case flag letter = set, lower-case = clear).
fn parse_chunks(kind: &str, list: &str) -> ExtResult<Chunks> {
    let kind = match kind.to_ascii_uppercase().as_str() {
        "ANY" => ChunkMatch::Any,
        "ALL" => ChunkMatch::All,
        "ONLY" => ChunkMatch::Only,
        _ => {
            return Err(ExtError::new(
                "Match type has to be one of \"ALL\", \"ANY\" or \"ONLY\"",
            ))
        }
    };
    let mut c = Chunks {
        kind,
        map: [0; 8],
        flags: Vec::new(),
        invert: false,
    };
    if list.eq_ignore_ascii_case("ALL") {
        c.map = [u32::MAX; 8];
        return Ok(c);
    }
    if list.eq_ignore_ascii_case("NONE") {
        return Ok(c);
    }
    for item in list.split(',').filter(|s| !s.is_empty()) {
        let (name, flags) = match item.split_once(':') {
            Some((n, f)) => (n, Some(f)),
            None => (item, None),
        };
        let (index, (_, ty, valid)) = CHUNKS
            .iter()
            .enumerate()
            .find(|(_, (n, _, _))| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| ExtError::new(format!("Unknown sctp chunk `{name}'")))?;
        set_bit(&mut c.map, *ty);
        for ch in flags.unwrap_or("").chars() {
            let pos = valid
                .find(ch.to_ascii_uppercase())
                .filter(|_| ch != '-')
                .ok_or_else(|| ExtError::new(format!("Invalid flags for chunk type {index}")))?;
            let bit = 7 - pos as u8;
            add_flag(&mut c.flags, index as u8, bit, ch.is_ascii_uppercase())?;
        }
    }
    Ok(c)
}

fn set_bit(map: &mut [u32; 8], ty: u8) {
    if let Some(w) = map.get_mut(usize::from(ty / 32)) {
        *w |= 1 << (ty % 32);
    }
}

fn is_set(map: &[u32; 8], ty: u8) -> bool {
    map.get(usize::from(ty / 32))
        .is_some_and(|w| w & (1 << (ty % 32)) != 0)
}

/// `save_chunk_flag_info`: one entry per chunk key, at most four.
fn add_flag(flags: &mut Vec<ChunkFlags>, key: u8, bit: u8, set: bool) -> ExtResult {
    let value = if set { 1 << bit } else { 0 };
    if let Some(f) = flags.iter_mut().find(|f| f.chunktype == key) {
        f.mask |= 1 << bit;
        f.flag |= value;
        return Ok(());
    }
    if flags.len() == MAX_FLAG_ENTRIES {
        return Err(ExtError::new("Number of chunk types with flags exceeds currently allowed limit. Increasing this limit involves changing IPT_NUM_SCTP_FLAGS and recompiling both the kernel space and user space modules"));
    }
    flags.push(ChunkFlags {
        chunktype: key,
        flag: value,
        mask: 1 << bit,
    });
    Ok(())
}

/// `sctp_save` + `print_chunks(einfo, 0)`.
fn save_chunks(out: &mut String, c: &Chunks) {
    out.push_str(bang(c.invert));
    out.push_str(" --chunk-types ");
    out.push_str(match c.kind {
        ChunkMatch::Any => "any",
        ChunkMatch::All => "all",
        ChunkMatch::Only => "only",
    });
    chunk_list(out, c, false);
}

/// `print_chunks` after the match kind: NONE, ALL, or the chunks (names on
/// save, `0x%04X` numbers when listing with `-n`) with their flag letters.
fn chunk_list(out: &mut String, c: &Chunks, numeric: bool) {
    if c.map == [0; 8] {
        out.push_str(" NONE");
        return;
    }
    if c.map == [u32::MAX; 8] {
        out.push_str(" ALL");
        return;
    }
    let mut first = true;
    for ty in 0..=255u8 {
        if !is_set(&c.map, ty) {
            continue;
        }
        out.push(if first { ' ' } else { ',' });
        first = false;
        if numeric {
            let _ = write!(out, "0x{ty:04X}");
        } else if let Some((name, _, _)) = CHUNKS.iter().find(|(_, t, _)| *t == ty) {
            out.push_str(name);
        }
        for f in c.flags.iter().filter(|f| f.chunktype == ty) {
            // print_chunk_flags indexes the name table by chunk type.
            let valid = CHUNKS.get(usize::from(ty)).map_or("--------", |c| c.2);
            if f.mask != 0 {
                out.push(':');
            }
            for i in (0..8u8).rev() {
                if f.mask & (1 << i) != 0 {
                    let letter = valid
                        .as_bytes()
                        .get(usize::from(7 - i))
                        .copied()
                        .unwrap_or(b'-');
                    let letter = if f.flag & (1 << i) != 0 {
                        letter
                    } else {
                        letter.to_ascii_lowercase()
                    };
                    out.push(char::from(letter));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(kind: &str, list: &str) -> String {
        let mut s = String::new();
        save_chunks(&mut s, &parse_chunks(kind, list).unwrap());
        s
    }

    #[test]
    fn chunk_walk() {
        // IP header (20 bytes), SCTP common header (12), INIT chunk (20),
        // DATA chunk with flags 0x03 (16).
        let mut pkt = vec![0u8; 32];
        pkt.extend_from_slice(&[1, 0, 0, 20]);
        pkt.extend_from_slice(&[0; 16]);
        pkt.extend_from_slice(&[0, 3, 0, 16]);
        pkt.extend_from_slice(&[0; 12]);
        let c = |k, l| parse_chunks(k, l).unwrap();
        assert_eq!(chunks_match(&c("any", "DATA"), &pkt, 20), Some(true));
        assert_eq!(chunks_match(&c("all", "DATA,INIT"), &pkt, 20), Some(true));
        assert_eq!(chunks_match(&c("all", "DATA,SACK"), &pkt, 20), Some(false));
        assert_eq!(chunks_match(&c("only", "DATA"), &pkt, 20), Some(false));
        assert_eq!(chunks_match(&c("any", "DATA:BE"), &pkt, 20), Some(true));
        assert_eq!(chunks_match(&c("any", "DATA:b"), &pkt, 20), Some(false));
        let mut bad = pkt.clone();
        bad[35] = 0;
        assert_eq!(chunks_match(&c("any", "SACK"), &bad, 20), None);
    }

    #[test]
    fn chunk_lists() {
        assert_eq!(saved("all", "INIT,DATA"), " --chunk-types all DATA,INIT");
        assert_eq!(saved("ANY", "all"), " --chunk-types any ALL");
        assert_eq!(saved("only", "none"), " --chunk-types only NONE");
        assert_eq!(saved("all", "DATA:Be"), " --chunk-types all DATA:Be");
        assert!(parse_chunks("some", "DATA").is_err());
        assert!(parse_chunks("all", "DATA:T").is_err());
        assert!(parse_chunks("all", "FOO").is_err());
    }
}
