//! The TCP options conntrack reads, parsed with the kernel's quirks.
//!
//! Models `tcp_options` (window scale, SACK permitted) and `tcp_sack` (the highest right edge of
//! the first well-formed SACK option) of nf_conntrack_proto_tcp.c. Both stop at EOL, at an option
//! shorter than 2 bytes and at a truncated option; `tcp_sack` also stops after the first valid SACK
//! option, while `tcp_options` keeps going. Invariant: parsing never panics and never allocates.

/// Kernel cap for the window scale (`TCP_MAX_WSCALE`, RFC 7323).
pub const MAX_WSCALE: u8 = 14;

/// Options of one segment that matter to conntrack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    /// The header had option bytes (`doff > 5`): only then does the kernel reset a sender's
    /// scale and flags from them.
    pub present: bool,
    /// Window scale option (already capped at 14), if a well-formed one was seen.
    pub wscale: Option<u8>,
    /// SACK-permitted option seen.
    pub sack_perm: bool,
    /// Right edges of the blocks of the first well-formed SACK option.
    pub sack_right: [u32; 4],
    /// How many of `sack_right` are valid.
    pub sack_blocks: u8,
}

const EOL: u8 = 0;
const NOP: u8 = 1;
const WINDOW: u8 = 3;
const SACK_PERM: u8 = 4;
const SACK: u8 = 5;

impl TcpOptions {
    /// Parses the option bytes of a TCP header (bytes 20..doff*4).
    pub fn parse(raw: &[u8]) -> TcpOptions {
        let mut o = TcpOptions {
            present: !raw.is_empty(),
            ..TcpOptions::default()
        };
        let mut sack_done = false;
        let mut i = 0usize;
        while let Some(&code) = raw.get(i) {
            match code {
                EOL => break,
                NOP => i += 1,
                _ => {
                    let left = raw.len() - i;
                    let Some(&size) = raw.get(i + 1) else { break };
                    let size = usize::from(size);
                    // "silly options" and partial options end both kernel parsers.
                    if left < 2 || size < 2 || size > left {
                        break;
                    }
                    let body = raw.get(i + 2..i + size).unwrap_or(&[]);
                    match code {
                        SACK_PERM if size == 2 => o.sack_perm = true,
                        WINDOW if size == 3 => {
                            o.wscale = body.first().map(|s| (*s).min(MAX_WSCALE))
                        }
                        SACK if !sack_done && size >= 10 && (size - 2) % 8 == 0 => {
                            sack_done = true;
                            for (n, block) in body.chunks_exact(8).take(4).enumerate() {
                                if let Some(r) = block.get(4..8) {
                                    o.sack_right[n] = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
                                    o.sack_blocks = n as u8 + 1;
                                }
                            }
                        }
                        _ => {}
                    }
                    i += size;
                }
            }
        }
        o
    }

    /// `tcp_sack`: the highest right edge that is after `ack` (or `ack` itself).
    pub fn max_sack(&self, ack: u32) -> u32 {
        // Most segments carry no SACK blocks: skip the loop set-up.
        if self.sack_blocks == 0 {
            return ack;
        }
        let n = usize::from(self.sack_blocks);
        self.sack_right
            .iter()
            .take(n)
            .fold(ack, |best, &r| if after(r, best) { r } else { best })
    }
}

/// `before(a, b)` of include/net/tcp.h: sequence comparison modulo 2^32.
pub const fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `after(a, b)`: `before(b, a)`.
pub const fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_syn_options() {
        // MSS 1460, SACK perm, TS, NOP, wscale 7: the layout Linux sends.
        let raw = [
            2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let o = TcpOptions::parse(&raw);
        assert!(o.present && o.sack_perm);
        assert_eq!(o.wscale, Some(7));
        assert_eq!(o.sack_blocks, 0);
    }

    #[test]
    fn wscale_capped_and_sack_edges() {
        let raw = [
            3, 3, 20, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 20, 0, 0, 0, 30,
        ];
        let o = TcpOptions::parse(&raw);
        assert_eq!(o.wscale, Some(14));
        assert_eq!(o.sack_blocks, 2);
        assert_eq!(o.max_sack(5), 30);
        assert_eq!(o.max_sack(100), 100);
    }

    #[test]
    fn silly_and_partial_options_stop_parsing() {
        assert_eq!(TcpOptions::parse(&[8, 1, 3, 3, 7]).wscale, None);
        assert_eq!(TcpOptions::parse(&[3, 9, 7]).wscale, None);
        assert_eq!(TcpOptions::parse(&[0, 3, 3, 7]).wscale, None);
        assert_eq!(TcpOptions::parse(&[1, 1, 3]).wscale, None);
        assert!(!TcpOptions::parse(&[]).present);
    }

    #[test]
    fn sequence_comparisons_wrap() {
        assert!(before(u32::MAX, 1));
        assert!(after(1, u32::MAX));
        assert!(!before(5, 5));
    }
}
