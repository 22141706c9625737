//! The memory of `-m hashlimit` in replay: one table per `--hashlimit-name`
//! (`struct xt_hashlimit_htable`, shared by every rule naming it) of
//! per-flow buckets (`struct dsthash_ent`), as in xt_hashlimit.c revision 3.
//!
//! The table takes the configuration of the rule that created it
//! (`htable_create` copies the first rule's cfg at load): key fields,
//! masks, rate, burst, expiry. Replay creates it at the first packet a rule
//! naming it judges, so rules sharing a name with different settings follow
//! the first one evaluated, not the first one loaded.
//!
//! Time is capture time in jiffies (HZ=250, `ext::state`). Expired entries
//! are freed by a garbage collector every `gc_interval` ms from the table's
//! creation (`htable_gc`); the collector's phase is unknown offline, so the
//! ticks are counted from the table's first packet.

use super::hashlimit::{Hashlimit, BYTES, HASH_DIP, HASH_DPT, HASH_SIP, HASH_SPT, RATE_MATCH};
use crate::ext::facts::{Facts, L4Facts};
use crate::ext::state::HZ;
use std::collections::HashMap;

/// `CREDITS_PER_JIFFY` for revisions 2 and 3: the power of two below
/// `u64::MAX / (HZ * 86400)` (2^39 at HZ=250).
pub const CREDITS_PER_JIFFY: u64 = pow2_below(u64::MAX / (HZ * 86400));
/// `CREDITS_PER_JIFFY_BYTES`: the power of two below `u32::MAX / HZ` (2^24).
pub const CREDITS_PER_JIFFY_BYTES: u64 = pow2_below(u32::MAX as u64 / HZ);
/// `XT_HASHLIMIT_SCALE_v2`.
const SCALE: u64 = 1_000_000;
/// `XT_HASHLIMIT_BYTE_SHIFT`.
const BYTE_SHIFT: u32 = 4;
/// The bucket count `htable_create` picks when `--hashlimit-htable-size` is
/// not given, on a machine with more than 1 GiB of memory.
const DEFAULT_SIZE: u64 = 8192;

const fn pow2_below(x: u64) -> u64 {
    1 << (63 - x.leading_zeros())
}

/// `user2credits` (revision 3): `HZ * CREDITS_PER_JIFFY` exceeds the scale,
/// so the constant factor is divided out first.
pub fn user2credits(user: u64) -> u64 {
    user.wrapping_mul(HZ * CREDITS_PER_JIFFY / SCALE)
}

/// `user2credits_byte`.
fn user2credits_byte(user: u64) -> u64 {
    ((user as u32 as u64) * HZ * CREDITS_PER_JIFFY_BYTES) >> 32
}

/// `msecs_to_jiffies` at HZ=250: rounds up.
fn ms_to_jiffies(ms: u32) -> u64 {
    (u64::from(ms) * HZ).div_ceil(1000)
}

/// `struct dsthash_dst`: the fields `--hashlimit-mode` selects, masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dst {
    src: u32,
    dst: u32,
    sport: u16,
    dport: u16,
}

/// `struct dsthash_ent`'s rate information.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateInfo {
    pub prev: u64,
    pub credit: u64,
    pub credit_cap: u64,
    pub cost: u64,
    // --hashlimit-rate-match
    pub current_rate: u64,
    pub rate: u64,
    pub burst: u64,
    pub interval: u64,
    pub prev_window: bool,
}

#[derive(Debug)]
struct Ent {
    expires: u64,
    rate: RateInfo,
}

/// One named table.
#[derive(Debug)]
pub struct Table {
    cfg: Hashlimit,
    born: u64,
    max: usize,
    ents: HashMap<Dst, Ent>,
}

impl Table {
    /// `htable_create` from the first rule's configuration.
    pub fn new(cfg: &Hashlimit, now: u64) -> Table {
        let size = if cfg.size == 0 {
            DEFAULT_SIZE
        } else {
            u64::from(cfg.size)
        };
        let max = match u64::from(cfg.max) {
            0 => 8 * size,
            m => m.max(size),
        };
        Table {
            cfg: cfg.clone(),
            born: now,
            max: usize::try_from(max).unwrap_or(usize::MAX),
            ents: HashMap::new(),
        }
    }

    /// `hashlimit_init_dst`; `None` when the ports are needed but missing
    /// (hotdrop).
    pub fn dst_of(&self, f: &Facts) -> Option<Dst> {
        let mode = self.cfg.mode;
        let mask = |a: u32, l: u8| {
            if l == 0 {
                0
            } else {
                a & (u32::MAX << (32 - u32::from(l.min(32))))
            }
        };
        let mut d = Dst {
            src: if mode & HASH_SIP != 0 {
                mask(f.src, self.cfg.srcmask)
            } else {
                0
            },
            dst: if mode & HASH_DIP != 0 {
                mask(f.dst, self.cfg.dstmask)
            } else {
                0
            },
            sport: 0,
            dport: 0,
        };
        if mode & (HASH_SPT | HASH_DPT) == 0 {
            return Some(d);
        }
        // proto_ports_offset: ports for TCP, UDP, UDP-Lite, SCTP, DCCP
        // (and the SPI halves for ESP/AH); 0 for other protocols.
        let (sp, dp) = match f.l4 {
            L4Facts::Tcp { sport, dport, .. }
            | L4Facts::Udp { sport, dport }
            | L4Facts::Ports { sport, dport } => (sport, dport),
            L4Facts::Spi(spi) => ((spi >> 16) as u16, spi as u16),
            _ if matches!(f.proto, 6 | 17 | 33 | 50 | 51 | 132 | 136) => return None,
            _ => (0, 0),
        };
        if mode & HASH_SPT != 0 {
            d.sport = sp;
        }
        if mode & HASH_DPT != 0 {
            d.dport = dp;
        }
        Some(d)
    }

    /// Frees `dst`'s entry if a collector tick fell between its expiry and
    /// `now` (`htable_selective_cleanup`: `time_after_eq(jiffies, expires)`).
    fn collect(&mut self, dst: &Dst, now: u64) {
        let gc = ms_to_jiffies(self.cfg.gc_interval).max(1);
        if let Some(e) = self.ents.get(dst) {
            let since = e.expires.saturating_sub(self.born);
            let tick = self.born + since.div_ceil(gc) * gc;
            if tick <= now {
                self.ents.remove(dst);
            }
        }
    }

    /// `hashlimit_mt_common` for one rule (`rule` = its cfg: the invert and
    /// byte bits are the rule's own). `None` is hotdrop.
    pub fn judge(&mut self, rule: &Hashlimit, f: &Facts, now: u64) -> Option<bool> {
        let dst = self.dst_of(f)?;
        self.collect(&dst, now);
        let expires = now + ms_to_jiffies(self.cfg.expire);
        let under = match self.ents.get_mut(&dst) {
            Some(e) => {
                e.expires = expires;
                recalc(&mut e.rate, now, self.cfg.mode);
                spend(&mut e.rate, rule.mode, f.len)
            }
            None => {
                if self.ents.len() >= self.max {
                    return None;
                }
                let mut rate = init(&self.cfg, now);
                let under = spend(&mut rate, rule.mode, f.len);
                self.ents.insert(dst, Ent { expires, rate });
                under
            }
        };
        Some(under)
    }
}

/// `rateinfo_init`.
pub fn init(cfg: &Hashlimit, now: u64) -> RateInfo {
    let mut r = RateInfo {
        prev: now,
        ..RateInfo::default()
    };
    if cfg.mode & RATE_MATCH != 0 {
        if cfg.mode & BYTES != 0 {
            let u = cfg.avg as u32;
            let per = u32::MAX.checked_div(u).unwrap_or(u32::MAX);
            r.rate = u64::from(per.wrapping_sub(1)) << BYTE_SHIFT;
            r.burst = if cfg.burst != 0 {
                cfg.burst.wrapping_mul(r.rate)
            } else {
                r.rate
            };
        } else {
            r.rate = SCALE.checked_div(cfg.avg).unwrap_or(0);
            r.burst = cfg.burst.wrapping_add(r.rate);
        }
        r.interval = u64::from(cfg.interval);
    } else if cfg.mode & BYTES != 0 {
        r.credit = CREDITS_PER_JIFFY_BYTES * HZ;
        r.cost = user2credits_byte(cfg.avg);
        r.credit_cap = cfg.burst;
    } else {
        r.credit = user2credits(cfg.avg.wrapping_mul(cfg.burst));
        r.cost = user2credits(cfg.avg);
        r.credit_cap = r.credit;
    }
    r
}

/// `rateinfo_recalc` with the table's mode.
pub fn recalc(r: &mut RateInfo, now: u64, mode: u32) {
    let delta = now.wrapping_sub(r.prev);
    if delta == 0 {
        return;
    }
    if mode & RATE_MATCH != 0 {
        let interval = r.interval * HZ;
        if delta < interval {
            return;
        }
        r.prev = now;
        r.prev_window = u128::from(r.current_rate) * u128::from(interval)
            > u128::from(delta) * u128::from(r.rate);
        r.current_rate = 0;
        return;
    }
    r.prev = now;
    let cap = if mode & BYTES != 0 {
        let old = r.credit;
        r.credit = r
            .credit
            .wrapping_add(CREDITS_PER_JIFFY_BYTES.wrapping_mul(delta));
        let cap = CREDITS_PER_JIFFY_BYTES * HZ;
        if old >= r.credit {
            r.credit = cap;
            return;
        }
        cap
    } else {
        r.credit = r.credit.wrapping_add(delta.wrapping_mul(CREDITS_PER_JIFFY));
        r.credit_cap
    };
    if r.credit > cap {
        r.credit = cap;
    }
}

/// The spending half of `hashlimit_mt_common`: true = under the limit.
pub fn spend(r: &mut RateInfo, mode: u32, len: u32) -> bool {
    if mode & RATE_MATCH != 0 {
        r.current_rate += if mode & BYTES != 0 { u64::from(len) } else { 1 };
        return !r.prev_window && r.current_rate <= r.burst;
    }
    let cost = if mode & BYTES != 0 {
        byte_cost(r, len)
    } else {
        r.cost
    };
    if r.credit >= cost {
        r.credit -= cost;
        true
    } else {
        false
    }
}

/// `hashlimit_byte_cost`: cost of the packet's 16-byte chunks; an empty
/// bucket is refilled while the burst counter (`credit_cap`) lasts.
fn byte_cost(r: &mut RateInfo, len: u32) -> u64 {
    let full = CREDITS_PER_JIFFY_BYTES * HZ;
    let chunks = u64::from((len >> BYTE_SHIFT) + 1);
    let tmp = chunks.wrapping_mul(r.cost).min(full);
    if r.credit < tmp && r.credit_cap != 0 {
        r.credit_cap -= 1;
        r.credit = full;
    }
    u64::from(tmp as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_at_hz_250() {
        assert_eq!(CREDITS_PER_JIFFY, 1 << 39);
        assert_eq!(CREDITS_PER_JIFFY_BYTES, 1 << 24);
        // The factor iptwalk's load check uses (HZ-independent).
        assert_eq!(HZ * CREDITS_PER_JIFFY / SCALE, 137_438_953);
        assert_eq!(ms_to_jiffies(1000), 250);
        assert_eq!(ms_to_jiffies(1), 1);
    }

    fn rule(text: &str) -> Hashlimit {
        match super::super::testutil::first_match(text) {
            crate::ext::Match::Hashlimit(h) => h,
            other => panic!("not hashlimit: {other:?}"),
        }
    }

    #[test]
    fn packet_bucket_refills_per_jiffy() {
        // 2/sec burst 3: avg 500000 µs, cost 500000 * 137438953 credits;
        // one jiffy refills 2^39, so a packet's worth takes 125 jiffies.
        let h = rule("-m hashlimit --hashlimit-upto 2/sec --hashlimit-burst 3 --hashlimit-name t");
        let mut r = init(&h, 100);
        let took: Vec<bool> = (0..4).map(|_| spend(&mut r, h.mode, 60)).collect();
        assert_eq!(took, [true, true, true, false]);
        recalc(&mut r, 224, h.mode);
        assert!(!spend(&mut r, h.mode, 60));
        recalc(&mut r, 225, h.mode);
        assert!(spend(&mut r, h.mode, 60));
        // A long pause fills only up to the burst.
        recalc(&mut r, 1_000_000, h.mode);
        assert_eq!(r.credit, r.credit_cap);
    }

    #[test]
    fn byte_mode_spends_chunks_and_refills_burst_times() {
        // 1kb/s with a 2kb burst: the bucket holds 4194304000 credits and
        // is refilled from the burst counter when a packet does not fit.
        let h =
            rule("-m hashlimit --hashlimit-upto 1kb/s --hashlimit-burst 2kb --hashlimit-name t");
        let mut r = init(&h, 0);
        let cost = r.cost;
        assert!(cost > 0);
        assert!(spend(&mut r, h.mode, 1000));
        // 1000 bytes are 63 chunks.
        assert_eq!(r.credit, CREDITS_PER_JIFFY_BYTES * HZ - 63 * cost);
    }
}
