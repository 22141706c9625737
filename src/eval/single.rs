//! One packet, explained: the packet of `iptwalk trace`, either written in
//! the summary notation (with the conntrack table set up so it has the
//! wanted state) or taken from a capture after replaying everything before
//! it, walked through every hook with each rule test recorded.
//!
//! Setting up a state (`--ctstate`) replays the packets that would have made
//! it through a ruleset that accepts everything, so the entry is exactly
//! what nf_conntrack would hold: ESTABLISHED is a TCP handshake (or, for
//! other protocols, the packet and its answer) opened by the packet's
//! sender, with sequence numbers chosen so the packet is in window; RELATED
//! is the connection an ICMP error quotes. NEW needs nothing; INVALID and
//! UNTRACKED come from the packet and the rules themselves. The caller
//! compares the state the packet really got with the one asked for.

use super::engine::{Engine, Options};
use super::explain::TableWalk;
use super::host::{Host, Interface, Route};
use super::outcome::Record;
use crate::conntrack::{CtState, Params};
use crate::ir::addr::Ipv4Net;
use crate::ir::Ruleset;
use crate::packet::{self, CaptureReader, Frame, Summary, SynthPacket};
use std::io::Read;

/// A traced packet: its record, the table walks, and how the state was made.
#[derive(Debug, Clone)]
pub struct Traced {
    pub record: Record,
    pub walks: Vec<TableWalk>,
    /// The packets replayed (accepting everything) to set up `--ctstate`.
    pub primed: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("--ctstate RELATED needs an ICMP error that quotes a packet (`... type=3 code=3 [quotes udp A:P>B:Q]`)")]
    NotAnIcmpError,
    #[error("the capture has {0} records; --index {1} is past its end")]
    IndexOutOfRange(u64, u64),
    #[error("capture: {0}")]
    Capture(#[from] packet::CaptureError),
    #[error("cannot build the packet that sets up the state: {0}")]
    Prime(#[from] packet::SummaryParseError),
}

/// Makes packets whose source is `src` arrive on `dev` (`--in`): a host
/// route for the source through that interface, as `ip route add SRC dev DEV`.
pub fn arrive_on(host: &mut Host, src: std::net::Ipv4Addr, dev: &str) {
    if !host.interfaces.iter().any(|i| i.name == dev) {
        host.interfaces.push(Interface {
            name: dev.to_string(),
            addrs: Vec::new(),
            mac: [0x02, 0, 0, 0, 0, 0x99],
            peer_mac: None,
        });
    }
    host.routes.push(Route {
        dest: Ipv4Net {
            addr: u32::from(src),
            mask: u32::MAX,
        },
        dev: dev.to_string(),
    });
}

const SECOND: i128 = 1_000_000_000;

fn raw_frame(bytes: &[u8], index: u64, ts_ns: i128) -> Frame<'_> {
    Frame {
        index,
        offset: 0,
        ts_ns,
        linktype: packet::link::linktype::RAW,
        iface: None,
        orig_len: bytes.len() as u32,
        data: bytes,
        anomaly: None,
    }
}

/// Traces one synthetic packet, first setting up `state` when asked.
pub fn trace_packet(
    rs: &Ruleset,
    host: Host,
    params: Params,
    pkt: &SynthPacket,
    state: Option<CtState>,
) -> Result<Traced, TraceError> {
    let primed = match state {
        Some(CtState::Established) => established_by(pkt.bytes())?,
        Some(CtState::Related) => related_by(pkt.bytes())?,
        _ => Vec::new(),
    };
    let mut engine = Engine::new(rs, host.clone(), params, Options::default());
    if !primed.is_empty() {
        let accept_all = Ruleset::default();
        let mut setup = Engine::new(&accept_all, host, params, Options::default());
        for (i, p) in primed.iter().enumerate() {
            let bytes = packet::parse_summary(p)?;
            setup.process(&raw_frame(
                bytes.bytes(),
                i as u64,
                SECOND + i as i128 * 1_000_000,
            ));
        }
        engine.set_conntrack(setup.conntrack().clone());
    }
    engine.set_explain(true);
    let ts = SECOND + primed.len() as i128 * 1_000_000;
    let record = engine.process(&raw_frame(pkt.bytes(), 0, ts));
    Ok(Traced {
        record,
        walks: engine.take_walks(),
        primed,
    })
}

/// Replays a capture up to record `index` and traces that record.
pub fn trace_record<R: Read>(
    rs: &Ruleset,
    host: Host,
    params: Params,
    opts: Options,
    reader: &mut CaptureReader<R>,
    index: u64,
) -> Result<Traced, TraceError> {
    let mut engine = Engine::new(rs, host, params, opts);
    let mut seen = 0;
    while let Some(next) = reader.next_frame() {
        let frame = match next {
            Ok(f) => f,
            Err(e) if e.is_fatal() => return Err(e.into()),
            Err(_) => continue,
        };
        seen = frame.index + 1;
        if frame.index == index {
            engine.set_explain(true);
            let record = engine.process(&frame);
            return Ok(Traced {
                record,
                walks: engine.take_walks(),
                primed: Vec::new(),
            });
        }
        engine.process(&frame);
    }
    Err(TraceError::IndexOutOfRange(seen, index))
}

fn be32(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// `proto src[:sp]>dst[:dp]` of a summary, and the reversed endpoints.
fn endpoints(summary: &str) -> (String, String, String) {
    let mut words = summary.split(' ');
    let proto = words.next().unwrap_or("").to_string();
    let ends = words.next().unwrap_or("");
    let (a, b) = ends.split_once('>').unwrap_or((ends, ""));
    (proto, format!("{a}>{b}"), format!("{b}>{a}"))
}

/// The packets that leave the packet's connection ESTABLISHED, the packet's
/// sender having opened it.
fn established_by(ip: &[u8]) -> Result<Vec<String>, TraceError> {
    let summary = Summary::of_ip(ip).to_string();
    let (proto, fwd, rev) = endpoints(&summary);
    let l4 = ip.get(usize::from(ip.first().copied().unwrap_or(0x45) & 0x0f) * 4..);
    let l4 = l4.unwrap_or(&[]);
    Ok(match proto.as_str() {
        "tcp" => {
            // In window for tcp_in_window: the handshake ends exactly where
            // the packet's sequence and acknowledgment numbers continue.
            let (seq, ack) = (be32(l4, 4), be32(l4, 8));
            vec![
                format!("tcp {fwd} S seq={}", seq.wrapping_sub(1)),
                format!("tcp {rev} SA seq={} ack={seq}", ack.wrapping_sub(1)),
                format!("tcp {fwd} A seq={seq} ack={ack}"),
            ]
        }
        "icmp" => {
            // An echo request and its reply (same identifier and sequence).
            let id = l4.get(4..6).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            let sq = l4.get(6..8).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            vec![
                format!("icmp {fwd} type=8 code=0 id={id} seq={sq}"),
                format!("icmp {rev} type=0 code=0 id={id} seq={sq}"),
            ]
        }
        _ => vec![format!("{proto} {fwd}"), format!("{proto} {rev}")],
    })
}

/// The packet an ICMP error quotes, which makes the error RELATED.
fn related_by(ip: &[u8]) -> Result<Vec<String>, TraceError> {
    let ihl = usize::from(ip.first().copied().unwrap_or(0x45) & 0x0f) * 4;
    let l4 = ip.get(ihl..).unwrap_or(&[]);
    let is_error = ip.get(9) == Some(&1) && matches!(l4.first(), Some(3 | 4 | 5 | 11 | 12));
    match l4.get(8..) {
        Some(inner) if is_error && inner.len() >= 20 => Ok(vec![Summary::of_ip(inner).to_string()]),
        _ => Err(TraceError::NotAnIcmpError),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn rules(text: &str) -> Ruleset {
        let f = SourceFile::new("t", text);
        let l = crate::ir::load(&f);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        l.ruleset
    }

    fn state_of(t: &Traced) -> Option<&'static str> {
        match &t.record {
            Record::Packet(o) => o.ctstate,
            Record::Skipped(_) => None,
        }
    }

    const RS: &str = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n";

    fn trace(p: &str, st: Option<CtState>) -> Traced {
        let host = Host::oracle(&["10.0.0.1".parse().unwrap()], &[]);
        let pkt = packet::parse_summary(p).unwrap();
        trace_packet(&rules(RS), host, Params::default(), &pkt, st).unwrap()
    }

    #[test]
    fn established_is_set_up_for_tcp_udp_and_icmp() {
        for p in [
            "tcp 203.0.113.5:40000>10.0.0.1:22 PA seq=1000 ack=5000",
            "tcp 203.0.113.5:40000>10.0.0.1:22 A",
            "udp 203.0.113.5:5000>10.0.0.1:53",
            "icmp 203.0.113.5>10.0.0.1 type=8 code=0 id=7 seq=1",
            "gre 203.0.113.5>10.0.0.1",
        ] {
            let t = trace(p, Some(CtState::Established));
            assert_eq!(state_of(&t), Some("ESTABLISHED"), "{p}");
            assert!(!t.walks.is_empty());
        }
        let t = trace("tcp 203.0.113.5:40000>10.0.0.1:22 S", None);
        assert_eq!(state_of(&t), Some("NEW"));
        assert!(t.primed.is_empty());
    }

    #[test]
    fn related_needs_an_icmp_error_and_sets_up_the_quoted_connection() {
        let t = trace(
            "icmp 198.51.100.9>10.0.0.1 type=3 code=3 [quotes udp 10.0.0.1:5000>198.51.100.9:53]",
            Some(CtState::Related),
        );
        assert_eq!(state_of(&t), Some("RELATED"));
        let host = Host::oracle(&[], &[]);
        let pkt = packet::parse_summary("udp 1.2.3.4:1>5.6.7.8:2").unwrap();
        let e = trace_packet(
            &rules(RS),
            host,
            Params::default(),
            &pkt,
            Some(CtState::Related),
        );
        assert!(matches!(e, Err(TraceError::NotAnIcmpError)));
    }

    #[test]
    fn arrive_on_sets_the_input_interface() {
        let mut host = Host::oracle(&["10.0.0.1".parse().unwrap()], &[]);
        arrive_on(&mut host, "203.0.113.5".parse().unwrap(), "eth7");
        assert_eq!(host.ingress(u32::from_be_bytes([203, 0, 113, 5])), "eth7");
    }
}
