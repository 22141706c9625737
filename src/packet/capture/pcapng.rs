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
        // Type (unless pre-read) and length, kept as raw bytes until the byte order is known.
        let mut hdr = [0u8; 8];
        let (want, from) = if known_type.is_some() { (4, 4) } else { (8, 0) };
        match input.read_full(hdr.get_mut(from..).unwrap_or(&mut [])) {
            Ok(0) if known_type.is_none() => return Step::Eof,
            Ok(n) if n < want => {
                return Step::truncated(offset, "block header", n as u64, 8, false)
            }
            Ok(_) => {}
            Err(e) => return Step::Io(e),
        }
        if let Some(t) = known_type {
            hdr[..4].copy_from_slice(&t.to_le_bytes());
        }
        let is_shb = hdr[..4] == SHB_TYPE.to_le_bytes();
        if is_shb {
            if let Err(step) = self.byte_order(input, offset) {
                return step;
            }
        }
        let btype = self.u32_at(&hdr, 0).unwrap_or(0);
        let len = self.u32_at(&hdr, 4).unwrap_or(0);
        if len % 4 != 0 || len < 12 || (is_shb && len < 28) {
            let kind = RecordErrorKind::BadBlockLength(len);
            return Step::Bad {
                offset,
                kind,
                fatal: true,
                counts: false,
            };
        }
        let consumed = if is_shb { 12 } else { 8 };
        self.body(
            input,
            buf,
            Head {
                offset,
                btype,
                len,
                consumed,
            },
        )
    }

    /// Reads a Section Header Block's byte-order magic and adopts the section's byte order.
    fn byte_order<R: Read>(&mut self, input: &mut Input<R>, offset: u64) -> Result<(), Step> {
        let mut bom = [0u8; 4];
        match input.read_full(&mut bom) {
            Ok(4) => {}
            Ok(n) => {
                return Err(Step::truncated(
                    offset,
                    "section header",
                    8 + n as u64,
                    12,
                    false,
                ))
            }
            Err(e) => return Err(Step::Io(e)),
        }
        self.big_endian = match (u32::from_le_bytes(bom), u32::from_be_bytes(bom)) {
            (BYTE_ORDER_MAGIC, _) => false,
            (_, BYTE_ORDER_MAGIC) => true,
            _ => {
                let kind = RecordErrorKind::BadByteOrder(u32::from_be_bytes(bom));
                return Err(Step::Bad {
                    offset,
                    kind,
                    fatal: true,
                    counts: false,
                });
            }
        };
        Ok(())
    }

    /// Reads the rest of a block and interprets it.
    fn body<R: Read>(&mut self, input: &mut Input<R>, buf: &mut Vec<u8>, h: Head) -> Step {
        let is_packet = matches!(h.btype, EPB_TYPE | SPB_TYPE | OPB_TYPE);
        let wanted = matches!(h.btype, SHB_TYPE | IDB_TYPE) || is_packet;
        if !wanted || h.len > MAX_BLOCK {
            return skip_block(input, h, wanted, is_packet);
        }
        let rest = h.len - h.consumed;
        // rest <= MAX_BLOCK: a bounded allocation.
        let data = ensure(buf, rest as usize);
        match input.read_full(data) {
            Ok(n) if n < rest as usize => {
                let got = u64::from(h.consumed) + n as u64;
                return Step::truncated(h.offset, "block", got, h.len.into(), is_packet);
            }
            Ok(_) => {}
            Err(e) => return Step::Io(e),
        }
        let bad = |kind| Step::Bad {
            offset: h.offset,
            kind,
            fatal: false,
            counts: is_packet,
        };
        let body_len = rest as usize - 4;
        let trailer = self.u32_at(data, body_len).unwrap_or(0);
        if trailer != h.len {
            return bad(RecordErrorKind::BlockLengthMismatch {
                leader: h.len,
                trailer,
            });
        }
        let body = data.get(..body_len).unwrap_or(&[]);
        match h.btype {
            SHB_TYPE => {
                self.ifaces.clear();
                Step::Other
            }
            IDB_TYPE => self.interface(body, h.offset),
            _ => self
                .packet(body, h.btype, h.offset)
                .map_or_else(bad, Step::Packet),
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
        let f = self.packet_fields(body, btype)?;
        let room = body.len().saturating_sub(f.start) as u32;
        if f.caplen > room {
            return Err(RecordErrorKind::CaplenExceedsBlock {
                caplen: f.caplen,
                room,
            });
        }
        let ifc = *usize::try_from(f.iface)
            .ok()
            .and_then(|i| self.ifaces.get(i))
            .ok_or(RecordErrorKind::UnknownInterface(f.iface))?;
        let mut anomaly = (f.caplen > f.orig_len).then_some(Anomaly::CaplenExceedsOrigLen);
        let ts_ns = match f.ts {
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
            iface: Some(f.iface),
            orig_len: f.orig_len,
            start: f.start,
            in_window: false,
            len: f.caplen as usize,
            anomaly,
        })
    }

    /// The fixed fields of a packet block. A Simple Packet Block belongs to interface 0, has no
    /// timestamp, and its captured length is the smallest of the original length, the room in
    /// the block and the interface's snaplen.
    fn packet_fields(&self, body: &[u8], btype: u32) -> Result<PacketFields, RecordErrorKind> {
        let short = |need: u64| RecordErrorKind::Truncated {
            what: "packet block",
            got: body.len() as u64,
            need,
        };
        if btype == SPB_TYPE {
            let orig_len = self.u32_at(body, 0).ok_or(short(4))?;
            let room = body.len().saturating_sub(4) as u32;
            let snap = self.ifaces.first().map_or(0, |i| i.snaplen);
            let caplen = if snap != 0 {
                orig_len.min(room).min(snap)
            } else {
                orig_len.min(room)
            };
            return Ok(PacketFields {
                iface: 0,
                ts: None,
                caplen,
                orig_len,
                start: 4,
            });
        }
        let iface = if btype == EPB_TYPE {
            self.u32_at(body, 0).ok_or(short(20))?
        } else {
            u32::from(self.u16_at(body, 0).ok_or(short(20))?)
        };
        let hi = self.u32_at(body, 4).ok_or(short(20))?;
        let lo = self.u32_at(body, 8).ok_or(short(20))?;
        Ok(PacketFields {
            iface,
            ts: Some((u64::from(hi) << 32) | u64::from(lo)),
            caplen: self.u32_at(body, 12).ok_or(short(20))?,
            orig_len: self.u32_at(body, 16).ok_or(short(20))?,
            start: 20,
        })
    }
}

/// Fixed fields of a packet block; the data starts at `start` in the body.
struct PacketFields {
    iface: u32,
    ts: Option<u64>,
    caplen: u32,
    orig_len: u32,
    start: usize,
}

/// The already-read start of a block.
#[derive(Debug, Clone, Copy)]
struct Head {
    offset: u64,
    btype: u32,
    len: u32,
    /// Bytes of the block read so far (8, or 12 for a Section Header Block).
    consumed: u32,
}

/// Streams past a block not kept in memory: one of no interest, or one over [`MAX_BLOCK`]
/// (an error; fatal for a section or interface block, whose loss would misnumber interfaces).
fn skip_block<R: Read>(input: &mut Input<R>, h: Head, wanted: bool, is_packet: bool) -> Step {
    let rest = u64::from(h.len - h.consumed);
    match input.skip(rest) {
        Ok(k) if k < rest => Step::truncated(
            h.offset,
            "block",
            u64::from(h.consumed) + k,
            h.len.into(),
            is_packet,
        ),
        Ok(_) if !wanted => Step::Other,
        Ok(_) => {
            let kind = RecordErrorKind::TooLarge {
                len: h.len.into(),
                limit: MAX_BLOCK.into(),
            };
            Step::Bad {
                offset: h.offset,
                kind,
                fatal: !is_packet,
                counts: is_packet,
            }
        }
        Err(e) => Step::Io(e),
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
