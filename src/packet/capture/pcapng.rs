//! pcapng (<https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html>): blocks of
//! `type, total length, body, total length`, in sections that each start with a Section Header
//! Block fixing the byte order and resetting the interface list.
//!
//! Timestamps follow the draft exactly: a 64-bit count of units of `if_tsresol` (default 10^-6 s;
//! MSB set = negative power of 2) plus `if_tsoffset` seconds. Packet blocks: Enhanced (6),
//! Simple (3), and the obsolete Packet Block (2). Other block types are skipped unread.
//! At most [`MAX_IFACES`] interfaces are kept per section, so memory stays bounded.

use std::io::Read;

use super::input::Input;
use super::{ensure, Anomaly, CaptureError, Meta, RecordErrorKind, Step, MAX_BLOCK};

/// Section Header Block type; the same in both byte orders.
pub(super) const SHB_TYPE: u32 = 0x0a0d_0d0a;
const IDB_TYPE: u32 = 1;
const OPB_TYPE: u32 = 2;
const SPB_TYPE: u32 = 3;
const EPB_TYPE: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
/// Interfaces kept per section (each costs a few bytes; a file cannot grow the list beyond).
pub(super) const MAX_IFACES: usize = 65_536;
const OPT_TSRESOL: u16 = 9;
const OPT_TSOFFSET: u16 = 14;

#[derive(Debug, Clone, Copy)]
struct Iface {
    linktype: u32,
    snaplen: u32,
    /// Raw `if_tsresol` byte: MSB clear = 10^-n seconds, set = 2^-n seconds.
    tsresol: u8,
    /// `if_tsoffset`, seconds added to every timestamp.
    tsoffset: i64,
}

impl Iface {
    /// Converts a timestamp in interface units to nanoseconds since the epoch.
    fn ts_ns(&self, units: u64) -> i128 {
        let n = u32::from(self.tsresol & 0x7f);
        // units * 1e9 < 2^64 * 2^30 fits in u128; every division/shift rounds toward zero.
        let scaled = u128::from(units) * 1_000_000_000;
        let ns = if self.tsresol & 0x80 != 0 {
            scaled >> n
        } else {
            10u128.checked_pow(n).map_or(0, |d| scaled / d)
        };
        // ns < 2^94 fits in i128.
        i128::try_from(ns).unwrap_or(i128::MAX) + i128::from(self.tsoffset) * 1_000_000_000
    }
}

pub(super) struct State {
    big_endian: bool,
    ifaces: Vec<Iface>,
    last_ts: i128,
    first_linktype: Option<u32>,
}

impl State {
    /// Reads the first Section Header Block, whose type (4 bytes) was already consumed.
    pub(super) fn start<R: Read>(
        input: &mut Input<R>,
        buf: &mut Vec<u8>,
    ) -> Result<Self, CaptureError> {
        let mut st = State {
            big_endian: false,
            ifaces: Vec::new(),
            last_ts: 0,
            first_linktype: None,
        };
        match st.block(input, buf, Some(SHB_TYPE)) {
            Step::Other | Step::Packet(_) => Ok(st),
            Step::Eof => Err(CaptureError::ShortHeader { got: 4, need: 28 }),
            Step::Io(e) => Err(input.io_error(e)),
            Step::Bad { offset, kind, .. } => Err(CaptureError::Record {
                index: 0,
                offset,
                kind,
                fatal: true,
            }),
        }
    }

    pub(super) fn first_linktype(&self) -> Option<u32> {
        self.first_linktype
    }

    pub(super) fn next<R: Read>(&mut self, input: &mut Input<R>, buf: &mut Vec<u8>) -> Step {
        self.block(input, buf, None)
    }

    fn u16_at(&self, b: &[u8], off: usize) -> Option<u16> {
        let w: [u8; 2] = b.get(off..off.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(w)
        } else {
            u16::from_le_bytes(w)
        })
    }

    fn u32_at(&self, b: &[u8], off: usize) -> Option<u32> {
        let w: [u8; 4] = b.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        })
    }

    /// Reads one block. `known_type` is set when its type field was already read.
    fn block<R: Read>(
        &mut self,
        input: &mut Input<R>,
        buf: &mut Vec<u8>,
        known_type: Option<u32>,
    ) -> Step {
        let offset = input
            .pos()
            .saturating_sub(if known_type.is_some() { 4 } else { 0 });
        let mut hdr = [0u8; 12];
        let want = if known_type.is_some() { 4 } else { 8 };
        let got = match input.read_full(&mut hdr[4..4 + want]) {
            Ok(n) => n,
            Err(e) => return Step::Io(e),
        };
        if got == 0 && known_type.is_none() {
            return Step::Eof;
        }
        let fatal = |kind| Step::Bad {
            offset,
            kind,
            fatal: true,
            counts: false,
        };
        if got < want {
            return fatal(RecordErrorKind::Truncated {
                what: "block header",
                got: got as u64,
                need: 8,
            });
        }
        // Normalise to hdr = [type; len; (bom)] regardless of how much was pre-read.
        let btype_raw: [u8; 4] = match known_type {
            Some(t) => t.to_le_bytes(),
            None => [hdr[4], hdr[5], hdr[6], hdr[7]],
        };
        let len_raw: [u8; 4] = if known_type.is_some() {
            [hdr[4], hdr[5], hdr[6], hdr[7]]
        } else {
            [hdr[8], hdr[9], hdr[10], hdr[11]]
        };
        let is_shb = btype_raw == SHB_TYPE.to_le_bytes();
        let mut consumed = 8u32;
        if is_shb {
            let mut bom = [0u8; 4];
            match input.read_full(&mut bom) {
                Ok(4) => {}
                Ok(n) => {
                    return fatal(RecordErrorKind::Truncated {
                        what: "section header",
                        got: 8 + n as u64,
                        need: 12,
                    })
                }
                Err(e) => return Step::Io(e),
            }
            self.big_endian = match (u32::from_le_bytes(bom), u32::from_be_bytes(bom)) {
                (BYTE_ORDER_MAGIC, _) => false,
                (_, BYTE_ORDER_MAGIC) => true,
                _ => return fatal(RecordErrorKind::BadByteOrder(u32::from_be_bytes(bom))),
            };
            consumed = 12;
        }
        let btype = self.u32_at(&btype_raw, 0).unwrap_or(0);
        let len = self.u32_at(&len_raw, 0).unwrap_or(0);
        if len % 4 != 0 || len < 12 || (is_shb && len < 28) {
            return fatal(RecordErrorKind::BadBlockLength(len));
        }
        self.body(input, buf, offset, btype, len, consumed)
    }

    /// Reads the rest of a block (`consumed` bytes of it are read) and interprets it.
    fn body<R: Read>(
        &mut self,
        input: &mut Input<R>,
        buf: &mut Vec<u8>,
        offset: u64,
        btype: u32,
        len: u32,
        consumed: u32,
    ) -> Step {
        let is_packet = matches!(btype, EPB_TYPE | SPB_TYPE | OPB_TYPE);
        let rest = len - consumed;
        let bad = |kind, fatal| Step::Bad {
            offset,
            kind,
            fatal,
            counts: is_packet,
        };
        let wanted = matches!(btype, SHB_TYPE | IDB_TYPE) || is_packet;
        if !wanted || len > MAX_BLOCK {
            let skipped = match input.skip(u64::from(rest)) {
                Ok(k) => k,
                Err(e) => return Step::Io(e),
            };
            if skipped < u64::from(rest) {
                let kind = RecordErrorKind::Truncated {
                    what: "block",
                    got: u64::from(consumed) + skipped,
                    need: len.into(),
                };
                return bad(kind, true);
            }
            if !wanted {
                return Step::Other;
            }
            let kind = RecordErrorKind::TooLarge {
                len: len.into(),
                limit: MAX_BLOCK.into(),
            };
            // A lost interface description would renumber the later ones: give up then.
            return bad(kind, !is_packet);
        }
        // rest <= MAX_BLOCK: a bounded allocation.
        let data = ensure(buf, rest as usize);
        let got = match input.read_full(data) {
            Ok(n) => n,
            Err(e) => return Step::Io(e),
        };
        if got < rest as usize {
            let kind = RecordErrorKind::Truncated {
                what: "block",
                got: u64::from(consumed) + got as u64,
                need: len.into(),
            };
            return bad(kind, true);
        }
        let body_len = rest as usize - 4;
        let trailer = self.u32_at(data, body_len).unwrap_or(0);
        if trailer != len {
            return bad(
                RecordErrorKind::BlockLengthMismatch {
                    leader: len,
                    trailer,
                },
                false,
            );
        }
        let body = data.get(..body_len).unwrap_or(&[]);
        match btype {
            SHB_TYPE => {
                self.ifaces.clear();
                Step::Other
            }
            IDB_TYPE => self.interface(body, offset),
            _ => match self.packet(body, btype, offset) {
                Ok(m) => Step::Packet(m),
                Err(kind) => bad(kind, false),
            },
        }
    }

    /// Interface Description Block: link type, snaplen, `if_tsresol`, `if_tsoffset`.
    fn interface(&mut self, body: &[u8], offset: u64) -> Step {
        if self.ifaces.len() >= MAX_IFACES {
            let kind = RecordErrorKind::TooLarge {
                len: self.ifaces.len() as u64 + 1,
                limit: MAX_IFACES as u64,
            };
            return Step::Bad {
                offset,
                kind,
                fatal: true,
                counts: false,
            };
        }
        let mut ifc = Iface {
            linktype: u32::from(self.u16_at(body, 0).unwrap_or(0)),
            snaplen: self.u32_at(body, 4).unwrap_or(0),
            tsresol: 6,
            tsoffset: 0,
        };
        let mut off = 8usize;
        while let (Some(code), Some(olen)) = (self.u16_at(body, off), self.u16_at(body, off + 2)) {
            let start = off + 4;
            let Some(value) = body.get(start..start + usize::from(olen)) else {
                break;
            };
            match (code, value) {
                (0, _) => break,
                (OPT_TSRESOL, [r]) => ifc.tsresol = *r,
                (OPT_TSOFFSET, v) if v.len() == 8 => {
                    let w: [u8; 8] = v.try_into().unwrap_or([0; 8]);
                    ifc.tsoffset = if self.big_endian {
                        i64::from_be_bytes(w)
                    } else {
                        i64::from_le_bytes(w)
                    };
                }
                _ => {}
            }
            off = start + usize::from(olen).div_ceil(4) * 4;
        }
        self.first_linktype.get_or_insert(ifc.linktype);
        self.ifaces.push(ifc);
        Step::Other
    }

    /// Enhanced, Simple and obsolete Packet Blocks.
    fn packet(&mut self, body: &[u8], btype: u32, offset: u64) -> Result<Meta, RecordErrorKind> {
        let short = |need: u64| RecordErrorKind::Truncated {
            what: "packet block",
            got: body.len() as u64,
            need,
        };
        let (iface_id, ts, caplen, orig_len, start) = if btype == SPB_TYPE {
            let orig = self.u32_at(body, 0).ok_or(short(4))?;
            let room = body.len().saturating_sub(4) as u32;
            let snap = self.ifaces.first().map_or(0, |i| i.snaplen);
            let cap = if snap != 0 {
                orig.min(room).min(snap)
            } else {
                orig.min(room)
            };
            (0u32, None, cap, orig, 4usize)
        } else {
            let iface = if btype == EPB_TYPE {
                self.u32_at(body, 0).ok_or(short(20))?
            } else {
                u32::from(self.u16_at(body, 0).ok_or(short(20))?)
            };
            let hi = self.u32_at(body, 4).ok_or(short(20))?;
            let lo = self.u32_at(body, 8).ok_or(short(20))?;
            let cap = self.u32_at(body, 12).ok_or(short(20))?;
            let orig = self.u32_at(body, 16).ok_or(short(20))?;
            (
                iface,
                Some((u64::from(hi) << 32) | u64::from(lo)),
                cap,
                orig,
                20usize,
            )
        };
        let room = body.len().saturating_sub(start) as u32;
        if caplen > room {
            return Err(RecordErrorKind::CaplenExceedsBlock { caplen, room });
        }
        let ifc = *usize::try_from(iface_id)
            .ok()
            .and_then(|i| self.ifaces.get(i))
            .ok_or(RecordErrorKind::UnknownInterface(iface_id))?;
        let mut anomaly = (caplen > orig_len).then_some(Anomaly::CaplenExceedsOrigLen);
        let ts_ns = match ts {
            Some(units) => ifc.ts_ns(units),
            None => {
                anomaly = Some(Anomaly::NoTimestamp);
                self.last_ts
            }
        };
        self.last_ts = ts_ns;
        Ok(Meta {
            offset,
            ts_ns,
            linktype: ifc.linktype,
            iface: Some(iface_id),
            orig_len,
            start,
            len: caplen as usize,
            anomaly,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Iface;

    fn ifc(tsresol: u8, tsoffset: i64) -> Iface {
        Iface {
            linktype: 1,
            snaplen: 0,
            tsresol,
            tsoffset,
        }
    }

    #[test]
    fn resolutions() {
        assert_eq!(ifc(6, 0).ts_ns(1_500_000), 1_500_000_000);
        assert_eq!(
            ifc(9, 0).ts_ns(1_767_663_089_500_330_123),
            1_767_663_089_500_330_123
        );
        assert_eq!(ifc(3, 0).ts_ns(2), 2_000_000);
        // 2^-10 s units: 1024 units = 1 s; 1 unit = 976562.5 ns, truncated.
        assert_eq!(ifc(0x80 | 10, 0).ts_ns(1024), 1_000_000_000);
        assert_eq!(ifc(0x80 | 10, 0).ts_ns(1), 976_562);
        assert_eq!(ifc(0x80 | 30, 0).ts_ns(1 << 30), 1_000_000_000);
        assert_eq!(ifc(0x80 | 127, 0).ts_ns(u64::MAX), 0);
        assert_eq!(ifc(127, 0).ts_ns(u64::MAX), 0);
        assert_eq!(ifc(0, 0).ts_ns(7), 7_000_000_000);
    }

    #[test]
    fn offset_is_seconds_and_signed() {
        assert_eq!(ifc(6, 100).ts_ns(1), 100_000_001_000);
        assert_eq!(ifc(6, -1).ts_ns(0), -1_000_000_000);
    }
}
