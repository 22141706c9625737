//! The large-state rows, run only with `IPTWALK_BENCH_LARGE=1`: mix_10m
//! (10,000,000 packets, ~525k flows, 1.2 GB, generated on first use by
//! ../shared/bench's `gen_pcap.py mix_10m.pcap 10000000 --concurrent 10000
//! --seed 1`, about a minute) through the 100-rule ruleset, on one worker and
//! sharded. The README gives no kernel tallies or sha256 for it, so the
//! sharded replay is held to the one-worker tallies only. The peak memory
//! printed after these rows is the process's high-water mark, which is
//! theirs: the capture streams, so it is the conntrack table's size, not the
//! capture's.

use super::{
    ensure_rules, generated_pcap, peak_memory_kib, print_one_worker, print_sharded, rounds, Pass,
    RowInput,
};
use std::path::Path;

/// What the scorecard says of the large rows.
pub struct Large {
    pub one: Pass,
    pub sharded: Option<Pass>,
    pub peak_kib: Option<u64>,
}

/// Runs the rows; `None` when `IPTWALK_BENCH_LARGE` is not set.
pub fn run(gen: &Path, dir: &Path, passes: usize, jobs: usize) -> Result<Option<Large>, String> {
    if std::env::var_os("IPTWALK_BENCH_LARGE").is_none_or(|v| v == "0") {
        return Ok(None);
    }
    let pcap = generated_pcap(
        gen,
        dir,
        "mix_10m.pcap",
        10_000_000,
        "about a minute, 1.2 GB",
    )?;
    let rules = ensure_rules(gen, dir, 100)?;
    println!("\nlarge state: {}", pcap.display());
    // Rounds of one worker then the workers, as for the other rows (no tcpdump).
    let input = RowInput {
        rules,
        full: false,
        side_by_side: false,
    };
    let row = rounds(passes, &[input], &pcap, u64::MAX, jobs, false)?
        .pop()
        .ok_or("no rows")?;
    let (one, (tallies, conns)) = (row.one.pass, row.one.seen);
    print_one_worker("100", &one, None, "", &tallies, conns);
    let max = iptwalk::conntrack::KERNEL_DEFAULT_MAX;
    if conns > max {
        // What `iptwalk replay` warns about: the limit is not modelled.
        println!(
            "{:>6}  {conns} entries > nf_conntrack_max {max} of a default kernel, which would \
             early-drop or refuse connections once full: these tallies are without the limit",
            ""
        );
    }
    let mut sharded = None;
    if let Some(many) = row.many {
        let (many_tallies, mode) = &many.seen;
        print_sharded("100", jobs, &many.pass, one.wall, many_tallies, mode);
        if *many_tallies != tallies {
            return Err(format!("mix_10m: {jobs} workers give other tallies"));
        }
        sharded = Some(many.pass);
    }
    let peak_kib = peak_memory_kib();
    if let Some(k) = peak_kib {
        println!(
            "peak memory (VmHWM) after the large rows {:.1} MiB",
            k as f64 / 1024.0
        );
    }
    Ok(Some(Large {
        one,
        sharded,
        peak_kib,
    }))
}

impl Large {
    pub fn print(&self, jobs: usize) {
        let pps = |p: &Pass, t: f64| p.packets as f64 / t.max(1e-9) / 1e6;
        let one = pps(&self.one, self.one.cpu.as_secs_f64());
        let mark = |r: f64| if r >= 2.5 { "met" } else { "NOT met" };
        print!(
            "  mix_10m >= 2.5 M packets/s: {one:.2} M/s on one core: {}",
            mark(one)
        );
        if let Some(m) = &self.sharded {
            let wall = pps(m, m.wall.as_secs_f64());
            print!("; {wall:.2} M/s (wall) on {jobs} workers: {}", mark(wall));
        }
        match self.peak_kib {
            Some(k) => println!(", peak memory {:.0} MiB", k as f64 / 1024.0),
            None => println!(),
        }
    }
}
