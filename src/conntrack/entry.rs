//! One conntrack entry (`struct nf_conn`) and its printable view.
//!
//! [`CtView`] has exactly the fields and formats of the oracle's `ct_after` (kernel_oracle.py
//! `decode_ct`): `proto`, `orig`/`reply` as `a:p>b:q`, the printable status bits, `tcp_state`
//! for TCP, `helper` when one is attached, `mark` when non-zero. Invariant: `tuple[0]` is the
//! original direction and `tuple[1]` the reply direction, as `tuplehash[IP_CT_DIR_*]`.

use serde::Serialize;

use super::helpers::HelpData;
use super::proto::ProtoData;
use super::status::Status;
use super::table::ConnId;
use super::tuple::{Dir, Tuple};
use super::TcpState;

/// Connection-tracking helpers (`struct nf_conntrack_helper`), by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HelperKind {
    /// `nf_conntrack_ftp`.
    Ftp,
    /// `nf_conntrack_tftp`.
    Tftp,
}

impl HelperKind {
    /// The helper's name, as `-j CT --helper` takes it and conntrack prints it.
    pub const fn name(self) -> &'static str {
        match self {
            HelperKind::Ftp => "ftp",
            HelperKind::Tftp => "tftp",
        }
    }

    /// Parses a helper name.
    pub fn from_name(s: &str) -> Option<HelperKind> {
        match s {
            "ftp" => Some(HelperKind::Ftp),
            "tftp" => Some(HelperKind::Tftp),
            _ => None,
        }
    }
}

/// A conntrack entry.
///
/// `repr(C)` keeps the fields in this order: what every packet reads or writes (timer,
/// status, mark, helper, master, protocol data, the replay's lanes, accounting, the sequence
/// adjustment) comes first, so with the slot aligned to a cache line it spans the first three
/// lines of the slot; the tuples (read for printed views) and the FTP state follow.
/// With hundreds of thousands of entries each packet's entry is a cache miss per line touched.
#[derive(Debug, Clone, PartialEq, Eq)]
#[repr(C)]
pub struct Conn {
    /// Packet time (ns) at which the entry expires.
    pub expires_ns: u64,
    /// Status bits.
    pub status: Status,
    /// `ct->mark` (CONNMARK).
    pub mark: u32,
    /// Attached helper.
    pub helper: Option<HelperKind>,
    /// The entry whose expectation created this one (`ct->master`). Here, in the first cache
    /// line, because its tag is where `Option<Conn>` keeps `None` (the largest niche of the
    /// entry's fields): every packet asks whether its slot holds an entry, and with the
    /// field among the cold ones that question alone read a fourth line of the slot.
    pub master: Option<ConnId>,
    /// Protocol data.
    pub proto: ProtoData,
    /// What the replay remembers of each direction (indexed like `tuple`):
    /// conntrack never reads it, and a new entry starts without.
    pub lanes: [LaneMemo; 2],
    /// Accounting (`nf_conn_acct`): (packets, bytes) per direction, indexed
    /// like `tuple`; read by `-m connbytes`.
    pub acct: [(u64, u64); 2],
    /// The helper's per-connection state.
    pub help: HelpData,
    /// Original and reply tuples (NAT rewrites the reply tuple before confirmation).
    pub tuple: [Tuple; 2],
}

/// The replay engine's established-flow lane for one direction of an entry
/// (`eval::engine::lane`), kept in the entry itself, where the packet's
/// lookup has just been: the outcome `path` learned (0: none) and the values
/// it holds for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneMemo {
    pub path: u32,
    pub mark: u32,
    pub status: u32,
    /// The conntrack state, as the engine codes it.
    pub state: u8,
    pub pkttype: u8,
    pub flags: u8,
    /// Which of `flags` and `status` must match (the engine's bits).
    pub compares: u8,
}

impl Conn {
    /// The tuple of one direction.
    pub fn tuple(&self, dir: Dir) -> &Tuple {
        &self.tuple[dir.idx()]
    }

    /// TCP state, for TCP entries.
    pub fn tcp_state(&self) -> Option<TcpState> {
        match &self.proto {
            ProtoData::Tcp(t) => Some(t.state),
            _ => None,
        }
    }

    /// The printable view: values copied, nothing formatted (every jsonl record has one).
    pub fn view(&self) -> CtView {
        CtView {
            proto: self.tuple[0].proto,
            orig: self.tuple[0],
            reply: self.tuple[1],
            status: self.status,
            tcp_state: self.tcp_state().map(TcpState::name),
            helper: self.helper.map(HelperKind::name),
            mark: (self.mark != 0).then_some(self.mark),
        }
    }
}

/// An entry as the oracle prints it in `ct_after`. It holds the tuples and status word
/// themselves, not their text: a replay makes one per record, and the JSON writer
/// (`eval::outcome_json`) prints them straight into the line; `Serialize` gives the texts
/// (`a:p>b:q`, the [`Status::names`] list), the same bytes as when these fields were strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CtView {
    /// IP protocol number.
    pub proto: u8,
    /// Original tuple, printed as its [`Tuple`] `Display` text.
    #[serde(serialize_with = "as_text")]
    pub orig: Tuple,
    /// Reply tuple, printed the same way.
    #[serde(serialize_with = "as_text")]
    pub reply: Tuple,
    /// Status word; printed as its printable bits' names in bit order.
    #[serde(serialize_with = "as_names")]
    pub status: Status,
    /// TCP state name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_state: Option<&'static str>,
    /// Helper name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helper: Option<&'static str>,
    /// Connection mark, when non-zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark: Option<u32>,
}

fn as_text<S: serde::Serializer>(t: &Tuple, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

fn as_names<S: serde::Serializer>(st: &Status, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(st.names())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::tuple::L4Key;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn view_serialises_like_the_oracle() {
        let a = IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 104));
        let t = Tuple {
            src: a,
            dst: b,
            proto: 17,
            l4: L4Key::Ports {
                src: 36401,
                dst: 69,
            },
        };
        let mut c = Conn {
            tuple: [t, t.invert().unwrap()],
            status: Status::default(),
            expires_ns: 0,
            proto: ProtoData::Udp { stream_ts_ns: 0 },
            helper: None,
            master: None,
            mark: 0,
            help: HelpData::default(),
            acct: [(0, 0); 2],
            lanes: Default::default(),
        };
        c.status.set(Status::SEEN_REPLY | Status::CONFIRMED);
        let json = serde_json::to_string(&c.view()).unwrap();
        assert_eq!(
            json,
            r#"{"proto":17,"orig":"8.8.8.8:36401>10.0.0.104:69","reply":"10.0.0.104:69>8.8.8.8:36401","status":["SEEN_REPLY"]}"#
        );
        c.helper = Some(HelperKind::Ftp);
        c.mark = 7;
        c.status.set(Status::ASSURED | Status::SRC_NAT);
        assert_eq!(
            serde_json::to_string(&c.view()).unwrap(),
            r#"{"proto":17,"orig":"8.8.8.8:36401>10.0.0.104:69","reply":"10.0.0.104:69>8.8.8.8:36401","status":["SEEN_REPLY","ASSURED","SRC_NAT"],"helper":"ftp","mark":7}"#
        );
        assert_eq!(HelperKind::from_name("tftp"), Some(HelperKind::Tftp));
    }
}
