//! The family-neutral network of a rule's `-s`/`-d`: an IPv4 or an IPv6
//! address under its mask, as the kernel's `ipt_ip` / `ip6t_ip6` hold them.
//!
//! IPv4 nets are inline (8 bytes, `Copy` inside); IPv6 nets are boxed, so a
//! rule of an IPv4 ruleset stays as small as before. The replay never tests a
//! packet against an [`IpNet`] directly: `eval::header` compiles each rule's
//! nets to [`Ipv4Net`] masks once ([`IpNet::for_ipv4`]), so the -s/-d check of
//! an IPv4 packet stays one mask-and-compare.
//!
//! What remains for ip6tables (the parser refuses IPv6 input today, see
//! `ir::load`): reading IPv6 `host[/mask]` words into [`IpNet::V6`]
//! (`xtables_ip6parse_multiple`: prefix lengths 0-128 or an IPv6 mask), a
//! family on the ruleset so one file holds one family, the `-p`/extension
//! differences (`icmp6`, extension headers: `ipv6header`, `frag`, `hbh`,
//! `rt`, `dst`), `ip6t_do_table`'s header test (`ip6_packet_match`, which
//! walks extension headers to find the protocol), the IPv6 packet decoder,
//! IPv6 conntrack (`nf_conntrack_l3proto_ipv6`, ICMPv6 tracking) and the
//! ip6tables-save/-L spellings of the few options that print differently.

use super::addr::{push_u8, Ipv4Net};
use std::fmt;
use std::net::Ipv6Addr;

/// An IPv6 address with a mask; `addr` is already ANDed with `mask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ipv6Net {
    pub addr: u128,
    pub mask: u128,
}

impl Ipv6Net {
    pub const ANY: Ipv6Net = Ipv6Net { addr: 0, mask: 0 };

    pub fn new(addr: u128, mask: u128) -> Ipv6Net {
        Ipv6Net {
            addr: addr & mask,
            mask,
        }
    }

    pub fn contains(self, ip: u128) -> bool {
        ip & self.mask == self.addr
    }

    pub fn is_any(self) -> bool {
        self.mask == 0 && self.addr == 0
    }

    /// Prefix length when the mask is contiguous.
    pub fn prefix_len(self) -> Option<u8> {
        let ones = self.mask.leading_ones();
        (self.mask.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
    }

    /// The save form, as ip6tables prints it (`print_ip6` in
    /// ip6tables.c): the address, then `/len`, or `/mask` when the mask is
    /// not contiguous, both in inet_ntop's form.
    pub fn push_to(self, out: &mut String) {
        use fmt::Write;
        let _ = write!(out, "{}/", Ipv6Addr::from(self.addr));
        match self.prefix_len() {
            Some(len) => push_u8(out, len),
            None => {
                let _ = write!(out, "{}", Ipv6Addr::from(self.mask));
            }
        }
    }
}

/// A rule's source or destination network, in either family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IpNet {
    V4(Ipv4Net),
    V6(Box<Ipv6Net>),
}

/// IPv4 `0.0.0.0/0`, which a rule without `-s`/`-d` holds.
impl Default for IpNet {
    fn default() -> IpNet {
        IpNet::ANY_V4
    }
}

impl From<Ipv4Net> for IpNet {
    fn from(n: Ipv4Net) -> IpNet {
        IpNet::V4(n)
    }
}

impl From<Ipv6Net> for IpNet {
    fn from(n: Ipv6Net) -> IpNet {
        IpNet::V6(Box::new(n))
    }
}

impl IpNet {
    pub const ANY_V4: IpNet = IpNet::V4(Ipv4Net::ANY);

    /// The IPv4 net, if this is one.
    pub fn v4(&self) -> Option<Ipv4Net> {
        match self {
            IpNet::V4(n) => Some(*n),
            IpNet::V6(_) => None,
        }
    }

    /// What an IPv4 packet is tested against: the IPv4 net itself, and for
    /// an IPv6 net one that no IPv4 address is in (mask 0 with a nonzero
    /// address: `ip & 0 == 1` never holds).
    pub fn for_ipv4(&self) -> Ipv4Net {
        self.v4().unwrap_or(Ipv4Net { addr: 1, mask: 0 })
    }

    /// Any address of its family (`0.0.0.0/0`, `::/0`): no test at all.
    pub fn is_any(&self) -> bool {
        match self {
            IpNet::V4(n) => n.is_any(),
            IpNet::V6(n) => n.is_any(),
        }
    }

    /// Prefix length when the mask is contiguous.
    pub fn prefix_len(&self) -> Option<u8> {
        match self {
            IpNet::V4(n) => n.prefix_len(),
            IpNet::V6(n) => n.prefix_len(),
        }
    }

    /// Appends the iptables-save / ip6tables-save form.
    pub fn push_to(&self, out: &mut String) {
        match self {
            IpNet::V4(n) => n.push_to(out),
            IpNet::V6(n) => n.push_to(out),
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(43);
        self.push_to(&mut s);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_nets_print_and_test_as_before() {
        let n = IpNet::from(Ipv4Net::new(0x0a01_0203, 0xffff_ff00));
        assert_eq!(n.to_string(), "10.1.2.0/24");
        assert_eq!(n.prefix_len(), Some(24));
        assert!(!n.is_any());
        assert!(n.for_ipv4().contains(0x0a01_02ff));
        assert!(IpNet::default().is_any());
        assert_eq!(
            std::mem::size_of::<IpNet>(),
            16,
            "an IPv6 net must not grow rules"
        );
    }

    #[test]
    fn ipv6_nets_print_like_ip6tables_and_match_no_ipv4_packet() {
        let doc: u128 = 0x2001_0db8 << 96;
        let n = IpNet::from(Ipv6Net::new(doc | 1, u128::MAX << 96));
        assert_eq!(n.to_string(), "2001:db8::/32");
        assert_eq!(n.prefix_len(), Some(32));
        assert!(IpNet::from(Ipv6Net::ANY).is_any());
        let odd = Ipv6Net::new(doc, u128::MAX << 96 | 1);
        assert_eq!(odd.prefix_len(), None);
        assert_eq!(IpNet::from(odd).to_string(), "2001:db8::/ffff:ffff::1");
        for ip in [0, 1, u32::MAX, 0x0a00_0001] {
            assert!(!n.for_ipv4().contains(ip));
        }
        assert!(n.v4().is_none());
    }
}
