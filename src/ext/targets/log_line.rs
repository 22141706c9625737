//! The kernel log line of `-j LOG`, byte for byte as `nf_log_ip_packet()` in
//! net/netfilter/nf_log_syslog.c (Linux 6.18) builds it: prefix, `IN= OUT=`, the MAC header
//! of the input device, then `dump_ipv4_packet()` of the packet as it is at that point
//! (after NAT, TTL, TOS and MARK changes made earlier in its path), recursing once into the
//! packet an ICMP error quotes. Every field ends with a space, so the line does too.
//!
//! The format is checked against the real kernel's lines in testdata/kernel_log/ (made by
//! its make.py with the oracle and `nf_log_all_netns=1`).

use super::log::{IPOPT, MACDECODE, TCPOPT, TCPSEQ};
use crate::ext::Facts;
use crate::ir::{Hook, TableKind};
use std::fmt::Write;
use std::net::Ipv4Addr;

/// `IP_CE`, `IP_DF`, `IP_MF`, `IP_OFFSET` (include/net/ip.h).
const IP_CE: u16 = 0x8000;
const IP_DF: u16 = 0x4000;
const IP_MF: u16 = 0x2000;
const IP_OFFSET: u16 = 0x1fff;
/// `IPTOS_TOS_MASK` and `IPTOS_PREC_MASK`.
const TOS_MASK: u8 = 0x1e;
const PREC_MASK: u8 = 0xe0;

/// The line LOG writes for the packet `f` describes, without the syslog level (dmesg shows
/// the level only with `-r`).
pub fn line(prefix: &str, flags: u8, f: &Facts) -> String {
    let mut m = String::with_capacity(256);
    let _ = write!(m, "{prefix}IN={} OUT={} ", f.in_iface, f.out_iface);
    if !f.in_iface.is_empty() {
        mac_header(&mut m, flags, f);
    }
    let skb = current_packet(f);
    let cut = dump_ipv4(&mut m, flags, &skb, 0);
    // `nf_log_dump_sk_uid_gid` (--log-uid) needs the packet's socket: see `Log::run`.
    // A cut-short IP, TCP or UDP header returns before UID and MARK.
    if !cut && f.mark != 0 {
        let _ = write!(m, "MARK=0x{:x} ", f.mark);
    }
    m
}

/// `dump_mac_header()`: `MACSRC= MACDST= MACPROTO=` with --log-macdecode on an Ethernet
/// device, otherwise `MAC=` and the `hard_header_len` bytes of the header, colon-separated.
fn mac_header(m: &mut String, flags: u8, f: &Facts) {
    let Some(h) = f.mac_header else {
        m.push_str("MAC= ");
        return;
    };
    // lo is ARPHRD_LOOPBACK, not ARPHRD_ETHER: no decoding there.
    if flags & MACDECODE != 0 && f.in_iface != "lo" {
        let _ = write!(
            m,
            "MACSRC={} MACDST={} MACPROTO={:04x} ",
            mac(&h[6..12]),
            mac(&h[..6]),
            u16::from_be_bytes([h[12], h[13]])
        );
        return;
    }
    let _ = write!(m, "MAC={} ", mac(&h));
}

/// `%pM` (and the `MAC=` loop): lowercase hex bytes joined by colons.
fn mac(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The skb's bytes at LOG time: the captured (or reassembled) datagram up to its total
/// length (`ip_rcv` trims the rest), with the fields earlier rules or NAT changed.
fn current_packet(f: &Facts) -> Vec<u8> {
    let end = (f.len as usize).min(f.bytes.len());
    let mut p = f.bytes[..end].to_vec();
    if p.len() >= 20 {
        p[1] = f.tos;
        p[8] = f.ttl;
        p[12..16].copy_from_slice(&f.src.to_be_bytes());
        p[16..20].copy_from_slice(&f.dst.to_be_bytes());
    }
    let ports = match f.l4 {
        crate::ext::facts::L4Facts::Tcp { sport, dport, .. }
        | crate::ext::facts::L4Facts::Udp { sport, dport }
        | crate::ext::facts::L4Facts::Ports { sport, dport } => Some((sport, dport)),
        _ => None,
    };
    let ihl = usize::from(f.ihl);
    if let (Some((s, d)), Some(l4)) = (ports, p.get_mut(ihl..ihl + 4)) {
        l4[..2].copy_from_slice(&s.to_be_bytes());
        l4[2..].copy_from_slice(&d.to_be_bytes());
    }
    translate_quoted(f, &mut p);
    p
}

/// `nf_nat_icmp_reply_translation`: when NAT rewrites an ICMP error RELATED to a NATed flow,
/// it rewrites the packet the error quotes too, "to look like the incoming packet": after
/// the destination manip (nat PREROUTING / OUTPUT, the only one a LOG rule can see applied)
/// the quoted source becomes the source of the flow's other-direction tuple. It applies only
/// when the connection has that NAT in this direction (`statusbit`: DST_NAT for the original
/// direction, SRC_NAT for the reply). Kernel-checked in testdata/kernel_log/log_nat.
fn translate_quoted(f: &Facts, p: &mut [u8]) {
    use crate::ext::matches::state::RELATED;
    let ihl = usize::from(f.ihl);
    let is_error = f.proto == 1 && matches!(p.get(ihl), Some(3 | 4 | 5 | 11 | 12));
    let nat = if f.ct.reply { f.ct.snat } else { f.ct.dnat };
    let dst_manip_done = match f.hook {
        Hook::Prerouting => false,
        Hook::Output => matches!(f.table, TableKind::Filter | TableKind::Security),
        Hook::Input | Hook::Forward | Hook::Postrouting => true,
    };
    if !is_error || f.ct.state != RELATED || !nat || !dst_manip_done {
        return;
    }
    let (src, _, sport, _) = if f.ct.reply { f.ct.orig } else { f.ct.repl };
    let inner = ihl + 8;
    let Some(&[vihl, ..]) = p.get(inner..inner + 1) else {
        return;
    };
    let proto = p.get(inner + 9).copied();
    if let Some(a) = p.get_mut(inner + 12..inner + 16) {
        a.copy_from_slice(&src.to_be_bytes());
    }
    let l4 = inner + usize::from(vihl & 0x0f) * 4;
    if matches!(proto, Some(6 | 17 | 136 | 132 | 33)) {
        if let Some(port) = p.get_mut(l4..l4 + 2) {
            port.copy_from_slice(&sport.to_be_bytes());
        }
    }
}

fn be16(p: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([p[at], p[at + 1]])
}

fn be32(p: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
}

/// `dump_ipv4_packet()` for the header at `off` of `skb` (0, or the packet an ICMP error
/// quotes). True when it returned early (`TRUNCATED`, or a TCP/UDP header cut short).
fn dump_ipv4(m: &mut String, flags: u8, skb: &[u8], off: usize) -> bool {
    let Some(ih) = skb.get(off..off + 20) else {
        m.push_str("TRUNCATED");
        return true;
    };
    let ip = |at: usize| Ipv4Addr::new(ih[at], ih[at + 1], ih[at + 2], ih[at + 3]);
    let frag = be16(ih, 6);
    let _ = write!(
        m,
        "SRC={} DST={} LEN={} TOS=0x{:02X} PREC=0x{:02X} TTL={} ID={} ",
        ip(12),
        ip(16),
        be16(ih, 2),
        ih[1] & TOS_MASK,
        ih[1] & PREC_MASK,
        ih[8],
        be16(ih, 4)
    );
    for (bit, word) in [(IP_CE, "CE "), (IP_DF, "DF "), (IP_MF, "MF ")] {
        if frag & bit != 0 {
            m.push_str(word);
        }
    }
    if frag & IP_OFFSET != 0 {
        let _ = write!(m, "FRAG:{} ", frag & IP_OFFSET);
    }
    let ihl = usize::from(ih[0] & 0x0f) * 4;
    if flags & IPOPT != 0 && ihl > 20 {
        match skb.get(off + 20..off + ihl) {
            Some(opt) => hex_options(m, opt),
            None => {
                m.push_str("TRUNCATED");
                return true;
            }
        }
    }
    let l4 = off + ihl;
    let fragment = frag & IP_OFFSET != 0;
    match ih[9] {
        6 => return tcp(m, flags, skb, l4, fragment),
        17 | 136 => return udp(m, ih[9], skb, l4, fragment),
        1 => icmp(m, flags, skb, off, l4, fragment),
        51 if !fragment => {
            m.push_str("PROTO=AH ");
            spi(m, skb, l4, 4);
        }
        51 => {}
        50 => {
            m.push_str("PROTO=ESP ");
            if !fragment {
                spi(m, skb, l4, 0);
            }
        }
        p => {
            let _ = write!(m, "PROTO={p} ");
        }
    }
    false
}

/// `OPT (` hex `) ` of IP or TCP options, uppercase.
fn hex_options(m: &mut String, opt: &[u8]) {
    m.push_str("OPT (");
    for b in opt {
        let _ = write!(m, "{b:02X}");
    }
    m.push_str(") ");
}

/// `INCOMPLETE [N bytes] `: what is left of the skb from `from`.
fn incomplete(m: &mut String, skb: &[u8], from: usize) {
    let _ = write!(m, "INCOMPLETE [{} bytes] ", skb.len().saturating_sub(from));
}

/// The SPI of AH (at offset 4 of its header) or ESP (offset 0), with the header length the
/// kernel pulls (`sizeof(struct ip_auth_hdr)` 12, `sizeof(struct ip_esp_hdr)` 8).
fn spi(m: &mut String, skb: &[u8], l4: usize, at: usize) {
    let need = if at == 4 { 12 } else { 8 };
    if skb.len() < l4 + need {
        incomplete(m, skb, l4);
        return;
    }
    let _ = write!(m, "SPI=0x{:x} ", be32(skb, l4 + at));
}

/// `nf_log_dump_tcp_header()`; true when the header or its options are cut short.
fn tcp(m: &mut String, flags: u8, skb: &[u8], l4: usize, fragment: bool) -> bool {
    m.push_str("PROTO=TCP ");
    if fragment {
        return false;
    }
    let Some(th) = skb.get(l4..l4 + 20) else {
        incomplete(m, skb, l4);
        return true;
    };
    let _ = write!(m, "SPT={} DPT={} ", be16(th, 0), be16(th, 2));
    if flags & TCPSEQ != 0 {
        let _ = write!(m, "SEQ={} ACK={} ", be32(th, 4), be32(th, 8));
    }
    let _ = write!(m, "WINDOW={} ", be16(th, 14));
    // (tcp_flag_word & TCP_RESERVED_BITS) >> 22 with TCP_RESERVED_BITS 0x0E000000: the three
    // bits above AE, shown as 0x08..0x38 (RES=0x38 when all are set, kernel-checked).
    let _ = write!(m, "RES=0x{:02x} ", (th[12] & 0x0e) << 2);
    const NAMES: [(u16, &str); 9] = [
        (0x100, "AE "),
        (0x80, "CWR "),
        (0x40, "ECE "),
        (0x20, "URG "),
        (0x10, "ACK "),
        (0x08, "PSH "),
        (0x04, "RST "),
        (0x02, "SYN "),
        (0x01, "FIN "),
    ];
    let bits = be16(th, 12) & 0x1ff;
    for (bit, name) in NAMES {
        if bits & bit != 0 {
            m.push_str(name);
        }
    }
    let _ = write!(m, "URGP={} ", be16(th, 18));
    let doff = usize::from(th[12] >> 4) * 4;
    if flags & TCPOPT != 0 && doff > 20 {
        match skb.get(l4 + 20..l4 + doff) {
            Some(opt) => hex_options(m, opt),
            None => {
                m.push_str("OPT (TRUNCATED)");
                return true;
            }
        }
    }
    false
}

/// `nf_log_dump_udp_header()` (UDP and UDP-Lite); true when the header is cut short.
fn udp(m: &mut String, proto: u8, skb: &[u8], l4: usize, fragment: bool) -> bool {
    m.push_str(if proto == 17 {
        "PROTO=UDP "
    } else {
        "PROTO=UDPLITE "
    });
    if fragment {
        return false;
    }
    match skb.get(l4..l4 + 8) {
        Some(uh) => {
            let _ = write!(
                m,
                "SPT={} DPT={} LEN={} ",
                be16(uh, 0),
                be16(uh, 2),
                be16(uh, 4)
            );
            false
        }
        None => {
            incomplete(m, skb, l4);
            true
        }
    }
}

/// `required_len[]` of the ICMP case: the bytes a type needs before its fields are printed.
fn icmp_required(kind: u8) -> usize {
    match kind {
        0 | 8 => 4,
        3 | 4 | 5 | 11 | 12 => 8 + 20,
        13 | 14 => 20,
        17 | 18 => 12,
        _ => 0,
    }
}

/// The ICMP case of `dump_ipv4_packet()`; an error's quoted packet is dumped in brackets,
/// once (`if (!iphoff)`).
fn icmp(m: &mut String, flags: u8, skb: &[u8], off: usize, l4: usize, fragment: bool) {
    m.push_str("PROTO=ICMP ");
    if fragment {
        return;
    }
    let Some(ich) = skb.get(l4..l4 + 8) else {
        incomplete(m, skb, l4);
        return;
    };
    let (kind, code) = (ich[0], ich[1]);
    let _ = write!(m, "TYPE={kind} CODE={code} ");
    if skb.len() - l4 < icmp_required(kind) {
        incomplete(m, skb, l4);
        return;
    }
    match kind {
        0 | 8 => {
            let _ = write!(m, "ID={} SEQ={} ", be16(ich, 4), be16(ich, 6));
        }
        12 => {
            let _ = write!(m, "PARAMETER={} ", ich[4]);
        }
        3 | 4 | 5 | 11 => {
            if kind == 5 {
                let _ = write!(
                    m,
                    "GATEWAY={} ",
                    Ipv4Addr::new(ich[4], ich[5], ich[6], ich[7])
                );
            }
            if off == 0 {
                m.push('[');
                // The quoted packet's early return ends only the recursion.
                dump_ipv4(m, flags, skb, l4 + 8);
                m.push_str("] ");
            }
            if kind == 3 && code == 4 {
                let _ = write!(m, "MTU={} ", be16(ich, 6));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::facts::L4Facts;
    use crate::ext::matches::testutil::facts;

    fn udp_packet() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 40, 0x04, 0xd5, 0, 0, 255, 17, 0, 0, 198, 51, 100, 7, 10, 0, 0, 104,
        ];
        p.extend_from_slice(&[0x14, 0xe9, 0x14, 0xe9, 0, 20, 0, 0]);
        p.extend_from_slice(&[b'q'; 12]);
        p
    }

    #[test]
    fn udp_line_matches_the_kernel() {
        let p = udp_packet();
        let mut f = facts(
            &p,
            0,
            255,
            L4Facts::Udp {
                sport: 5353,
                dport: 5353,
            },
            0,
        );
        f.src = u32::from(Ipv4Addr::new(198, 51, 100, 7));
        f.dst = u32::from(Ipv4Addr::new(10, 0, 0, 104));
        f.mac_header = Some([2, 0, 0, 0, 0, 0x10, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 8, 0]);
        // testdata/kernel_log/log_main/kernel.log, line 4
        assert_eq!(
            line("iptw raw-pre: ", 0, &f),
            "iptw raw-pre: IN=eth0 OUT= MAC=02:00:00:00:00:10:00:11:22:33:44:55:08:00 \
             SRC=198.51.100.7 DST=10.0.0.104 LEN=40 TOS=0x00 PREC=0x00 TTL=255 ID=1237 \
             PROTO=UDP SPT=5353 DPT=5353 LEN=20 "
        );
        f.mark = 0x2a;
        f.ttl = 9;
        f.in_iface = "";
        f.out_iface = "eth1";
        let l = line("", 0, &f);
        assert!(l.starts_with("IN= OUT=eth1 SRC="), "{l}");
        assert!(
            l.contains(" TTL=9 ") && l.ends_with("LEN=20 MARK=0x2a "),
            "{l}"
        );
    }

    #[test]
    fn cut_short_headers_say_incomplete() {
        let mut p = udp_packet();
        p.truncate(24);
        p[3] = 24;
        let f = facts(&p, 0, 255, L4Facts::None, 0);
        assert!(line("", 0, &f).ends_with("PROTO=UDP INCOMPLETE [4 bytes] "));
        let f = facts(&p[..10], 0, 255, L4Facts::None, 0);
        assert!(line("", 0, &f).ends_with("MAC= TRUNCATED"));
    }
}
