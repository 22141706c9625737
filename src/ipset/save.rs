//! The sets as `ipset save` prints them, for comparing a replay's final
//! state with the kernel's (`ipset save` after the oracle run).
//!
//! Elements are printed in key order (the kernel prints hash buckets in
//! hash order, so a comparison sorts lines); remaining timeouts are whole
//! seconds as `ip_set_timeout_get` rounds them.

use super::elem::fmt_proto_port;
use super::set::{Expiry, Key, Kind, Set};
use super::Sets;
use std::fmt::Write;
use std::net::Ipv4Addr;

impl Sets {
    /// Every IPv4 set and its live elements at jiffy `now`.
    pub fn save(&self, now: u64) -> String {
        let mut out = String::new();
        for s in self.sets.iter().filter(|s| s.inet) {
            let _ = writeln!(out, "create {} {} {}", s.name, s.type_name, s.create_opts);
            for (k, e) in &s.elems {
                if s.timeout.is_some() && e.ext.expired(now) {
                    continue;
                }
                let _ = write!(out, "add {} {}", s.name, element(s, k, e.member.as_deref()));
                if e.nomatch {
                    out.push_str(" nomatch");
                }
                if s.timeout.is_some() {
                    let left = match e.ext.expiry {
                        Expiry::Never => 0,
                        Expiry::After(t) => u64::from(t),
                        Expiry::At(t) => (t - now) / crate::ext::state::HZ,
                    };
                    let _ = write!(out, " timeout {left}");
                }
                if s.counters {
                    let _ = write!(out, " packets {} bytes {}", e.ext.packets, e.ext.bytes);
                }
                if let Some(c) = &e.ext.comment {
                    let _ = write!(out, " comment \"{c}\"");
                }
                if let Some((m, k)) = e.ext.skbmark {
                    let _ = write!(out, " skbmark {m:#x}/{k:#x}");
                }
                out.push('\n');
            }
        }
        out
    }
}

fn element(s: &Set, k: &Key, member: Option<&str>) -> String {
    let ip = |a: u32| Ipv4Addr::from(a).to_string();
    match s.kind {
        Kind::HashIp => ip(k.ip),
        Kind::HashNet if k.cidr == 32 => ip(k.ip),
        Kind::HashNet => format!("{}/{}", ip(k.ip), k.cidr),
        Kind::HashIpPort => format!("{},{}", ip(k.ip), fmt_proto_port(k.proto, k.port)),
        Kind::HashNetPort if k.cidr == 32 => {
            format!("{},{}", ip(k.ip), fmt_proto_port(k.proto, k.port))
        }
        Kind::HashNetPort => format!(
            "{}/{},{}",
            ip(k.ip),
            k.cidr,
            fmt_proto_port(k.proto, k.port)
        ),
        Kind::HashIpPortIp => format!(
            "{},{},{}",
            ip(k.ip),
            fmt_proto_port(k.proto, k.port),
            ip(k.ip2)
        ),
        Kind::BitmapIp => ip(s.range.0 + (k.ip << (32 - u32::from(s.netmask)))),
        Kind::BitmapPort => k.port.to_string(),
        Kind::ListSet => member.unwrap_or_default().to_string(),
        Kind::Unsupported => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn save_round_trips() {
        let text =
            "create n hash:net family inet counters\nadd n 10.0.0.0/8 nomatch packets 1 bytes 2\n\
create p hash:ip,port family inet\nadd p 10.0.0.1,udp:53\n";
        let sets = super::super::parse(text).unwrap();
        assert_eq!(sets.save(0), text);
    }
}
