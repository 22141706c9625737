//! IPv4 header view (RFC 791) over borrowed bytes: every field netfilter's `ipt_ip` and the
//! IPv4 matches read, plus the header checksum check of `ip_rcv_core`.
//!
//! Invariant: a view exists only over at least 20 bytes with version 4; the fixed header is
//! copied into an array so field access cannot fail. `bytes` is what the kernel keeps after
//! `ip_rcv_core` trims the skb to the total length (when that length is sane), so trailing link
//! padding never reaches L4 parsing or checksums.

use std::net::Ipv4Addr;

use super::checksum;

/// Fragment bits of the flags/offset word.
const IP_DF: u16 = 0x4000;
const IP_MF: u16 = 0x2000;
const IP_RESERVED: u16 = 0x8000;
const IP_OFFSET: u16 = 0x1fff;

/// A checked view of an IPv4 header and its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4<'a> {
    hdr: [u8; 20],
    bytes: &'a [u8],
}

impl<'a> Ipv4<'a> {
    /// A view over `bytes` as captured; `None` if shorter than 20 bytes or not version 4.
    /// The bytes are trimmed to the total length when `ihl*4 <= total length <= bytes.len()`.
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        let hdr: [u8; 20] = bytes.get(..20)?.try_into().ok()?;
        if hdr[0] >> 4 != 4 {
            return None;
        }
        let mut v = Ipv4 { hdr, bytes };
        let tot = usize::from(v.total_len());
        if v.header_len() >= 20 && tot >= v.header_len() && tot <= bytes.len() {
            v.bytes = bytes.get(..tot).unwrap_or(bytes);
        }
        Some(v)
    }

    /// Header and payload (trimmed as described on the type).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// Internet header length in 32-bit words.
    pub fn ihl(&self) -> u8 {
        self.hdr[0] & 0x0f
    }
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }
    pub fn tos(&self) -> u8 {
        self.hdr[1]
    }
    pub fn dscp(&self) -> u8 {
        self.hdr[1] >> 2
    }
    pub fn ecn(&self) -> u8 {
        self.hdr[1] & 0x03
    }
    pub fn total_len(&self) -> u16 {
        u16::from_be_bytes([self.hdr[2], self.hdr[3]])
    }
    pub fn id(&self) -> u16 {
        u16::from_be_bytes([self.hdr[4], self.hdr[5]])
    }
    fn frag_word(&self) -> u16 {
        u16::from_be_bytes([self.hdr[6], self.hdr[7]])
    }
    pub fn df(&self) -> bool {
        self.frag_word() & IP_DF != 0
    }
    pub fn mf(&self) -> bool {
        self.frag_word() & IP_MF != 0
    }
    /// The reserved ("evil") flag bit.
    pub fn reserved_flag(&self) -> bool {
        self.frag_word() & IP_RESERVED != 0
    }
    /// Fragment offset in 8-byte units, as in the header.
    pub fn frag_offset(&self) -> u16 {
        self.frag_word() & IP_OFFSET
    }
    /// Fragment offset in bytes.
    pub fn frag_offset_bytes(&self) -> u32 {
        u32::from(self.frag_offset()) * 8
    }
    /// MF set or a non-zero offset (`ip_is_fragment`).
    pub fn is_fragment(&self) -> bool {
        self.frag_word() & (IP_MF | IP_OFFSET) != 0
    }
    pub fn ttl(&self) -> u8 {
        self.hdr[8]
    }
    pub fn proto(&self) -> u8 {
        self.hdr[9]
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.hdr[10], self.hdr[11]])
    }
    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.hdr[12], self.hdr[13], self.hdr[14], self.hdr[15])
    }
    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.hdr[16], self.hdr[17], self.hdr[18], self.hdr[19])
    }
    /// The option bytes (empty when IHL is 5 or the header is malformed).
    pub fn options(&self) -> &'a [u8] {
        self.bytes.get(20..self.header_len()).unwrap_or(&[])
    }
    pub fn has_options(&self) -> bool {
        self.ihl() > 5
    }
    /// The options as (type, data) pairs; see [`Ipv4Options`].
    pub fn options_iter(&self) -> Ipv4Options<'a> {
        Ipv4Options {
            rest: self.options(),
            malformed: false,
        }
    }
    /// A loose or strict source route option is present (`ip_rcv_options` drops such packets
    /// unless `accept_source_route` is set, which it is not by default).
    pub fn has_source_route(&self) -> bool {
        self.options_iter()
            .any(|(t, _)| t == OPT_LSRR || t == OPT_SSRR)
    }
    /// The header checksum verifies (`ip_fast_csum(iph, ihl) == 0`); false if the header is
    /// shorter than IHL says or IHL < 5.
    pub fn header_checksum_ok(&self) -> bool {
        match self.bytes.get(..self.header_len()) {
            Some(h) if self.ihl() >= 5 => checksum::header_verifies(h),
            _ => false,
        }
    }
    /// Bytes after the header; empty when IHL is out of range.
    pub fn payload(&self) -> &'a [u8] {
        if self.ihl() < 5 {
            return &[];
        }
        self.bytes.get(self.header_len()..).unwrap_or(&[])
    }
}

/// Option types of a source route (RFC 791): loose and strict.
pub const OPT_LSRR: u8 = 131;
pub const OPT_SSRR: u8 = 137;

/// Iterator over IPv4 options as `(type, data)`; NOP is skipped, End of Option List stops it.
/// A length below 2 or past the header ends the walk and sets [`Ipv4Options::malformed`]
/// (`ip_options_compile` rejects the packet then).
#[derive(Debug, Clone)]
pub struct Ipv4Options<'a> {
    rest: &'a [u8],
    /// Set once a structurally broken option was met.
    pub malformed: bool,
}

impl<'a> Iterator for Ipv4Options<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&kind, after) = self.rest.split_first()?;
            match kind {
                0 => {
                    self.rest = &[];
                    return None;
                }
                1 => {
                    self.rest = after;
                    continue;
                }
                _ => {}
            }
            let len = after.first().map_or(0, |l| usize::from(*l));
            let Some(data) = self.rest.get(2..len).filter(|_| len >= 2) else {
                self.rest = &[];
                self.malformed = true;
                return None;
            };
            self.rest = self.rest.get(len..).unwrap_or(&[]);
            return Some((kind, data));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDR: [u8; 20] = [
        0x45, 0xb9, 0x00, 0x1c, 0x12, 0x34, 0x20, 0x03, 0x40, 0x11, 0x00, 0x00, 10, 0, 0, 1, 10, 0,
        0, 2,
    ];

    #[test]
    fn fields() {
        let mut b = HDR.to_vec();
        b.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 0xee, 0xee]);
        let v = Ipv4::new(&b).unwrap();
        assert_eq!(v.bytes().len(), 28, "trimmed to the total length");
        assert_eq!(
            (v.ihl(), v.header_len(), v.tos(), v.dscp(), v.ecn()),
            (5, 20, 0xb9, 0x2e, 1)
        );
        assert_eq!(
            (
                v.id(),
                v.mf(),
                v.df(),
                v.frag_offset(),
                v.frag_offset_bytes()
            ),
            (0x1234, true, false, 3, 24)
        );
        assert!(v.is_fragment());
        assert_eq!((v.ttl(), v.proto()), (64, 17));
        assert_eq!(
            (v.src(), v.dst()),
            (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2))
        );
        assert_eq!(v.payload(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(!v.has_options() && v.options().is_empty());
        assert!(!v.header_checksum_ok());
    }

    #[test]
    fn options() {
        let mut b = HDR.to_vec();
        b[0] = 0x48;
        b[2..4].copy_from_slice(&36u16.to_be_bytes());
        // NOP, router alert (148, len 4), LSRR with one address; then 4 payload bytes.
        b.extend_from_slice(&[1, 148, 4, 0, 0, 131, 7, 4, 10, 0, 0, 9]);
        b.extend_from_slice(&[0; 4]);
        let v = Ipv4::new(&b).unwrap();
        assert!(v.has_options());
        let got: Vec<(u8, &[u8])> = v.options_iter().collect();
        assert_eq!(got, [(148, &[0u8, 0][..]), (131, &[4, 10, 0, 0, 9][..])]);
        assert!(v.has_source_route());
        b[26] = 30; // the LSRR length runs past the header
        let v = Ipv4::new(&b).unwrap();
        let mut it = v.options_iter();
        assert_eq!(it.by_ref().count(), 1);
        assert!(it.malformed && !v.has_source_route());
    }

    #[test]
    fn checksum_and_bad_lengths() {
        let mut b = HDR.to_vec();
        let c = checksum::finish(checksum::sum(&b, 0));
        b[10..12].copy_from_slice(&c.to_be_bytes());
        b.extend_from_slice(&[0; 8]);
        assert!(Ipv4::new(&b).unwrap().header_checksum_ok());
        // Total length beyond the capture: not trimmed, payload is what there is.
        b[3] = 200;
        assert_eq!(Ipv4::new(&b).unwrap().bytes().len(), 28);
        b[0] = 0x43;
        let v = Ipv4::new(&b).unwrap();
        assert!(v.payload().is_empty() && !v.header_checksum_ok());
        assert!(Ipv4::new(&b[..19]).is_none());
        b[0] = 0x65;
        assert!(Ipv4::new(&b).is_none());
    }
}
