//! `-m bpf` (libxt_bpf.c revision 1, xt_bpf.c): a classic BPF program run
//! over the packet from its IP header on (`--bytecode "N,c t f k,..."` as
//! `nfbpf_compile` prints it), or a pinned eBPF object (`--object-pinned`).
//!
//! The kernel validates the program when the rule is loaded
//! (`bpf_prog_create` → `bpf_check_classic`); the checks it makes on the
//! instructions themselves (known opcodes, jumps inside the program, scratch
//! memory index, no division by a zero constant, a final RET, no read of an
//! unwritten scratch word) are repeated
//! here. A pinned object is a live-system object: any path is accepted.
//! Not judged offline.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use std::fmt::Write;

/// XT_BPF_MAX_NUM_INSTR.
pub const MAX_INSTR: usize = 64;
/// `char path[XT_BPF_PATH_MAX]`: 511 bytes and the NUL.
const MAX_PATH: usize = 511;

/// One `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bpf {
    /// XT_BPF_MODE_BYTECODE.
    pub program: Option<Vec<Insn>>,
    /// XT_BPF_MODE_FD_PINNED.
    pub pinned: Option<String>,
}

impl MatchDef for Bpf {
    const NAME: &'static str = "bpf";
    const OPTIONS: &'static [OptSpec] = &[OptSpec::req("bytecode"), OptSpec::req("object-pinned")];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "bytecode" => {
                self.program = Some(parse_program(call.arg()).map_err(|e| e.at(call.arg_span()))?)
            }
            "object-pinned" => {
                self.pinned = Some(super::helper::truncate(call.arg(), MAX_PATH).to_string())
            }
            _ => return unreachable_option(call),
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.program.is_some() == self.pinned.is_some() {
            return Err(ExtError::new(
                "bpf: one of --bytecode or --pinned is required",
            ));
        }
        Ok(())
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        match &self.program {
            Some(p) => check_classic(p).map_err(|why| {
                ExtError::new(format!("the kernel refuses this BPF program: {why}"))
                    .help("bpf_check_classic validates the bytecode when the rule is loaded")
            }),
            None => Ok(()),
        }
    }

    /// `bpf_print_v1`: no leading space, and `bpf_print_code` ends the
    /// program with its `tail` character, which is NUL here: iptables
    /// really writes a 0 byte.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str("match bpf ");
        if let Some(p) = &self.program {
            for (n, i) in p.iter().enumerate() {
                let tail = if n + 1 < p.len() { ',' } else { '\0' };
                let _ = write!(out, "{} {} {} {}{tail}", i.code, i.jt, i.jf, i.k);
            }
        } else if let Some(path) = &self.pinned {
            let _ = write!(out, "pinned {path}");
        } else {
            out.push_str("unknown");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        if let Some(p) = &self.program {
            let _ = write!(out, " --bytecode \"{},", p.len());
            let insns: Vec<String> = p
                .iter()
                .map(|i| format!("{} {} {} {}", i.code, i.jt, i.jf, i.k))
                .collect();
            out.push_str(&insns.join(","));
            out.push('"');
        } else if let Some(path) = &self.pinned {
            let _ = write!(out, " --object-pinned {path}");
        }
    }
}

/// `sscanf("%u")`-style: blanks, an optional sign (negative values wrap),
/// decimal digits; the value and the rest.
fn scan_uint(s: &str) -> Option<(u64, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if n == 0 {
        return None;
    }
    let v = t[..n].parse::<u64>().unwrap_or(u64::MAX);
    Some((if neg { v.wrapping_neg() } else { v }, &t[n..]))
}

/// `bpf_parse_string`: `LEN,insn,insn,...` with `code jt jf k` instructions.
pub fn parse_program(s: &str) -> ExtResult<Vec<Insn>> {
    let err = |m: &str| ExtError::new(format!("bpf: {m}"));
    let (len, rest) = scan_uint(s)
        .filter(|(_, r)| r.starts_with(','))
        .ok_or_else(|| err("error parsing program length"))?;
    let len = len as u16 as usize;
    if len == 0 {
        return Err(err("illegal zero length program"));
    }
    if len > MAX_INSTR {
        return Err(err("number of instructions exceeds maximum"));
    }
    let mut prog = Vec::new();
    let mut token = rest;
    // Each instruction starts after a comma; a trailing comma ends the list.
    while let Some(pos) = token.find(',') {
        let next = &token[pos + 1..];
        if next.is_empty() {
            break;
        }
        if prog.len() >= len {
            return Err(err(
                "real program length exceeds the encoded length parameter",
            ));
        }
        let insn = scan_insn(next).ok_or_else(|| err(&format!("error at instr {}", prog.len())))?;
        prog.push(insn);
        token = next;
    }
    if prog.len() != len {
        return Err(err(
            "parsed program length is less than the encoded length parameter",
        ));
    }
    Ok(prog)
}

fn scan_insn(s: &str) -> Option<Insn> {
    let (code, r) = scan_uint(s)?;
    let (jt, r) = scan_uint(r)?;
    let (jf, r) = scan_uint(r)?;
    let (k, _) = scan_uint(r)?;
    Some(Insn {
        code: code as u16,
        jt: jt as u8,
        jf: jf as u8,
        k: k as u32,
    })
}

/// Opcodes `bpf_check_classic` knows (`codes[]` in net/core/filter.c).
const VALID: &[u16] = &[
    0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x94, 0x9c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c,
    0x74, 0x7c, 0xa4, 0xac, 0x84, // ALU
    0x20, 0x28, 0x30, 0x80, 0x40, 0x48, 0x50, 0x00, 0x60, // LD
    0x01, 0x81, 0xb1, 0x61, // LDX
    0x02, 0x03, // ST, STX
    0x07, 0x87, // MISC
    0x06, 0x16, // RET
    0x05, 0x15, 0x1d, 0x35, 0x3d, 0x25, 0x2d, 0x45, 0x4d, // JMP
];

/// The instruction checks of `bpf_check_classic`.
pub fn check_classic(p: &[Insn]) -> Result<(), String> {
    let n = p.len();
    for (pc, i) in p.iter().enumerate() {
        if !VALID.contains(&i.code) {
            return Err(format!("unknown opcode {} at instruction {pc}", i.code));
        }
        match i.code {
            // BPF_ALU | BPF_DIV / BPF_MOD with a constant.
            0x34 | 0x94 if i.k == 0 => return Err(format!("division by zero at instruction {pc}")),
            // LD/LDX MEM, ST, STX: scratch memory has 16 words.
            0x60 | 0x61 | 0x02 | 0x03 if i.k >= 16 => {
                return Err(format!(
                    "scratch memory index {} out of range at instruction {pc}",
                    i.k
                ))
            }
            0x05 if u64::from(i.k) >= (n - pc - 1) as u64 => {
                return Err(format!("jump beyond the program at instruction {pc}"))
            }
            0x15 | 0x1d | 0x35 | 0x3d | 0x25 | 0x2d | 0x45 | 0x4d
                if pc + usize::from(i.jt) + 1 >= n || pc + usize::from(i.jf) + 1 >= n =>
            {
                return Err(format!("jump beyond the program at instruction {pc}"))
            }
            _ => {}
        }
    }
    match p.last().map(|i| i.code) {
        Some(0x06 | 0x16) => check_load_and_stores(p),
        _ => Err("the last instruction is not a return".to_string()),
    }
}

/// `check_load_and_stores`: a scratch word may be read only after a store
/// on every path to the read (jump targets keep what all sources agree on).
fn check_load_and_stores(p: &[Insn]) -> Result<(), String> {
    let mut masks = vec![u16::MAX; p.len()];
    let mut valid: u16 = 0;
    for (pc, i) in p.iter().enumerate() {
        valid &= masks.get(pc).copied().unwrap_or(u16::MAX);
        let bit = 1u16.checked_shl(i.k).unwrap_or(0);
        let mut target = |off: usize, valid: u16| {
            if let Some(m) = masks.get_mut(pc + 1 + off) {
                *m &= valid;
            }
        };
        match i.code {
            0x02 | 0x03 => valid |= bit,
            0x60 | 0x61 if valid & bit == 0 => {
                return Err(format!(
                    "scratch word {} read before any store at instruction {pc}",
                    i.k
                ))
            }
            0x05 => {
                target(i.k as usize, valid);
                valid = u16::MAX;
            }
            0x15 | 0x1d | 0x35 | 0x3d | 0x25 | 0x2d | 0x45 | 0x4d => {
                target(usize::from(i.jt), valid);
                target(usize::from(i.jf), valid);
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;
    use super::parse_program;

    #[test]
    fn bytecode_grammar() {
        assert_eq!(parse_program("2,6 0 0 1,6 0 0 0,").unwrap().len(), 2);
        assert!(parse_program("2,6 0 0 1").is_err());
        assert!(parse_program("1,6 0 0 1,6 0 0 0").is_err());
        assert!(parse_program("0,").is_err());
        assert!(parse_program("1,x").is_err());
        assert!(parse_program("65,6 0 0 1").is_err());
    }

    #[test]
    fn save_and_validate() {
        assert_eq!(
            roundtrip("-m bpf --bytecode \"4, 48 0 0 9,21 0 1 6 ,6 0 0 1,6 0 0 0\"").unwrap(),
            "-m bpf --bytecode \"4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0\""
        );
        assert!(roundtrip("-m bpf --bytecode \"1,48 0 0 9\"").is_err());
        assert!(roundtrip("-m bpf --bytecode \"2,21 0 5 6,6 0 0 0\"").is_err());
        assert!(roundtrip("-m bpf --bytecode \"1,255 0 0 0\"").is_err());
        assert!(roundtrip("-m bpf").is_err());
        assert!(roundtrip("-m bpf --bytecode \"3,96 0 0 3,6 0 0 1,22 0 0 0\"").is_err());
        assert!(roundtrip("-m bpf --bytecode \"3,2 0 0 3,96 0 0 3,22 0 0 0\"").is_ok());
        assert_eq!(
            roundtrip("-m bpf --object-pinned /sys/fs/bpf/x").unwrap(),
            "-m bpf --object-pinned /sys/fs/bpf/x"
        );
    }
}
