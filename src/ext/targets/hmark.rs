//! `-j HMARK` (libxt_HMARK.c, xt_HMARK.c): sets the packet mark to
//! `hash(selected tuple fields) % mod + offset`.
//!
//! `--hmark-tuple LIST` is shorthand that marks each named field as given
//! with its full mask, so naming `src` in the tuple and then
//! `--hmark-src-prefix` is "can only be used once", while the other order lets
//! the tuple reset the prefix to 32. Masks are saved in fixed-width hex, the
//! random seed as `0x%08x`; the prefix lengths as CIDR (above 32 is 32).

use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::value::{number, uint_opt};
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use crate::ir::addr::{numeric, Ipv4Net};

/// XT_HMARK_* flag bits (the kernel's enum order).
pub const SADDR: u16 = 1 << 0;
pub const DADDR: u16 = 1 << 1;
pub const SPI: u16 = 1 << 2;
pub const SPI_MASK: u16 = 1 << 3;
pub const SPORT: u16 = 1 << 4;
pub const DPORT: u16 = 1 << 5;
pub const SPORT_MASK: u16 = 1 << 6;
pub const DPORT_MASK: u16 = 1 << 7;
pub const PROTO_MASK: u16 = 1 << 8;
pub const RND: u16 = 1 << 9;
pub const MODULUS: u16 = 1 << 10;
pub const OFFSET: u16 = 1 << 11;
pub const CT: u16 = 1 << 12;

/// Option name → flag bit, for the "used once" test.
const BITS: &[(&str, u16)] = &[
    ("hmark-src-prefix", SADDR),
    ("hmark-dst-prefix", DADDR),
    ("hmark-spi", SPI),
    ("hmark-spi-mask", SPI_MASK),
    ("hmark-sport", SPORT),
    ("hmark-dport", DPORT),
    ("hmark-sport-mask", SPORT_MASK),
    ("hmark-dport-mask", DPORT_MASK),
    ("hmark-proto-mask", PROTO_MASK),
    ("hmark-rnd", RND),
    ("hmark-mod", MODULUS),
    ("hmark-offset", OFFSET),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hmark {
    pub flags: u16,
    pub src_len: u8,
    pub dst_len: u8,
    pub sport_mask: u16,
    pub dport_mask: u16,
    pub spi_mask: u32,
    pub sport: u16,
    pub dport: u16,
    pub spi: u32,
    pub proto_mask: u16,
    pub rnd: u32,
    pub modulus: u32,
    pub offset: u32,
}

impl Default for Hmark {
    /// `HMARK_init`: every mask full.
    fn default() -> Hmark {
        Hmark {
            flags: 0,
            src_len: 32,
            dst_len: 32,
            sport_mask: 0xffff,
            dport_mask: 0xffff,
            spi_mask: u32::MAX,
            sport: 0,
            dport: 0,
            spi: 0,
            proto_mask: 0xffff,
            rnd: 0,
            modulus: 0,
            offset: 0,
        }
    }
}

/// `XTTYPE_PLENMASK`: a prefix length or a dotted mask.
fn plen(call: &OptCall) -> ExtResult<u8> {
    let s = call.arg();
    let bad = || {
        call.err(format!(
            "HMARK: bad value for option \"--{}\", neither a valid network mask nor valid CIDR (0-32).",
            call.key
        ))
    };
    if s.contains('.') {
        let m = numeric(s, true).ok_or_else(bad)?;
        return Ok(Ipv4Net::new(0, m).prefix_len().unwrap_or(32));
    }
    let v = number(s, 0, u64::from(u32::MAX)).ok_or_else(bad)?;
    Ok(v.min(32) as u8)
}

impl Hmark {
    fn tuple(&mut self, call: &OptCall) -> ExtResult {
        for t in call.arg().split(',') {
            self.flags |= match t {
                "src" => {
                    self.src_len = 32;
                    SADDR
                }
                "dst" => {
                    self.dst_len = 32;
                    DADDR
                }
                "sport" => SPORT_MASK,
                "dport" => DPORT_MASK,
                "spi" => SPI_MASK,
                "proto" => PROTO_MASK,
                "ct" => CT,
                _ => return Err(call.err(format!("Bad type \"{t}\""))),
            };
        }
        Ok(())
    }
}

impl TargetDef for Hmark {
    const NAME: &'static str = "HMARK";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("hmark-tuple"),
        OptSpec::req("hmark-src-prefix").multi(),
        OptSpec::req("hmark-dst-prefix").multi(),
        OptSpec::req("hmark-sport-mask").multi(),
        OptSpec::req("hmark-dport-mask").multi(),
        OptSpec::req("hmark-spi-mask").multi(),
        OptSpec::req("hmark-sport").multi(),
        OptSpec::req("hmark-dport").multi(),
        OptSpec::req("hmark-spi").multi(),
        OptSpec::req("hmark-proto-mask").multi(),
        OptSpec::req("hmark-rnd").multi(),
        OptSpec::req("hmark-mod").multi(),
        OptSpec::req("hmark-offset").multi(),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        if call.key == "hmark-tuple" {
            return self.tuple(call);
        }
        let Some((_, bit)) = BITS.iter().find(|(n, _)| *n == call.key) else {
            return unreachable_option(call);
        };
        if self.flags & bit != 0 {
            return Err(ExtError::new(format!(
                "HMARK: option \"--{}\" can only be used once.",
                call.key
            ))
            .at(call.span));
        }
        let num = |min, max| {
            uint_opt(call.arg(), "HMARK", call.key, min, max).map_err(|e| e.at(call.arg_span()))
        };
        let u16max = u64::from(u16::MAX);
        let u32max = u64::from(u32::MAX);
        match *bit {
            SADDR => self.src_len = plen(call)?,
            DADDR => self.dst_len = plen(call)?,
            SPI => self.spi = num(0, u32max)? as u32,
            SPI_MASK => self.spi_mask = num(0, u32max)? as u32,
            SPORT => self.sport = num(0, u16max)? as u16,
            DPORT => self.dport = num(0, u16max)? as u16,
            SPORT_MASK => self.sport_mask = num(0, u16max)? as u16,
            DPORT_MASK => self.dport_mask = num(0, u16max)? as u16,
            PROTO_MASK => self.proto_mask = num(0, u16max)? as u16,
            RND => self.rnd = num(0, u32max)? as u32,
            MODULUS => self.modulus = num(1, u32max)? as u32,
            _ => self.offset = num(0, u32max)? as u32,
        }
        self.flags |= bit;
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        if self.flags & MODULUS == 0 {
            return Err(ExtError::new("--hmark-mod is mandatory"));
        }
        if self.flags & RND == 0 {
            return Err(ExtError::new("--hmark-rnd is mandatory"));
        }
        if self.flags & SPI_MASK != 0 && self.flags & (SPORT_MASK | DPORT_MASK) != 0 {
            return Err(ExtError::new(
                "you cannot use --hmark-spi-mask and --hmark-?port-mask,at the same time",
            ));
        }
        if self.flags & !(RND | MODULUS | OFFSET) == 0 {
            return Err(ExtError::new("you have to specify --hmark-tuple at least"));
        }
        Ok(())
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        // hmark_tg_check: a port value and an SPI value share one field.
        if self.flags & SPI != 0 && self.flags & (SPORT | DPORT) != 0 {
            return Err(ExtError::new(
                "xt_HMARK: spi-set and port-set can't be combined",
            ));
        }
        Ok(())
    }

    /// `HMARK_ip4_print` and `HMARK_print`: each item ends with a space,
    /// numbers are unpadded hex.
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" HMARK ");
        let items = [
            (MODULUS, format!("mod {} ", self.modulus)),
            (OFFSET, format!("+ 0x{:x} ", self.offset)),
            (CT, "ct, ".to_string()),
            (SADDR, format!("src-prefix {} ", self.src_len)),
            (DADDR, format!("dst-prefix {} ", self.dst_len)),
            (SPORT_MASK, format!("sport-mask 0x{:x} ", self.sport_mask)),
            (DPORT_MASK, format!("dport-mask 0x{:x} ", self.dport_mask)),
            (SPI_MASK, format!("spi-mask 0x{:x} ", self.spi_mask)),
            (SPORT, format!("sport 0x{:x} ", self.sport)),
            (DPORT, format!("dport 0x{:x} ", self.dport)),
            (SPI, format!("spi 0x{:x} ", self.spi)),
            (PROTO_MASK, format!("proto-mask 0x{:x} ", self.proto_mask)),
            (RND, format!("rnd 0x{:x} ", self.rnd)),
        ];
        for (bit, text) in items {
            if self.flags & bit != 0 {
                out.push_str(&text);
            }
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        let f = self.flags;
        let mut put = |bit: u16, text: String| {
            if f & bit != 0 {
                out.push_str(&text);
            }
        };
        put(SADDR, format!(" --hmark-src-prefix {}", self.src_len));
        put(DADDR, format!(" --hmark-dst-prefix {}", self.dst_len));
        put(
            SPORT_MASK,
            format!(" --hmark-sport-mask 0x{:04x}", self.sport_mask),
        );
        put(
            DPORT_MASK,
            format!(" --hmark-dport-mask 0x{:04x}", self.dport_mask),
        );
        put(
            SPI_MASK,
            format!(" --hmark-spi-mask 0x{:08x}", self.spi_mask),
        );
        put(SPORT, format!(" --hmark-sport 0x{:04x}", self.sport));
        put(DPORT, format!(" --hmark-dport 0x{:04x}", self.dport));
        put(SPI, format!(" --hmark-spi 0x{:08x}", self.spi));
        put(
            PROTO_MASK,
            format!(" --hmark-proto-mask 0x{:02x}", self.proto_mask),
        );
        put(RND, format!(" --hmark-rnd 0x{:08x}", self.rnd));
        put(MODULUS, format!(" --hmark-mod {}", self.modulus));
        put(OFFSET, format!(" --hmark-offset {}", self.offset));
        put(CT, " --hmark-tuple ct".to_string());
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::targets::fmt_rule;

    #[test]
    fn tuple_shorthand() {
        let f = |r| fmt_rule("filter", "INPUT", r);
        assert_eq!(
            f("-j HMARK --hmark-mod 4 --hmark-rnd 5 --hmark-tuple src,dst,sport,dport,proto").unwrap(),
            "-j HMARK --hmark-src-prefix 32 --hmark-dst-prefix 32 --hmark-sport-mask 0xffff \
             --hmark-dport-mask 0xffff --hmark-proto-mask 0xffff --hmark-rnd 0x00000005 --hmark-mod 4"
        );
        assert_eq!(
            f("-j HMARK --hmark-mod 4 --hmark-rnd 5 --hmark-src-prefix 24 --hmark-tuple src,ct")
                .unwrap(),
            "-j HMARK --hmark-src-prefix 32 --hmark-rnd 0x00000005 --hmark-mod 4 --hmark-tuple ct"
        );
        assert!(
            f("-j HMARK --hmark-mod 4 --hmark-rnd 5 --hmark-tuple src --hmark-src-prefix 24")
                .is_err()
        );
        assert_eq!(
            f("-j HMARK --hmark-mod 42").unwrap_err(),
            "--hmark-rnd is mandatory"
        );
        assert!(f("-j HMARK --hmark-mod 4 --hmark-rnd 5 --hmark-offset 3").is_err());
        assert_eq!(
            f("-j HMARK --hmark-mod 4 --hmark-rnd 5 --hmark-dst-prefix 255.255.0.0").unwrap(),
            "-j HMARK --hmark-dst-prefix 16 --hmark-rnd 0x00000005 --hmark-mod 4"
        );
    }
}
