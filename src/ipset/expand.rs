//! Element words that stand for many elements: address ranges and CIDRs,
//! port ranges, expanded as the kernel's `uadt` functions walk them (hash:ip
//! adds every address, or every netmask block; hash:net splits a range into
//! CIDRs; bitmaps set every id in the range).

use super::elem;
use super::parse::{err, ParseError, Word};
use super::set::{Key, Kind, Set};

/// The most elements one `add` line may expand to (a typo like
/// `10.0.0.0/1` in a hash:ip would otherwise expand to 2^31 addresses).
const MAX_EXPAND: u64 = 1 << 20;

/// A value error, placed at word `w`.
fn at<T>(w: &Word, r: Result<T, String>) -> Result<T, ParseError> {
    r.or_else(|m| err(w, m))
}

/// The keys an element word stands for in `set`.
pub(super) fn keys(set: &Set, w: &Word) -> Result<Vec<Key>, ParseError> {
    let parts: Vec<&str> = w.text.split(',').collect();
    if parts.len() != set.kind.dimension() {
        let msg = format!(
            "{} elements have {} part(s) separated by commas",
            set.kind.name(),
            set.kind.dimension()
        );
        return err(w, msg);
    }
    let (proto, p0, p1) = ports(set, w, &parts)?;
    let ip2 = match set.kind {
        Kind::HashIpPortIp => at(w, elem::ip(parts[2]))?,
        _ => 0,
    };
    // (address or bitmap id, prefix) of each element before the ports.
    let bases: Vec<(u32, u8)> = match set.kind {
        Kind::HashNet | Kind::HashNetPort if parts[0].contains('-') => {
            let (a, b) = at(w, elem::ip_range(parts[0]))?;
            elem::range_to_cidrs(a, b)
        }
        Kind::HashNet | Kind::HashNetPort => vec![at(w, elem::net(parts[0]))?],
        Kind::HashIp | Kind::HashIpPort | Kind::HashIpPortIp => {
            let (a, b) = at(w, elem::ip_range(parts[0]))?;
            let m = match set.kind {
                Kind::HashIpPortIp => u32::MAX,
                _ => set.ipmask(),
            };
            if set.kind != Kind::HashIpPortIp && a & m == 0 {
                // hash_ip4_uadt / hash_ipport4_uadt refuse a masked 0 (ipset 7.17
                // refuses ranges starting there too).
                return err(
                    w,
                    "Null-valued element, cannot be stored in a hash type of set",
                );
            }
            if a != b && m.leading_ones() + m.trailing_zeros() != 32 {
                return err(w, "a range needs a prefix mask (bitmask with holes)");
            }
            blocks(w, a & m, b, u64::from(!m) + 1)?
        }
        Kind::BitmapIp => {
            let (a, b) = at(w, elem::ip_range(parts[0]))?;
            if a < set.range.0 || b > set.range.1 {
                return outside(set, w);
            }
            let shift = 32 - u32::from(set.netmask);
            let first = ((a & elem::mask(set.netmask)) - set.range.0) >> shift;
            blocks(w, first, (b - set.range.0) >> shift, 1)?
        }
        Kind::BitmapPort => vec![(0, 0)],
        Kind::ListSet | Kind::Unsupported => Vec::new(),
    };
    let ports = u64::from(p1 - p0) + 1;
    if bases.len() as u64 * ports > MAX_EXPAND {
        return err(
            w,
            format!("{} expands to more than {MAX_EXPAND} elements", w.text),
        );
    }
    let mut out = Vec::new();
    for (ip, cidr) in bases {
        for port in p0..=p1 {
            out.push(Key {
                ip,
                cidr,
                proto,
                port,
                ip2,
            });
        }
    }
    Ok(out)
}

/// The protocol and port range of an element (none: `(0, 0, 0)`).
fn ports(set: &Set, w: &Word, parts: &[&str]) -> Result<(u8, u16, u16), ParseError> {
    Ok(match set.kind {
        Kind::HashIpPort | Kind::HashNetPort | Kind::HashIpPortIp => {
            at(w, elem::proto_port(parts[1]))?
        }
        Kind::BitmapPort => {
            // `tcp:1500` and `udp:...` are accepted; the protocol is not kept.
            let text = parts[0].split_once(':').map_or(parts[0], |(_, p)| p);
            let (a, b) = text.split_once('-').unwrap_or((text, text));
            let (a, b) = (at(w, elem::port(a, "tcp"))?, at(w, elem::port(b, "tcp"))?);
            let (a, b) = (a.min(b), a.max(b));
            if u32::from(a) < set.range.0 || u32::from(b) > set.range.1 {
                return outside(set, w);
            }
            (0, a, b)
        }
        _ => (0, 0, 0),
    })
}

/// `from, from + step, ...` up to `to`, with prefix 0 (not a net type).
fn blocks(w: &Word, from: u32, to: u32, step: u64) -> Result<Vec<(u32, u8)>, ParseError> {
    let n = (u64::from(to).saturating_sub(u64::from(from))) / step + 1;
    if n > MAX_EXPAND {
        return err(
            w,
            format!("{} expands to more than {MAX_EXPAND} elements", w.text),
        );
    }
    Ok((0..n)
        .map(|i| ((u64::from(from) + i * step) as u32, 0))
        .collect())
}

fn outside<T>(set: &Set, w: &Word) -> Result<T, ParseError> {
    err(
        w,
        format!("{} is outside the range of {}", w.text, set.name),
    )
}
