//! Internet checksum (RFC 1071) as the kernel computes it in `csum_partial` / `ip_fast_csum`.
//!
//! Invariant: pure functions over byte slices, no allocation, odd trailing bytes are padded with
//! a zero byte (RFC 1071 §4.1). A received header or segment is valid when the one's-complement
//! sum over it, including the transmitted checksum field, folds to `0xffff`
//! (what `csum_fold(...) == 0` tests in `nf_ip_checksum`).

use std::net::Ipv4Addr;

/// One's-complement sum of `data` added to `initial`, not yet folded to 16 bits.
///
/// The result is congruent modulo 0xffff to `initial` plus the big-endian 16-bit words of
/// `data`, and zero only when both are: all the caller may rely on, since [`fold`] reduces
/// it to the same checksum.
///
/// Every packet conntrack sees is summed here, so the data is read eight bytes at a time in
/// native (little-endian) order into a 128-bit accumulator: one add and one carry per word.
/// That is sound because 2¹⁶ ≡ 1 (mod 0xffff), so a 64-bit word is congruent to the sum of
/// its four 16-bit words (RFC 1071 §2(B), "deferred carries"), and because the sum of
/// byte-swapped words is the byte-swapped sum (§2(A), "byte order independence"), which
/// `swap_folded` undoes at the end. A last partial word is zero-padded: an odd final byte
/// pads to its high half in network order, as §4.1 wants.
pub fn sum(data: &[u8], initial: u64) -> u64 {
    initial + u64::from(swap_folded(le_sum(data)))
}

/// The sum of `data` read as little-endian 64-bit words (the last one zero-padded), in a
/// 128-bit accumulator: congruent modulo 0xffff to 2⁸ times the sum of its big-endian 16-bit
/// words (see [`sum`]), and zero only when `data` is.
#[inline(always)]
fn le_sum(data: &[u8]) -> u128 {
    let mut wide: u128 = 0;
    // Two words per step: half the loop overhead on the short segments of most packets.
    let mut pairs = data.chunks_exact(16);
    for p in &mut pairs {
        let (a, b) = p.split_at(8);
        wide += u128::from(le_word(a)) + u128::from(le_word(b));
    }
    let mut words = pairs.remainder().chunks_exact(8);
    for w in &mut words {
        wide += u128::from(le_word(w));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        wide += u128::from(match data.len().checked_sub(8) {
            // The last eight bytes end with the partial word: shifting out the bytes
            // already summed leaves it zero-padded, without copying it.
            Some(start) => le_word(&data[start..]) >> ((8 - rest.len()) * 8),
            // Shorter than a word (no TCP or UDP segment is): byte by byte, without the
            // copy call that would make every caller save registers.
            None => rest.iter().rev().fold(0, |w, &b| (w << 8) | u64::from(b)),
        });
    }
    wide
}

/// Whether a TCP or UDP segment received over IPv4 verifies (`nf_ip_checksum`: the sum of
/// the pseudo-header and the segment, checksum field included, folds to all ones); `addrs`
/// are bytes 12..20 of the IPv4 header (source and destination), `proto` the protocol the
/// pseudo-header names.
///
/// [`verifies`]`(segment, `[`pseudo_header`]`(..))` computed in one pass and one fold: the
/// pseudo-header is added in the byte-swapped domain `le_sum` works in (the addresses are
/// one little-endian word; a big-endian 16-bit field `w` is `w.swap_bytes()` there), and the
/// verdict needs no swap back, since the test is "congruent to 0 modulo 0xffff and not zero",
/// which multiplying by 2⁸ (invertible modulo 0xffff) does not change. Every packet the lane
/// takes is checked here.
#[inline(never)]
pub fn segment_verifies(addrs: [u8; 8], proto: u8, segment: &[u8]) -> bool {
    // The kernel adds the length as a 32-bit value (`csum_tcpudp_nofold`): both halves.
    // The addresses as two 32-bit halves (2³² ≡ 1), so that the pseudo-header fits a word.
    let len = segment.len() as u32;
    let addrs = u64::from_le_bytes(addrs);
    let pseudo = (addrs >> 32)
        + (addrs & 0xffff_ffff)
        + (u64::from(proto) << 8)
        + u64::from((len as u16).swap_bytes())
        + u64::from(((len >> 16) as u16).swap_bytes());
    all_ones(le_sum(segment) + u128::from(pseudo))
}

/// Whether a sum folds to all ones: its residue modulo 0xffff is 0 and it is not zero
/// (see [`fold`]). One division by a constant (a multiplication) instead of the fold's
/// steps.
#[inline(always)]
fn all_ones(wide: u128) -> bool {
    // 2⁶⁴ ≡ 1 (mod 0xffff): the halves with the end-around carry keep the residue, and
    // the result is zero only for zero (the carry makes a nonzero sum nonzero).
    let (x, carry) = (wide as u64).overflowing_add((wide >> 64) as u64);
    let x = x + u64::from(carry);
    x != 0 && x % 0xffff == 0
}

/// Eight bytes as a little-endian word (`b` is eight long where it is called).
fn le_word(b: &[u8]) -> u64 {
    <[u8; 8]>::try_from(b).map_or(0, u64::from_le_bytes)
}

/// The 16-bit one's-complement sum, in network byte order, of a sum of little-endian words;
/// zero only for a zero sum.
fn swap_folded(wide: u128) -> u16 {
    fold_wide(wide).swap_bytes()
}

/// [`fold`] of a 128-bit accumulator: its residue modulo 0xffff, as 0xffff rather than 0 for
/// a nonzero multiple, and zero only for zero.
#[inline(always)]
fn fold_wide(wide: u128) -> u16 {
    // 2⁶⁴ ≡ 2³² ≡ 1 (mod 0xffff): each step adds the halves, keeping the residue.
    // The first sum is at most 2⁶⁵ − 2, so when its bit 64 is set its low word is at
    // most 2⁶⁴ − 2 and the second cannot overflow; the third is below 2³³.
    let x = (wide >> 64) + (wide & u128::from(u64::MAX));
    let x = (x >> 64) as u64 + x as u64;
    let x = (x >> 32) + (x & 0xffff_ffff);
    fold(x)
}

/// Folds a 64-bit accumulator to 16 bits with end-around carry.
///
/// Four fixed steps instead of a loop (every packet's checksums end here, and the loop's
/// exit branch is unpredictable): the sums are below 2³³, then 2¹⁸, then 0x10003, and then
/// at most 0xffff. Each step keeps the value's residue modulo 0xffff and keeps a nonzero value
/// nonzero, so the result is the one the loop `while acc >> 16 != 0 { acc = (acc & 0xffff) +
/// (acc >> 16) }` gives: the residue, as 0xffff rather than 0 for a nonzero multiple.
pub fn fold(acc: u64) -> u16 {
    let acc = (acc >> 32) + (acc & 0xffff_ffff);
    let acc = (acc >> 16) + (acc & 0xffff);
    let acc = (acc >> 16) + (acc & 0xffff);
    let acc = (acc >> 16) + (acc & 0xffff);
    acc as u16
}

/// The checksum to put in a header: the complement of the folded sum.
pub fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// Sum of the TCP/UDP pseudo-header (RFC 793 §3.1, RFC 768): addresses, protocol, L4 length.
pub fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, l4_len: u32) -> u64 {
    let s = src.octets();
    let d = dst.octets();
    let mut acc = u64::from(u16::from_be_bytes([s[0], s[1]]));
    acc += u64::from(u16::from_be_bytes([s[2], s[3]]));
    acc += u64::from(u16::from_be_bytes([d[0], d[1]]));
    acc += u64::from(u16::from_be_bytes([d[2], d[3]]));
    acc += u64::from(proto);
    // The kernel feeds the length as a 32-bit value to csum_tcpudp_nofold; for IPv4 it is
    // bounded by the 16-bit total length, so adding both halves is equivalent.
    acc += u64::from(l4_len >> 16) + u64::from(l4_len & 0xffff);
    acc
}

/// True when the data, checksum field included, sums to all ones (the received check passes).
pub fn verifies(data: &[u8], initial: u64) -> bool {
    fold(sum(data, initial)) == 0xffff
}

/// Whether an IPv4 header (IHL × 4 bytes) verifies, summed as `ip_fast_csum` does: in
/// 32-bit words, which fold like 16-bit ones since 2¹⁶ ≡ 1 (mod 0xffff). Every received
/// packet's header is checked, so this skips [`sum`]'s general tail handling.
pub fn header_verifies(header: &[u8]) -> bool {
    let mut words = header.chunks_exact(4);
    let acc: u64 = (&mut words)
        .map(|w| u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]])))
        .sum();
    let tail = sum(words.remainder(), 0);
    fold(acc + tail) == 0xffff
}

/// [`header_verifies`] of the fixed 20 bytes `fixed` followed by `options` (IHL × 4 − 20
/// bytes): the fixed part summed from an array, without a loop or bounds checks (every
/// received packet's header is checked). The words are read in native (little-endian)
/// order, without swapping them: as in [`segment_verifies`], folding to all ones does not
/// depend on the byte order.
#[inline]
pub fn header_verifies_split(fixed: &[u8; 20], options: &[u8]) -> bool {
    let word = |at: usize| {
        u64::from(u32::from_le_bytes([
            fixed[at],
            fixed[at + 1],
            fixed[at + 2],
            fixed[at + 3],
        ]))
    };
    let acc = word(0) + word(4) + word(8) + word(12) + word(16);
    let tail = if options.is_empty() {
        0
    } else {
        options_sum(options)
    };
    all_ones(u128::from(acc + tail))
}

/// The sum of IP options in the byte-swapped domain of [`header_verifies_split`] (they start
/// at an even offset, so their 16-bit words are whole), out of line: few packets have any,
/// and inlined it would make [`header_verifies_split`] save registers for every packet.
#[cold]
#[inline(never)]
fn options_sum(options: &[u8]) -> u64 {
    u64::from(fold_wide(le_sum(options)))
}

/// CRC32C (Castagnoli, reflected polynomial 0x82f63b78) lookup table, built at compile time.
const CRC32C_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// SCTP checksum (RFC 9260 Appendix A, `sctp_compute_cksum`): CRC32C over the packet with the
/// checksum field (bytes 8..12) taken as zero; the wire carries it little-endian.
pub fn sctp_crc32c(packet: &[u8]) -> u32 {
    let mut crc = !0u32;
    for (i, &b) in packet.iter().enumerate() {
        let b = if (8..12).contains(&i) { 0 } else { b };
        let idx = usize::from((crc as u8) ^ b);
        crc = (crc >> 8) ^ CRC32C_TABLE.get(idx).copied().unwrap_or(0);
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32c_check_value() {
        // The CRC-32C check value of "123456789" is 0xe3069283; bytes 8..12 are zeroed by
        // sctp_crc32c, so test on a prefix shorter than 8.
        let mut crc = !0u32;
        for &b in b"1234567" {
            crc = (crc >> 8) ^ CRC32C_TABLE[usize::from((crc as u8) ^ b)];
        }
        assert_eq!(!crc, sctp_crc32c(b"1234567"));
        let mut crc = !0u32;
        for &b in b"123456789" {
            crc = (crc >> 8) ^ CRC32C_TABLE[usize::from((crc as u8) ^ b)];
        }
        assert_eq!(!crc, 0xe306_9283);
    }

    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data, 0)), 0xddf2);
        assert_eq!(fold(sum(&data[..6], 0)), fold(0x0001 + 0xf203 + 0xf4f5));
    }

    #[test]
    fn ipv4_header_roundtrip() {
        // The well-known example header 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        let c = finish(sum(&h, 0));
        assert_eq!(c, 0xb861);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(verifies(&h, 0));
        h[8] = 0x3f;
        assert!(!verifies(&h, 0));
    }

    /// A 24-byte IPv4 header (IHL 6: one word of options) with a right checksum.
    fn header_with_options() -> [u8; 24] {
        let mut h = [
            0x46, 0x00, 0x00, 0x77, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7, 0x01, 0x01, 0x00, 0x00,
        ];
        let c = finish(sum(&h, 0));
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h
    }

    #[test]
    fn headers_verify_as_their_bytes_do() {
        let mut h = header_with_options();
        assert!(header_verifies(&h) && verifies(&h, 0));
        for i in 0..h.len() {
            h[i] ^= 0x40;
            assert_eq!(header_verifies(&h), verifies(&h, 0), "byte {i} flipped");
            assert_eq!(header_verifies(&h[..22]), verifies(&h[..22], 0));
            h[i] ^= 0x40;
        }
    }

    #[test]
    fn fixed_step_fold_is_the_end_around_carry_loop() {
        let looped = |mut acc: u64| {
            while acc >> 16 != 0 {
                acc = (acc & 0xffff) + (acc >> 16);
            }
            acc as u16
        };
        let mut edges = vec![0, 1, 0xfffe, 0xffff, 0x1_0000, 0x1_fffe, 0x2_fffd, u64::MAX];
        for shift in 0..64 {
            edges.extend([
                1 << shift,
                (1 << shift) - 1,
                (1u64 << shift).wrapping_mul(0xffff),
            ]);
        }
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            edges.extend([x, x >> 20, x >> 40]);
        }
        for acc in edges {
            assert_eq!(fold(acc), looped(acc), "{acc:#x}");
        }
    }

    #[test]
    fn split_headers_verify_as_whole_ones_do() {
        let mut h = header_with_options();
        let split = |h: &[u8]| {
            let fixed: [u8; 20] = h[..20].try_into().expect("20 bytes");
            header_verifies_split(&fixed, &h[20..])
        };
        assert!(split(&h));
        for i in 0..h.len() {
            h[i] ^= 0x40;
            assert_eq!(split(&h), header_verifies(&h), "byte {i} flipped");
            assert_eq!(split(&h[..20]), header_verifies(&h[..20]));
            h[i] ^= 0x40;
        }
    }

    /// The one-pass segment check is the pseudo-header sum plus [`verifies`], on every length,
    /// on segments made to verify and on those with any one byte changed.
    #[test]
    fn segment_check_is_pseudo_header_and_verifies() {
        let mut x = 0x2545_f491_u32;
        let mut random = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for len in 0..160usize {
            let addrs = random().to_be_bytes();
            let addrs2 = random().to_be_bytes();
            let all: [u8; 8] = [
                addrs[0], addrs[1], addrs[2], addrs[3], addrs2[0], addrs2[1], addrs2[2], addrs2[3],
            ];
            let (src, dst) = (Ipv4Addr::from(addrs), Ipv4Addr::from(addrs2));
            for proto in [6u8, 17, 0, 0xff] {
                let mut seg: Vec<u8> = (0..len).map(|_| random() as u8).collect();
                let pseudo = pseudo_header(src, dst, proto, len as u32);
                // Make it verify where a checksum field fits (bytes 6..8, as UDP's).
                if len >= 8 {
                    seg[6..8].copy_from_slice(&[0, 0]);
                    let c = finish(sum(&seg, pseudo));
                    seg[6..8].copy_from_slice(&c.to_be_bytes());
                    assert!(segment_verifies(all, proto, &seg), "{len} {proto}");
                }
                for at in 0..len.min(24) {
                    for flip in [0x01u8, 0x80, 0xff] {
                        seg[at] ^= flip;
                        assert_eq!(
                            segment_verifies(all, proto, &seg),
                            verifies(&seg, pseudo),
                            "{len} {proto} {at}"
                        );
                        seg[at] ^= flip;
                    }
                }
                for s in [vec![0u8; len], vec![0xff; len]] {
                    assert_eq!(segment_verifies(all, proto, &s), verifies(&s, pseudo));
                }
            }
        }
        // All zero but the pseudo-header: a sum of zero never verifies, all ones does.
        assert!(!segment_verifies([0; 8], 0, &[]));
        assert_eq!(
            segment_verifies([0xff; 8], 0, &[]),
            verifies(&[], pseudo_header([255; 4].into(), [255; 4].into(), 0, 0))
        );
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0x12], 0), 0x1200);
        assert_eq!(sum(&[0xab, 0xcd, 0x12], 0), 0xabcd + 0x1200);
        let long: Vec<u8> = (0u8..=200).collect();
        let slow: u64 = long
            .chunks(2)
            .map(|c| u64::from(c[0]) << 8 | u64::from(*c.get(1).unwrap_or(&0)))
            .sum();
        assert_eq!(fold(sum(&long, 0)), fold(slow));
    }

    /// The 64-bit-word sum folds like the plain 16-bit word sum on every length and on the
    /// edge values (all zero, all ones, carries on every word).
    #[test]
    fn word_sum_folds_like_the_16_bit_sum() {
        let slow = |d: &[u8]| -> u16 {
            let s: u64 = d
                .chunks(2)
                .map(|c| u64::from(c[0]) << 8 | u64::from(*c.get(1).unwrap_or(&0)))
                .sum();
            fold(s)
        };
        let mut x = 0x9e37_79b9_u32;
        let mut random = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        };
        for len in 0..200 {
            let noise: Vec<u8> = (0..len).map(|_| random()).collect();
            let initial = u64::from(random()) << 24 | u64::from(random()) << 8;
            for d in [vec![0u8; len], vec![0xff; len], noise] {
                assert_eq!(fold(sum(&d, 0)), slow(&d), "{d:?}");
                let with_initial = fold(u64::from(slow(&d)) + initial);
                assert_eq!(fold(sum(&d, initial)), with_initial, "{d:?} + {initial}");
            }
        }
    }
}
