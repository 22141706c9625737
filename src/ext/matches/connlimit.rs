//! `-m connlimit` (libxt_connlimit.c revision 1, xt_connlimit.c): compares
//! the number of connections sharing the packet's source (or destination)
//! address, masked to a prefix, with a limit.
//!
//! Kept in the kernel's form: `limit`, the `XT_CONNLIMIT_INVERT` sense
//! (`--connlimit-upto N` is the inverse of `--connlimit-above N`), the prefix
//! length of `mask` and the DADDR flag. Save always prints the mask and
//! `--connlimit-saddr`/`--connlimit-daddr`. Not judged offline: the count
//! lives in the kernel's per-rule connection lists.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{number, xt_exclusive, xt_uint};
use crate::ext::{MatchDef, RuleCtx};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connlimit {
    pub limit: u32,
    /// XT_CONNLIMIT_INVERT: match while the count is <= limit.
    pub upto: bool,
    /// Prefix length of the grouping mask.
    pub mask_len: u8,
    /// XT_CONNLIMIT_DADDR: group by destination address.
    pub daddr: bool,
    given: Vec<&'static str>,
}

impl Default for Connlimit {
    fn default() -> Connlimit {
        Connlimit {
            limit: 0,
            upto: false,
            mask_len: 32,
            daddr: false,
            given: Vec::new(),
        }
    }
}

impl MatchDef for Connlimit {
    const NAME: &'static str = "connlimit";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("connlimit-upto").inv(),
        OptSpec::req("connlimit-above").inv(),
        OptSpec::req("connlimit-mask"),
        OptSpec::flag("connlimit-saddr"),
        OptSpec::flag("connlimit-daddr"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "connlimit-upto" | "connlimit-above" => {
                self.limit = xt_uint(call, "connlimit", 0, u64::from(u32::MAX))? as u32;
                self.upto = (call.key == "connlimit-upto") != call.invert;
            }
            "connlimit-mask" => {
                self.mask_len = parse_plen(call.arg()).ok_or_else(|| {
                    call.err("connlimit: bad value for option \"--connlimit-mask\", neither a valid network mask nor valid CIDR (0-32).")
                })?
            }
            "connlimit-saddr" => self.daddr = false,
            "connlimit-daddr" => self.daddr = true,
            _ => return unreachable_option(call),
        }
        self.given.push(call.key);
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        let has = |k: &str| self.given.contains(&k);
        for (a, b) in [
            ("connlimit-upto", "connlimit-above"),
            ("connlimit-saddr", "connlimit-daddr"),
        ] {
            if has(a) && has(b) {
                return Err(xt_exclusive("connlimit", a, b));
            }
        }
        if !has("connlimit-upto") && !has("connlimit-above") {
            return Err(ExtError::new(
                "You must specify \"--connlimit-above\" or \"--connlimit-upto\".",
            ));
        }
        Ok(())
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let op = if self.upto { "upto" } else { "above" };
        let dir = if self.daddr { "daddr" } else { "saddr" };
        let _ = write!(
            out,
            " --connlimit-{op} {} --connlimit-mask {} --connlimit-{dir}",
            self.limit, self.mask_len
        );
    }
}

/// `xtopt_parse_plen` for IPv4: a prefix length 0-32, or a dotted mask
/// (a non-contiguous one leaves the mask all ones, i.e. /32).
pub fn parse_plen(s: &str) -> Option<u8> {
    if let Some(n) = number(s, 0, 32) {
        return Some(n as u8);
    }
    let m = inet_aton(s)?;
    let len = m.leading_ones();
    Some(if m.checked_shl(len).unwrap_or(0) == 0 {
        len as u8
    } else {
        32
    })
}

/// `inet_aton` (what `getaddrinfo(AI_NUMERICHOST)` accepts for IPv4): one
/// to four base-0 parts, the last filling the remaining bytes (`a.b` is
/// `a.0.0.b`).
pub fn inet_aton(s: &str) -> Option<u32> {
    let parts: Vec<u64> = s
        .split('.')
        .map(|p| crate::ext::value::strtoul(p, 0, u64::from(u32::MAX)))
        .collect::<Option<_>>()?;
    let (last, head) = parts.split_last()?;
    if head.len() > 3 || head.iter().any(|p| *p > 255) {
        return None;
    }
    let tail_bits = 8 * (4 - head.len() as u32);
    if tail_bits < 32 && *last >> tail_bits != 0 {
        return None;
    }
    let high = head
        .iter()
        .enumerate()
        .fold(0u64, |acc, (i, p)| acc | p << (24 - 8 * i));
    u32::try_from(high | last).ok()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::roundtrip;

    #[test]
    fn defaults_and_inversion() {
        assert_eq!(
            roundtrip("-m connlimit ! --connlimit-upto 3 --connlimit-mask 255.255.0.0").unwrap(),
            "-m connlimit --connlimit-above 3 --connlimit-mask 16 --connlimit-saddr"
        );
        assert_eq!(
            roundtrip("-m connlimit --connlimit-upto 0 --connlimit-daddr").unwrap(),
            "-m connlimit --connlimit-upto 0 --connlimit-mask 32 --connlimit-daddr"
        );
        assert!(roundtrip("-m connlimit --connlimit-upto 4294967296").is_err());
        // "33" is also inet_aton's 0.0.0.33: a non-contiguous mask, so /32.
        assert_eq!(
            roundtrip("-m connlimit --connlimit-above 1 --connlimit-mask 33").unwrap(),
            "-m connlimit --connlimit-above 1 --connlimit-mask 32 --connlimit-saddr"
        );
        assert!(roundtrip("-m connlimit --connlimit-above 1 --connlimit-mask 4294967296").is_err());
        assert!(
            roundtrip("-m connlimit --connlimit-above 1 --connlimit-saddr --connlimit-daddr")
                .is_err()
        );
        assert!(roundtrip("-m connlimit").is_err());
    }
}
