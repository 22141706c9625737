//! Conntrack sysctls, under their kernel names and with the kernel's per-netns defaults.
//!
//! Models the knobs of `net/netfilter/nf_conntrack_standalone.c` (`nf_ct_sysctl_table`) and the
//! `*_init_net` functions of the protocol trackers. Timeouts are kept in whole seconds, as the
//! sysctls show them (`proc_dointvec_jiffies`); the table converts them to nanoseconds of pcap
//! time. Invariant: every name accepted by [`Params::set`] is read back by [`Params::get`] and
//! listed in [`Params::NAMES`].

use thiserror::Error;

use super::proto::tcp::TcpState;

/// Errors from setting a sysctl.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParamError {
    /// The name is not a conntrack sysctl this model knows.
    #[error("unknown conntrack sysctl `{0}`")]
    Unknown(String),
    /// The value is out of the range the kernel's proc handler accepts.
    #[error("value {value} out of range for `{name}` (allowed {min}..={max})")]
    OutOfRange {
        /// Sysctl name.
        name: String,
        /// Rejected value.
        value: i64,
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
}

/// TCP timeouts in seconds, one per state plus the two special clocks
/// (`tcp_timeouts[]` in nf_conntrack_proto_tcp.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpTimeouts {
    /// SYN_SENT (2 min).
    pub syn_sent: u32,
    /// SYN_RECV (60 s).
    pub syn_recv: u32,
    /// ESTABLISHED (5 days).
    pub established: u32,
    /// FIN_WAIT (2 min).
    pub fin_wait: u32,
    /// CLOSE_WAIT (60 s).
    pub close_wait: u32,
    /// LAST_ACK (30 s).
    pub last_ack: u32,
    /// TIME_WAIT (2 min).
    pub time_wait: u32,
    /// CLOSE (10 s).
    pub close: u32,
    /// SYN_SENT2: fixed at 2 min, there is no sysctl for it in current kernels.
    pub syn_sent2: u32,
    /// TCP_CONNTRACK_RETRANS: used after `max_retrans` retransmissions (5 min).
    pub max_retrans: u32,
    /// TCP_CONNTRACK_UNACK: used while data is unacknowledged (5 min).
    pub unacknowledged: u32,
}

impl TcpTimeouts {
    /// Timeout of a state, in seconds (`timeouts[new_state]`).
    #[inline]
    pub fn for_state(&self, s: TcpState) -> u32 {
        match s {
            // timeouts[0] is set to the SYN_SENT value by nf_conntrack_tcp_init_net.
            TcpState::None | TcpState::SynSent => self.syn_sent,
            TcpState::SynRecv => self.syn_recv,
            TcpState::Established => self.established,
            TcpState::FinWait => self.fin_wait,
            TcpState::CloseWait => self.close_wait,
            TcpState::LastAck => self.last_ack,
            TcpState::TimeWait => self.time_wait,
            TcpState::Close => self.close,
            TcpState::SynSent2 => self.syn_sent2,
        }
    }
}

/// All conntrack sysctls the model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// `nf_conntrack_tcp_loose`: pick up connections mid-stream (default 1).
    pub tcp_loose: bool,
    /// `nf_conntrack_tcp_be_liberal`: only out-of-window RSTs are INVALID (default 0).
    pub tcp_be_liberal: bool,
    /// `nf_conntrack_tcp_ignore_invalid_rst`: skip the RST sequence check (default 0).
    pub tcp_ignore_invalid_rst: bool,
    /// `nf_conntrack_tcp_max_retrans` (default 3).
    pub tcp_max_retrans: u8,
    /// `nf_conntrack_checksum`: verify L4 checksums in PREROUTING (default 1).
    pub checksum: bool,
    /// TCP timeouts.
    pub tcp: TcpTimeouts,
    /// `nf_conntrack_udp_timeout` (30 s).
    pub udp_timeout: u32,
    /// `nf_conntrack_udp_timeout_stream` (120 s).
    pub udp_timeout_stream: u32,
    /// `nf_conntrack_icmp_timeout` (30 s).
    pub icmp_timeout: u32,
    /// `nf_conntrack_icmpv6_timeout` (30 s).
    pub icmpv6_timeout: u32,
    /// `nf_conntrack_generic_timeout` (600 s).
    pub generic_timeout: u32,
    /// `nf_conntrack_gre_timeout` (30 s): GRE before a reply.
    pub gre_timeout: u32,
    /// `nf_conntrack_gre_timeout_stream` (180 s): GRE after a reply.
    pub gre_timeout_stream: u32,
    /// Lifetime of an expectation: the FTP and TFTP helpers' policy `.timeout = 5 * 60`.
    /// Not a sysctl; [`Params::raise_all_timeouts`] raises it too, because the oracle replays
    /// a capture in far less than 300 s whatever its timestamps say.
    pub expect_timeout: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            tcp_loose: true,
            tcp_be_liberal: false,
            tcp_ignore_invalid_rst: false,
            tcp_max_retrans: 3,
            checksum: true,
            tcp: TcpTimeouts {
                syn_sent: 120,
                syn_recv: 60,
                established: 5 * 24 * 3600,
                fin_wait: 120,
                close_wait: 60,
                last_ack: 30,
                time_wait: 120,
                close: 10,
                syn_sent2: 120,
                max_retrans: 300,
                unacknowledged: 300,
            },
            udp_timeout: 30,
            udp_timeout_stream: 120,
            icmp_timeout: 30,
            icmpv6_timeout: 30,
            generic_timeout: 600,
            gre_timeout: 30,
            gre_timeout_stream: 180,
            expect_timeout: super::helpers::EXPECT_TIMEOUT,
        }
    }
}

/// Largest timeout `proc_dointvec_jiffies` accepts (INT_MAX / HZ with HZ=1000 would be smaller;
/// we accept any non-negative `i32`, which covers every value a real host can hold).
const MAX_TIMEOUT: i64 = i32::MAX as i64;

impl Params {
    /// Every sysctl name [`Params::set`] accepts, in `nf_ct_sysctl_table` order.
    pub const NAMES: [&'static str; 23] = [
        "nf_conntrack_checksum",
        "nf_conntrack_generic_timeout",
        "nf_conntrack_tcp_timeout_syn_sent",
        "nf_conntrack_tcp_timeout_syn_recv",
        "nf_conntrack_tcp_timeout_established",
        "nf_conntrack_tcp_timeout_fin_wait",
        "nf_conntrack_tcp_timeout_close_wait",
        "nf_conntrack_tcp_timeout_last_ack",
        "nf_conntrack_tcp_timeout_time_wait",
        "nf_conntrack_tcp_timeout_close",
        "nf_conntrack_tcp_timeout_max_retrans",
        "nf_conntrack_tcp_timeout_unacknowledged",
        "nf_conntrack_tcp_loose",
        "nf_conntrack_tcp_be_liberal",
        "nf_conntrack_tcp_ignore_invalid_rst",
        "nf_conntrack_tcp_max_retrans",
        "nf_conntrack_udp_timeout",
        "nf_conntrack_udp_timeout_stream",
        "nf_conntrack_icmp_timeout",
        "nf_conntrack_icmpv6_timeout",
        "nf_conntrack_acct",
        "nf_conntrack_gre_timeout",
        "nf_conntrack_gre_timeout_stream",
    ];

    /// Sets a sysctl by its kernel name (with or without the `net.netfilter.` prefix).
    /// Booleans accept 0/1 like `proc_dou8vec_minmax` with extra1=0, extra2=1.
    pub fn set(&mut self, name: &str, value: i64) -> Result<(), ParamError> {
        let short = name.strip_prefix("net.netfilter.").unwrap_or(name);
        let range = |min: i64, max: i64| -> Result<i64, ParamError> {
            if (min..=max).contains(&value) {
                Ok(value)
            } else {
                Err(ParamError::OutOfRange {
                    name: short.to_string(),
                    value,
                    min,
                    max,
                })
            }
        };
        let secs = || range(0, MAX_TIMEOUT).map(|v| u32::try_from(v).unwrap_or(u32::MAX));
        match short {
            "nf_conntrack_checksum" => self.checksum = range(0, 1)? == 1,
            "nf_conntrack_tcp_loose" => self.tcp_loose = range(0, 1)? == 1,
            "nf_conntrack_tcp_be_liberal" => self.tcp_be_liberal = range(0, 1)? == 1,
            "nf_conntrack_tcp_ignore_invalid_rst" => {
                self.tcp_ignore_invalid_rst = range(0, 1)? == 1
            }
            "nf_conntrack_tcp_max_retrans" => {
                self.tcp_max_retrans = u8::try_from(range(0, 255)?).unwrap_or(u8::MAX)
            }
            // Accounting changes no classification; accepted so oracle sysctl dumps load.
            "nf_conntrack_acct" => {
                range(0, 1)?;
            }
            "nf_conntrack_generic_timeout" => self.generic_timeout = secs()?,
            "nf_conntrack_udp_timeout" => self.udp_timeout = secs()?,
            "nf_conntrack_udp_timeout_stream" => self.udp_timeout_stream = secs()?,
            "nf_conntrack_icmp_timeout" => self.icmp_timeout = secs()?,
            "nf_conntrack_icmpv6_timeout" => self.icmpv6_timeout = secs()?,
            "nf_conntrack_gre_timeout" => self.gre_timeout = secs()?,
            "nf_conntrack_gre_timeout_stream" => self.gre_timeout_stream = secs()?,
            _ => {
                *self
                    .tcp_timeout_mut(short)
                    .ok_or_else(|| ParamError::Unknown(name.to_string()))? = secs()?
            }
        }
        Ok(())
    }

    /// Reads a sysctl back by its kernel name, as the value `sysctl` would print.
    pub fn get(&self, name: &str) -> Option<i64> {
        let short = name.strip_prefix("net.netfilter.").unwrap_or(name);
        Some(match short {
            "nf_conntrack_checksum" => i64::from(self.checksum),
            "nf_conntrack_tcp_loose" => i64::from(self.tcp_loose),
            "nf_conntrack_tcp_be_liberal" => i64::from(self.tcp_be_liberal),
            "nf_conntrack_tcp_ignore_invalid_rst" => i64::from(self.tcp_ignore_invalid_rst),
            "nf_conntrack_tcp_max_retrans" => i64::from(self.tcp_max_retrans),
            "nf_conntrack_acct" => 0,
            "nf_conntrack_generic_timeout" => i64::from(self.generic_timeout),
            "nf_conntrack_udp_timeout" => i64::from(self.udp_timeout),
            "nf_conntrack_udp_timeout_stream" => i64::from(self.udp_timeout_stream),
            "nf_conntrack_icmp_timeout" => i64::from(self.icmp_timeout),
            "nf_conntrack_icmpv6_timeout" => i64::from(self.icmpv6_timeout),
            "nf_conntrack_gre_timeout" => i64::from(self.gre_timeout),
            "nf_conntrack_gre_timeout_stream" => i64::from(self.gre_timeout_stream),
            _ => i64::from(*self.clone().tcp_timeout_mut(short)?),
        })
    }

    /// Sets every timeout to `secs`, as the oracle's `ct_timeouts_raised_to` does.
    pub fn raise_all_timeouts(&mut self, secs: u32) {
        let t = &mut self.tcp;
        for v in [
            &mut t.syn_sent,
            &mut t.syn_recv,
            &mut t.established,
            &mut t.fin_wait,
            &mut t.close_wait,
            &mut t.last_ack,
            &mut t.time_wait,
            &mut t.close,
            &mut t.syn_sent2,
            &mut t.max_retrans,
            &mut t.unacknowledged,
            &mut self.udp_timeout,
            &mut self.udp_timeout_stream,
            &mut self.icmp_timeout,
            &mut self.icmpv6_timeout,
            &mut self.generic_timeout,
            &mut self.gre_timeout,
            &mut self.gre_timeout_stream,
            &mut self.expect_timeout,
        ] {
            *v = secs;
        }
    }

    fn tcp_timeout_mut(&mut self, short: &str) -> Option<&mut u32> {
        let t = &mut self.tcp;
        Some(match short.strip_prefix("nf_conntrack_tcp_timeout_")? {
            "syn_sent" => &mut t.syn_sent,
            "syn_recv" => &mut t.syn_recv,
            "established" => &mut t.established,
            "fin_wait" => &mut t.fin_wait,
            "close_wait" => &mut t.close_wait,
            "last_ack" => &mut t.last_ack,
            "time_wait" => &mut t.time_wait,
            "close" => &mut t.close,
            "max_retrans" => &mut t.max_retrans,
            "unacknowledged" => &mut t.unacknowledged,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_kernel() {
        let p = Params::default();
        assert_eq!(p.get("nf_conntrack_tcp_loose"), Some(1));
        assert_eq!(p.get("nf_conntrack_tcp_be_liberal"), Some(0));
        assert_eq!(p.get("nf_conntrack_tcp_ignore_invalid_rst"), Some(0));
        assert_eq!(p.get("nf_conntrack_tcp_max_retrans"), Some(3));
        assert_eq!(p.get("nf_conntrack_checksum"), Some(1));
        assert_eq!(p.get("nf_conntrack_tcp_timeout_established"), Some(432_000));
        assert_eq!(p.get("nf_conntrack_tcp_timeout_close"), Some(10));
        assert_eq!(p.get("nf_conntrack_udp_timeout_stream"), Some(120));
        assert_eq!(p.get("nf_conntrack_generic_timeout"), Some(600));
    }

    #[test]
    fn every_name_round_trips() {
        for (i, name) in Params::NAMES.iter().enumerate() {
            let mut p = Params::default();
            let v = if name.ends_with("acct") || !name.contains("timeout") {
                1
            } else {
                1000 + i as i64
            };
            p.set(name, v).unwrap();
            let expect = if *name == "nf_conntrack_acct" { 0 } else { v };
            assert_eq!(p.get(name), Some(expect), "{name}");
        }
    }

    #[test]
    fn unknown_and_out_of_range_are_errors() {
        let mut p = Params::default();
        assert!(matches!(
            p.set("nf_conntrack_tcp_timeout_syn_sent2", 5),
            Err(ParamError::Unknown(_))
        ));
        assert!(matches!(
            p.set("nf_conntrack_bogus", 1),
            Err(ParamError::Unknown(_))
        ));
        assert!(matches!(
            p.set("nf_conntrack_tcp_loose", 2),
            Err(ParamError::OutOfRange { .. })
        ));
        p.set("net.netfilter.nf_conntrack_tcp_loose", 0).unwrap();
        assert!(!p.tcp_loose);
    }
}
