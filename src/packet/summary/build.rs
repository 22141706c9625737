//! Reading the summary notation back: builds a well-formed IPv4 packet (valid header and
//! transport checksums) that prints as the same summary.
//!
//! Grammar (whitespace-separated; `key=value` fields in any order after the addresses):
//! `PROTO SRC[:SPORT]>DST[:DPORT] [FLAGS] [frag] [type=N code=N] [ttl= tos= ipid= df=1 seq= ack=
//! win= len= id= spi=] [\[quotes SUMMARY\]]` where PROTO is tcp, udp, icmp, sctp, dccp, udplite,
//! esp, ah, gre or protoN; FLAGS are the letters FSRPAUEC (TCP only); `len` is the number of
//! zero payload bytes; `id`/`seq` of an ICMP query are its identifier and sequence number.

use std::net::Ipv4Addr;

use super::super::checksum;
use super::super::l4::proto;
use super::{ParseError, SynthPacket, MAX_QUOTE_DEPTH, TCP_FLAG_LETTERS};

/// Parses a summary line into a packet.
pub fn parse(s: &str) -> Result<SynthPacket, ParseError> {
    // A trailing space is meaningful: it is how an empty TCP flag set prints.
    let s = s.trim_start().trim_end_matches(['\n', '\r']);
    Ok(SynthPacket {
        bytes: build(s, 0)?.0,
    })
}

#[derive(Default)]
struct Fields {
    ttl: Option<u8>,
    tos: u8,
    ipid: u16,
    df: bool,
    mf: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    win: Option<u16>,
    len: u16,
    icmp_type: u8,
    icmp_code: u8,
    id: u16,
    spi: u32,
}

fn proto_number(name: &str) -> Result<u8, ParseError> {
    Ok(match name {
        "tcp" => proto::TCP,
        "udp" => proto::UDP,
        "icmp" => proto::ICMP,
        "sctp" => proto::SCTP,
        "dccp" => proto::DCCP,
        "udplite" => proto::UDPLITE,
        "esp" => proto::ESP,
        "ah" => proto::AH,
        "gre" => proto::GRE,
        other => other
            .strip_prefix("proto")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| ParseError::Protocol(other.to_string()))?,
    })
}

type Endpoints = (Ipv4Addr, Option<u16>, Ipv4Addr, Option<u16>);

fn endpoints(tok: &str) -> Result<Endpoints, ParseError> {
    let err = || ParseError::Addresses(tok.to_string());
    let (a, b) = tok.split_once('>').ok_or_else(err)?;
    let one = |side: &str| -> Result<(Ipv4Addr, Option<u16>), ParseError> {
        match side.split_once(':') {
            Some((ip, port)) => Ok((
                ip.parse().map_err(|_| err())?,
                Some(port.parse().map_err(|_| err())?),
            )),
            None => Ok((side.parse().map_err(|_| err())?, None)),
        }
    };
    let ((src, sp), (dst, dp)) = (one(a)?, one(b)?);
    if sp.is_some() != dp.is_some() {
        return Err(err());
    }
    Ok((src, sp, dst, dp))
}

fn number<T: std::str::FromStr>(tok: &str, v: &str) -> Result<T, ParseError> {
    v.parse().map_err(|_| ParseError::Field(tok.to_string()))
}

fn field(f: &mut Fields, tok: &str, is_tcp: bool) -> Result<(), ParseError> {
    if tok == "frag" {
        f.mf = true;
        return Ok(());
    }
    let Some((k, v)) = tok.split_once('=') else {
        if is_tcp && tok.bytes().all(|c| TCP_FLAG_LETTERS.contains(&c)) {
            for c in tok.bytes() {
                let bit = TCP_FLAG_LETTERS.iter().position(|&l| l == c).unwrap_or(0);
                f.flags |= 1 << bit;
            }
            return Ok(());
        }
        return Err(if is_tcp {
            ParseError::Flags(tok.to_string())
        } else {
            ParseError::UnknownField(tok.to_string())
        });
    };
    match k {
        "ttl" => f.ttl = Some(number(tok, v)?),
        "tos" => f.tos = number(tok, v)?,
        "ipid" => f.ipid = number(tok, v)?,
        "df" => f.df = number::<u8>(tok, v)? != 0,
        "seq" => f.seq = number(tok, v)?,
        "ack" => f.ack = number(tok, v)?,
        "win" => f.win = Some(number(tok, v)?),
        "len" => f.len = number(tok, v)?,
        "type" => f.icmp_type = number(tok, v)?,
        "code" => f.icmp_code = number(tok, v)?,
        "id" => f.id = number(tok, v)?,
        "spi" => f.spi = number(tok, v)?,
        _ => return Err(ParseError::UnknownField(tok.to_string())),
    }
    Ok(())
}

/// Splits `head [quotes inner] tail`.
fn split_quote(s: &str) -> Result<(String, Option<&str>), ParseError> {
    match s.find(" [quotes ") {
        Some(i) => {
            let end = s.rfind(']').filter(|&e| e > i).ok_or(ParseError::Quote)?;
            let inner = s.get(i + 9..end).ok_or(ParseError::Quote)?;
            let outer = format!(
                "{} {}",
                s.get(..i).unwrap_or(""),
                s.get(end + 1..).unwrap_or("")
            );
            Ok((outer, Some(inner)))
        }
        None if s.contains(['[', ']']) => Err(ParseError::Quote),
        None => Ok((s.to_string(), None)),
    }
}

/// Builds the packet; the second value is how many bytes an ICMP error should quote of it:
/// everything, except for TCP printed without flags, where the summary shows that only the
/// RFC 792 minimum (IP header and 8 bytes, too few for the flags) was quoted.
fn build(s: &str, depth: usize) -> Result<(Vec<u8>, usize), ParseError> {
    let (outer, inner) = split_quote(s)?;
    let inner = match inner {
        Some(q) if depth < MAX_QUOTE_DEPTH => {
            let (bytes, quoted) = build(q.trim_start(), depth + 1)?;
            Some(bytes.get(..quoted).unwrap_or(&bytes).to_vec())
        }
        Some(_) => return Err(ParseError::Quote),
        None => None,
    };
    let flags_shown = s.ends_with(' ')
        || outer
            .split_whitespace()
            .skip(2)
            .any(|t| !t.contains('=') && t != "frag");
    let mut toks = outer.split_whitespace();
    let p = proto_number(toks.next().ok_or(ParseError::Empty)?)?;
    let (src, sp, dst, dp) = endpoints(toks.next().ok_or(ParseError::Empty)?)?;
    let has_ports = matches!(
        p,
        proto::TCP | proto::UDP | proto::SCTP | proto::DCCP | proto::UDPLITE
    );
    let ports = match (sp.zip(dp), has_ports) {
        (Some(pp), true) => pp,
        (None, false) => (0, 0),
        (None, true) => return Err(ParseError::PortsRequired(p)),
        (Some(_), false) => return Err(ParseError::PortsNotAllowed(p)),
    };
    let mut f = Fields::default();
    for tok in toks {
        field(&mut f, tok, p == proto::TCP)?;
    }
    let mut l4 = transport(p, ports, &f, inner.as_deref());
    let total = 20 + l4.len();
    let total16 = u16::try_from(total).map_err(|_| ParseError::TooLong)?;
    let mut ip = Vec::with_capacity(total);
    ip.extend_from_slice(&[0x45, f.tos]);
    ip.extend_from_slice(&total16.to_be_bytes());
    ip.extend_from_slice(&f.ipid.to_be_bytes());
    let frag: u16 = if f.df { 0x4000 } else { 0 } | if f.mf { 0x2000 } else { 0 };
    ip.extend_from_slice(&frag.to_be_bytes());
    ip.extend_from_slice(&[f.ttl.unwrap_or(64), p, 0, 0]);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = checksum::finish(checksum::sum(&ip, 0));
    if let Some(slot) = ip.get_mut(10..12) {
        slot.copy_from_slice(&c.to_be_bytes());
    }
    // The transport checksum covers the whole datagram; a fragment's cannot be verified anyway.
    fill_l4_checksum(p, src, dst, &mut l4);
    ip.append(&mut l4);
    let quoted = if p == proto::TCP && !flags_shown {
        28
    } else {
        ip.len()
    };
    Ok((ip, quoted))
}

/// The transport header and payload of protocol `p`, checksum fields zero.
fn transport(p: u8, (sp, dp): (u16, u16), f: &Fields, inner: Option<&[u8]>) -> Vec<u8> {
    let payload = usize::from(f.len);
    let mut l4 = Vec::with_capacity(20 + payload + inner.map_or(0, <[u8]>::len));
    match p {
        proto::TCP => {
            l4.extend_from_slice(&sp.to_be_bytes());
            l4.extend_from_slice(&dp.to_be_bytes());
            l4.extend_from_slice(&f.seq.to_be_bytes());
            l4.extend_from_slice(&f.ack.to_be_bytes());
            l4.extend_from_slice(&[0x50, f.flags]);
            l4.extend_from_slice(&f.win.unwrap_or(64240).to_be_bytes());
            l4.extend_from_slice(&[0; 4]);
        }
        proto::UDP | proto::UDPLITE => {
            l4.extend_from_slice(&sp.to_be_bytes());
            l4.extend_from_slice(&dp.to_be_bytes());
            let len = u16::try_from(8 + payload).unwrap_or(u16::MAX);
            l4.extend_from_slice(&len.to_be_bytes());
            l4.extend_from_slice(&[0; 2]);
        }
        proto::SCTP | proto::DCCP => {
            l4.extend_from_slice(&sp.to_be_bytes());
            l4.extend_from_slice(&dp.to_be_bytes());
            l4.extend_from_slice(&[0; 8]);
        }
        proto::ICMP => {
            l4.extend_from_slice(&[f.icmp_type, f.icmp_code, 0, 0]);
            l4.extend_from_slice(&f.id.to_be_bytes());
            // The echo sequence number is 16 bits wide.
            l4.extend_from_slice(&((f.seq & 0xffff) as u16).to_be_bytes());
            if let Some(q) = inner {
                l4.extend_from_slice(q);
            }
        }
        proto::ESP => {
            l4.extend_from_slice(&f.spi.to_be_bytes());
            l4.extend_from_slice(&f.seq.to_be_bytes());
        }
        proto::AH => {
            l4.extend_from_slice(&[0, 1, 0, 0]);
            l4.extend_from_slice(&f.spi.to_be_bytes());
            l4.extend_from_slice(&f.seq.to_be_bytes());
        }
        proto::GRE => l4.extend_from_slice(&[0, 0, 0x08, 0x00]),
        _ => {}
    }
    l4.resize(l4.len() + payload, 0);
    l4
}

fn fill_l4_checksum(p: u8, src: Ipv4Addr, dst: Ipv4Addr, l4: &mut [u8]) {
    let pseudo = checksum::pseudo_header(src, dst, p, l4.len() as u32);
    let (off, value) = match p {
        proto::TCP => (16, checksum::finish(checksum::sum(l4, pseudo))),
        proto::UDP => {
            let c = checksum::finish(checksum::sum(l4, pseudo));
            // RFC 768: a computed 0 is sent as all ones (0 means "no checksum").
            (6, if c == 0 { 0xffff } else { c })
        }
        proto::ICMP => (2, checksum::finish(checksum::sum(l4, 0))),
        // What Linux accepts for UDP-Lite: a pseudo-header with protocol 17 (see
        // `Packet::l4_checksum_ok`), over the whole datagram as the coverage field says.
        proto::UDPLITE => {
            let pseudo = checksum::pseudo_header(src, dst, proto::UDP, l4.len() as u32);
            (6, checksum::finish(checksum::sum(l4, pseudo)))
        }
        proto::SCTP => {
            let crc = checksum::sctp_crc32c(l4);
            if let Some(slot) = l4.get_mut(8..12) {
                slot.copy_from_slice(&crc.to_le_bytes());
            }
            return;
        }
        _ => return,
    };
    if let Some(slot) = l4.get_mut(off..off + 2) {
        slot.copy_from_slice(&value.to_be_bytes());
    }
}
