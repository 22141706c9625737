//! A tiny text DSL for conntrack sequences, used by the unit tests.
//!
//! One step per line (or `;`-separated): `DIR PACKET [drop] -> CTSTATE [TCPSTATE|gone] [FLAGS]`.
//! * `DIR`: `orig` (10.0.0.1:40000 → 10.0.0.2:80) or `reply` (the other way).
//! * `PACKET`: TCP flags in tcpdump letters (`S`, `SA`, `A`, `PA`, `FA`, `R`, `RA`, `SF`, `none`)
//!   with `seq= ack= win= len= wscale= sackok sack=RIGHT_EDGE csum=bad hook=out sport= dport=`;
//!   `udp [len=N] [csum=bad]`; `icmp TYPE [code=] [id=]` (`echo`, `echo-reply`, `timestamp`,
//!   numbers); `icmp-error TYPE[/CODE] quote=udp|tcp|icmp about=orig|reply [to=ADDR]`;
//!   `proto=N` for the generic tracker.
//! * `drop`: the packet is dropped by the ruleset, so a new entry is discarded, not confirmed.
//! * `reject`: REJECT `--reject-with tcp-reset`: `nf_send_reset` closes a confirmed entry
//!   (`nf_ct_set_closing`), then the packet is dropped.
//! * expectations: `NEW|ESTABLISHED|RELATED|INVALID`, then optionally the TCP state of the
//!   flow's entry after the packet, `-` for "entry exists, not TCP", or `gone` (no entry), then
//!   `dir=orig|reply`, `assured`, `!assured`, `seen_reply`, `!seen_reply`.
//!
//! Other lines: `set SYSCTL=VALUE`, `wait SECONDS`. Each packet advances time by 1 ms.

use std::net::{IpAddr, Ipv4Addr};

use crate::conntrack::proto::tcp::flags;
use crate::conntrack::status::Status;
use crate::conntrack::tuple::{icmp_inverse_type, L4Key, Tuple};
use crate::conntrack::{
    CtState, Dir, Hook, IcmpMessage, L4Info, PacketInfo, Params, Quoted, QuotedL4, Table,
    TcpOptions, TcpSegment, UdpDatagram,
};

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PA: u16 = 40000;
const PB: u16 = 80;

/// Runs a script; panics with the step and the difference on the first mismatch.
pub fn run(script: &str) {
    run_with(Params::default(), script);
}

/// Runs a script starting from the given sysctls.
///
/// With `IPTWALK_DSL_EXPORT=DIR` every script is also written to `DIR/<test>-<n>.dsl`, so that
/// an outside tool can replay the same sequences through the kernel oracle.
pub fn run_with(params: Params, script: &str) {
    export(script);
    let mut t = Table::new(params);
    let mut now: u64 = 1_000_000_000;
    for raw in script.split(['\n', ';']) {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("set ") {
            let (k, v) = rest.split_once('=').expect("set NAME=VALUE");
            t.params_mut()
                .set(k.trim(), v.trim().parse().expect("number"))
                .expect("sysctl");
            continue;
        }
        if let Some(rest) = line.strip_prefix("wait ") {
            let secs: f64 = rest.trim().trim_end_matches('s').parse().expect("seconds");
            now += (secs * 1e9) as u64;
            continue;
        }
        now += 1_000_000;
        step(&mut t, line, now);
    }
}

fn export(script: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let Ok(dir) = std::env::var("IPTWALK_DSL_EXPORT") else {
        return;
    };
    let test = std::thread::current()
        .name()
        .unwrap_or("case")
        .replace("::", "-");
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::fs::write(format!("{dir}/{test}-{n}.dsl"), script).expect("export");
}

struct Step {
    pkt: PacketInfo,
    drop: bool,
    reject: bool,
    flow: Tuple,
}

fn step(t: &mut Table, line: &str, now: u64) {
    let (lhs, rhs) = line
        .split_once("->")
        .unwrap_or_else(|| panic!("no `->` in `{line}`"));
    let st = parse_packet(lhs, now);
    let v = t.process(&st.pkt);
    if let Some(id) = v.conn.filter(|_| st.reject) {
        t.set_closing(id, now);
    }
    if let Some(id) = v.conn.filter(|_| v.unconfirmed) {
        if st.drop || st.reject {
            t.discard(id);
        } else {
            t.confirm(id).expect("confirm");
        }
    }
    let after = t.view_of_tuple(&st.flow, now);
    let mut exp = rhs.split_whitespace();
    let want = exp
        .next()
        .unwrap_or_else(|| panic!("no expectation in `{line}`"));
    assert_eq!(v.state.name(), want, "ctstate of `{line}` (verdict {v:?})");
    for e in exp {
        let ok = match e {
            "gone" => after.is_none(),
            "-" => after.as_ref().is_some_and(|a| a.tcp_state.is_none()),
            "assured" => after
                .as_ref()
                .is_some_and(|a| a.status.has(Status::ASSURED)),
            "!assured" => after
                .as_ref()
                .is_some_and(|a| !a.status.has(Status::ASSURED)),
            "seen_reply" => after
                .as_ref()
                .is_some_and(|a| a.status.has(Status::SEEN_REPLY)),
            "!seen_reply" => after
                .as_ref()
                .is_some_and(|a| !a.status.has(Status::SEEN_REPLY)),
            "dir=orig" => v.dir == Some(Dir::Original),
            "dir=reply" => v.dir == Some(Dir::Reply),
            s => after.as_ref().and_then(|a| a.tcp_state) == Some(s),
        };
        assert!(
            ok,
            "`{e}` failed for `{line}`: verdict {v:?}, entry after {after:?}"
        );
    }
    if v.state == CtState::Invalid {
        assert!(
            v.dir.is_none() && v.conn.is_none(),
            "INVALID carries no entry: {v:?}"
        );
    }
}

fn kv<'a>(toks: &[&'a str], key: &str) -> Option<&'a str> {
    toks.iter()
        .find_map(|t| t.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn num<T: std::str::FromStr>(toks: &[&str], key: &str, default: T) -> T {
    kv(toks, key).map_or(default, |v| {
        v.parse().unwrap_or_else(|_| panic!("bad {key}={v}"))
    })
}

fn parse_packet(lhs: &str, now: u64) -> Step {
    let toks: Vec<&str> = lhs.split_whitespace().collect();
    let dir = match toks.first() {
        Some(&"orig") => Dir::Original,
        Some(&"reply") => Dir::Reply,
        other => panic!("direction expected, got {other:?}"),
    };
    let rest = toks.get(1..).unwrap_or(&[]);
    let kind = *rest.first().expect("packet kind");
    let ((src, ps), (dst, pd)) = if dir == Dir::Original {
        ((A, PA), (B, PB))
    } else {
        ((B, PB), (A, PA))
    };
    let (proto, l4) = l4_of(kind, rest, num(rest, "sport", ps), num(rest, "dport", pd));
    let dst = kv(rest, "to").map_or(IpAddr::V4(dst), |to| to.parse().expect("to=ADDR"));
    let hook = if rest.contains(&"hook=out") {
        Hook::LocalOut
    } else {
        Hook::PreRouting
    };
    let checksum_ok = !rest.contains(&"csum=bad");
    let flow = flow_of(kind, proto, &l4, dir, rest);
    let pkt = PacketInfo {
        src: IpAddr::V4(src),
        dst,
        proto,
        l4,
        ts_ns: now,
        hook,
        checksum_ok,
    };
    Step {
        pkt,
        drop: rest.contains(&"drop"),
        reject: rest.contains(&"reject"),
        flow,
    }
}

fn l4_of(kind: &str, rest: &[&str], sport: u16, dport: u16) -> (u8, L4Info) {
    match kind {
        "udp" => {
            let len = num(rest, "len", 10u16);
            let d = UdpDatagram {
                sport,
                dport,
                length_field: 8 + len,
                l4_len: 8 + u32::from(len),
            };
            (17, L4Info::Udp(d))
        }
        "icmp" => (1, L4Info::Icmp(icmp_query(rest))),
        "icmp-error" => (1, L4Info::Icmp(icmp_error(rest))),
        k if k.starts_with("proto=") => (num(rest, "proto", 50u8), L4Info::Other { ports: None }),
        flagstr => (6, L4Info::Tcp(tcp_segment(flagstr, rest, sport, dport))),
    }
}

/// The tuple of the flow a step is about (whose entry the expectations describe).
fn flow_of(kind: &str, proto: u8, l4: &L4Info, dir: Dir, rest: &[&str]) -> Tuple {
    let (proto, l4) = match (kind, l4) {
        ("icmp-error", _) => (quote_proto(rest), quote_flow_key(rest)),
        (_, L4Info::Icmp(m)) => {
            // The flow is keyed by the request: a reply names it through the inverse type.
            let kind = if dir == Dir::Reply {
                icmp_inverse_type(m.kind).unwrap_or(m.kind)
            } else {
                m.kind
            };
            (
                proto,
                L4Key::Icmp {
                    id: m.id,
                    kind,
                    code: m.code,
                },
            )
        }
        (_, L4Info::Tcp(_) | L4Info::Udp(_)) => (proto, L4Key::Ports { src: PA, dst: PB }),
        _ => (proto, L4Key::None),
    };
    Tuple {
        src: IpAddr::V4(A),
        dst: IpAddr::V4(B),
        proto,
        l4,
    }
}

fn tcp_segment(flagstr: &str, rest: &[&str], sport: u16, dport: u16) -> TcpSegment {
    let mut f = 0u8;
    if flagstr != "none" {
        for c in flagstr.chars() {
            f |= match c {
                'F' => flags::FIN,
                'S' => flags::SYN,
                'R' => flags::RST,
                'P' => flags::PSH,
                'A' => flags::ACK,
                'U' => flags::URG,
                'E' => flags::ECE,
                'C' => flags::CWR,
                _ => panic!("unknown TCP flag {c} in {flagstr}"),
            };
        }
    }
    let mut opts = TcpOptions {
        present: false,
        ..TcpOptions::default()
    };
    if let Some(ws) = kv(rest, "wscale") {
        opts.present = true;
        opts.wscale = Some(ws.parse().expect("wscale"));
    }
    if rest.contains(&"sackok") {
        opts.present = true;
        opts.sack_perm = true;
    }
    if let Some(edge) = kv(rest, "sack") {
        opts.present = true;
        opts.sack_right[0] = edge.parse().expect("sack");
        opts.sack_blocks = 1;
    }
    let doff = if opts.present { 8 } else { 5 };
    let len = num(rest, "len", 0u32);
    TcpSegment {
        sport,
        dport,
        flags: f,
        seq: num(rest, "seq", 0),
        ack: num(rest, "ack", 0),
        window: num(rest, "win", 64240),
        doff,
        l4_len: u32::from(doff) * 4 + len,
        opts,
    }
}

fn icmp_type(name: &str) -> u8 {
    match name {
        "echo" => 8,
        "echo-reply" => 0,
        "timestamp" => 13,
        "timestamp-reply" => 14,
        "info" => 15,
        "info-reply" => 16,
        "mask" => 17,
        "mask-reply" => 18,
        n => n.parse().unwrap_or_else(|_| panic!("icmp type {n}")),
    }
}

fn icmp_query(rest: &[&str]) -> IcmpMessage {
    IcmpMessage {
        kind: icmp_type(rest.get(1).copied().unwrap_or("echo")),
        code: num(rest, "code", 0),
        id: num(rest, "id", 1),
        quoted: None,
    }
}

fn quote_proto(rest: &[&str]) -> u8 {
    match kv(rest, "quote") {
        Some("tcp") => 6,
        Some("icmp") => 1,
        _ => 17,
    }
}

fn quote_flow_key(rest: &[&str]) -> L4Key {
    if quote_proto(rest) == 1 {
        L4Key::Icmp {
            id: num(rest, "id", 1),
            kind: 8,
            code: 0,
        }
    } else {
        L4Key::Ports { src: PA, dst: PB }
    }
}

fn icmp_error(rest: &[&str]) -> IcmpMessage {
    let spec = rest.get(1).copied().unwrap_or("3/3");
    let (k, c) = spec.split_once('/').unwrap_or((spec, "0"));
    let about_orig = kv(rest, "about") != Some("reply");
    let (qs, qd, ps, pd) = if about_orig {
        (A, B, PA, PB)
    } else {
        (B, A, PB, PA)
    };
    let proto = quote_proto(rest);
    let l4 = match proto {
        1 => QuotedL4::Icmp {
            kind: if about_orig { 8 } else { 0 },
            code: 0,
            id: num(rest, "id", 1),
        },
        _ => QuotedL4::Ports { src: ps, dst: pd },
    };
    let quoted = Quoted {
        src: IpAddr::V4(qs),
        dst: IpAddr::V4(qd),
        proto,
        fragment: false,
        l4,
    };
    IcmpMessage {
        kind: k.parse().expect("type"),
        code: c.parse().expect("code"),
        id: 0,
        quoted: Some(quoted),
    }
}
