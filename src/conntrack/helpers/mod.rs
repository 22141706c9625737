//! Conntrack helpers (`struct nf_conntrack_helper`): FTP and TFTP, run when a packet of a
//! connection with a helper leaves its last hook (`nf_confirm`, at LOCAL_IN and POST_ROUTING,
//! after every table), and the expectations they register (nf_conntrack_expect.c).
//!
//! The evaluator calls [`Table::help`] for every packet that survived the tables, just before
//! [`Table::confirm`]. A helper may drop the packet ([`HelpVerdict::Drop`]) or register an
//! [`Expectation`]: the first packet of a connection matching it is RELATED (status EXPECTED,
//! `ct->master` set, the master's mark copied), see `init_conntrack` in `conntrack::track`.
//!
//! NAT: when the master has a NAT binding (`IPS_NAT_MASK`), the kernel hands the parsed
//! command to `nf_nat_ftp` / `nf_nat_tftp`, which rewrite the payload and register a
//! (possibly different) expectation themselves. [`Table::help`] then returns
//! [`HelpVerdict::Nat`] with everything those need, and the caller runs them with
//! [`Table::nat_help`] (see `nat.rs`).
//!
//! Invariant: a helper never changes the packet's conntrack state; expectations are
//! registered only through [`Table::expect_related`], which applies the kernel's replacement,
//! clash and per-master limit rules.

mod expect;
pub mod ftp;
mod nat;
mod tftp;

pub use expect::ExpectError;
pub use ftp::{FtpMatch, FtpType};
pub use nat::SeqAdj;

use super::entry::HelperKind;
use super::status::Status;
use super::table::{Expectation, Table};
use super::tuple::{Dir, Tuple};
use super::{CtState, Verdict};

/// Per-connection helper state (`nfct_help(ct)->data`). `repr(C)`: the sequence adjustment,
/// which TCP tracking reads for every packet, first, next to the entry's hot fields
/// ([`super::Conn`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct HelpData {
    /// The NAT helper's sequence adjustment per direction (`struct nf_conn_seqadj`).
    pub seqadj: [SeqAdj; 2],
    /// `struct nf_ct_ftp_master`: newline sequence tracking.
    pub ftp: ftp::FtpMaster,
}

/// What a helper module asks for after one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing to do.
    Accept,
    /// Drop the packet (`NF_DROP`), with the helper's log message.
    Drop(&'static str),
    /// Expect a connection: `tuple` with source port 0 meaning "any source port".
    Expect {
        /// The expected tuple (`exp->tuple`).
        tuple: Tuple,
        /// The FTP command or reply it came from.
        ftp: Option<FtpMatch>,
    },
}

/// A parsed command on a NATed connection, for the NAT helper (`nf_nat_ftp`, `nf_nat_tftp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatRequest {
    /// The helper that parsed it.
    pub helper: HelperKind,
    /// Direction of the packet.
    pub dir: Dir,
    /// The expectation the helper would register without NAT.
    pub expect: Expectation,
    /// For FTP: which command, and where its numbers are in the payload.
    pub ftp: Option<FtpMatch>,
}

/// The helper's decision for one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpVerdict {
    /// The packet goes on (`NF_ACCEPT`).
    Accept,
    /// The helper dropped the packet (`NF_DROP`), with the kernel's log wording.
    Drop(&'static str),
    /// The master is NATed: the NAT helper must mangle the payload and register the
    /// expectation (or drop the packet).
    Nat(NatRequest),
}

/// Expectation lifetime of the FTP and TFTP policies (`.timeout = 5 * 60`), seconds.
pub const EXPECT_TIMEOUT: u32 = 300;

impl Table {
    /// Runs the connection's helper on a packet leaving its last hook (`nf_confirm` calling
    /// `helper->help`). `l4` is the layer-4 header and payload up to the end of the IP
    /// datagram (`skb->len` after `ip_rcv` trimmed it).
    pub fn help(&mut self, v: &Verdict, l4: &[u8], now_ns: u64) -> HelpVerdict {
        let (Some(id), Some(dir)) = (v.conn, v.dir) else {
            return HelpVerdict::Accept;
        };
        // "helper->help() do not expect ICMP packets": ctinfo IP_CT_RELATED_REPLY is skipped.
        if v.state == CtState::Related && dir == Dir::Reply {
            return HelpVerdict::Accept;
        }
        let Some(conn) = self.get_mut(id) else {
            return HelpVerdict::Accept;
        };
        let Some(helper) = conn.helper else {
            return HelpVerdict::Accept;
        };
        let action = match helper {
            HelperKind::Ftp => {
                let established = v.state == CtState::Established;
                ftp::help(&mut conn.help.ftp, &conn.tuple, dir, established, l4)
            }
            HelperKind::Tftp => tftp::help(&conn.tuple, l4),
        };
        let nat = conn.status.0 & (Status::SRC_NAT | Status::DST_NAT) != 0;
        let (tuple, ftp) = match action {
            Action::Accept => return HelpVerdict::Accept,
            Action::Drop(why) => return HelpVerdict::Drop(why),
            Action::Expect { tuple, ftp } => (tuple, ftp),
        };
        let expect = Expectation {
            master: id,
            tuple,
            match_src_addr: true,
            match_src_port: false,
            helper: None,
            expires_ns: now_ns
                .saturating_add(u64::from(self.params.expect_timeout) * super::table::NS),
            nat: None,
        };
        if nat {
            return HelpVerdict::Nat(NatRequest {
                helper,
                dir,
                expect,
                ftp,
            });
        }
        match self.expect_related(expect, now_ns) {
            Ok(()) => HelpVerdict::Accept,
            // "Can't expect this?  Best to drop packet now."
            Err(_) => HelpVerdict::Drop("cannot add expectation"),
        }
    }
}

#[cfg(test)]
mod tests;
