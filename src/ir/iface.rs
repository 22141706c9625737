//! Interface names of `-i`/`-o` (`xtables_parse_interface`).
//!
//! A name is at most 15 bytes (IFNAMSIZ − 1); a trailing `+` matches every
//! interface starting with the rest; `+` alone (or empty) matches all and is
//! not printed on save.

use compact_str::CompactString;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Iface {
    /// The name without a trailing `+` (at most 15 bytes: always inline).
    pub name: CompactString,
    pub wildcard: bool,
}

pub const IFNAMSIZ: usize = 16;

impl Iface {
    pub fn parse(s: &str) -> Result<Iface, String> {
        if s.len() + 1 > IFNAMSIZ {
            return Err(format!(
                "interface name `{s}' must be shorter than IFNAMSIZ ({})",
                IFNAMSIZ - 1
            ));
        }
        Ok(match s.strip_suffix('+') {
            Some(prefix) => Iface {
                name: prefix.into(),
                wildcard: true,
            },
            None => Iface {
                name: s.into(),
                wildcard: false,
            },
        })
    }

    /// Matches every interface (`-i +`, or no `-i`).
    pub fn is_any(&self) -> bool {
        self.name.is_empty()
    }

    /// The kernel's `ifname_compare_aligned` with the mask iptables built.
    pub fn matches(&self, ifname: &str) -> bool {
        if self.wildcard {
            ifname.starts_with(self.name.as_str())
        } else {
            ifname == self.name
        }
    }

    /// iptables warns about characters the kernel never puts in names.
    pub fn weird_char(&self) -> bool {
        !self.wildcard && self.name.contains(['/', ' '])
    }
}

impl Iface {
    /// Appends the name as iptables prints it (with the `+` of a wildcard).
    pub fn push_to(&self, out: &mut String) {
        out.push_str(&self.name);
        if self.wildcard {
            out.push('+');
        }
    }
}

impl fmt::Display for Iface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if self.wildcard {
            f.write_str("+")?;
        }
        Ok(())
    }
}
