//! Benchmark: parse + build + save of the largest corpus ruleset, next to
//! `iptables-legacy-restore --test` on the same file (when the tool is
//! installed). Run with `cargo bench --bench parse`.
//!
//! Both sides are measured in wall time per run, as the minimum over
//! batches (a shared machine leaves some batch uncontended) and the median,
//! and in mean CPU time (user + system). The ~5,000-rule university dump is
//! anonymised with `XX:XX:XX:XX:XX:XX` MAC addresses, which iptables rejects;
//! both sides get a valid MAC instead.

/// The binary's allocator, so the bench measures what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

fn corpus_file() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/rulesets");
    let p = dir.join("iptsem-tum-net-2015-09-03.v4");
    p.exists().then_some(p)
}

/// This process's user + system CPU seconds (/proc/self/stat, in clock
/// ticks of 1/100 s, the Linux USER_HZ).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the comm field.
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    (tick(11) + tick(12)) as f64 / 100.0
}

/// Mean CPU seconds per run of `runs` runs of `iptables-legacy-restore
/// --test` (it parses and checks without committing), and each run's wall
/// time (process start included: that is what using it costs).
fn iptables_restore_test(path: &std::path::Path, runs: usize) -> Option<(f64, Vec<f64>)> {
    let script = format!(
        "TIMEFORMAT='%3U %3S'; time (for i in $(seq {runs}); do iptables-legacy-restore --test < '{}' >/dev/null 2>&1 || exit 9; done)",
        path.display()
    );
    let out = Command::new("bash").arg("-c").arg(script).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let nums: Vec<f64> = err
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let [u, s] = nums[..] else { return None };
    let mut walls = Vec::new();
    for _ in 0..runs {
        let input = std::fs::File::open(path).ok()?;
        let t = Instant::now();
        let status = Command::new("iptables-legacy-restore")
            .arg("--test")
            .stdin(input)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        walls.push(t.elapsed().as_secs_f64());
        if !status.success() {
            return None;
        }
    }
    Some(((u + s) / runs as f64, walls))
}

/// Wall seconds of each of `runs` runs of the `iptwalk fmt` binary.
fn fmt_process_walls(path: &std::path::Path, runs: usize) -> Vec<f64> {
    let bin = env!("CARGO_BIN_EXE_iptwalk");
    (0..runs)
        .filter_map(|_| {
            let t = Instant::now();
            let status = Command::new(bin)
                .arg("fmt")
                .arg(path)
                .stdout(std::process::Stdio::null())
                .status()
                .ok()?;
            status.success().then(|| t.elapsed().as_secs_f64())
        })
        .collect()
}

fn min_median(xs: &mut [f64]) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    (
        xs.first().copied().unwrap_or(0.0),
        xs.get(xs.len() / 2).copied().unwrap_or(0.0),
    )
}

/// CPU per phase, so a regression points at its stage: tokenizing the file,
/// applying the commands (argv parsing, extension checks, table checks), and
/// printing the canonical form.
fn print_phases(file: &std::sync::Arc<iptwalk::source::SourceFile>, runs: usize) {
    let mut diags = Vec::new();
    let c0 = cpu_seconds();
    for _ in 0..runs {
        diags.clear();
        std::hint::black_box(iptwalk::syntax::parse(file, &mut diags));
    }
    let syntax = (cpu_seconds() - c0) / runs as f64;
    let rf = iptwalk::syntax::parse(file, &mut diags);
    let c0 = cpu_seconds();
    for _ in 0..runs {
        diags.clear();
        std::hint::black_box(iptwalk::ir::build::build(file, &rf, &mut diags));
    }
    let build = (cpu_seconds() - c0) / runs as f64;
    let (rs, _) = iptwalk::ir::build::build(file, &rf, &mut diags);
    let c0 = cpu_seconds();
    for _ in 0..runs {
        std::hint::black_box(iptwalk::ir::save::save(&rs, Default::default()));
    }
    let save = (cpu_seconds() - c0) / runs as f64;
    println!(
        "  phases (cpu): syntax {:.2} ms, build {:.2} ms, save {:.2} ms",
        syntax * 1e3,
        build * 1e3,
        save * 1e3
    );
}

fn main() {
    let Some(path) = corpus_file() else {
        println!("parse bench: ../shared/corpus not found; skipped");
        return;
    };
    let text = std::fs::read_to_string(&path)
        .expect("corpus file is UTF-8")
        .replace("XX:XX:XX:XX:XX:XX", "02:00:00:00:00:01");
    let fixed = std::env::temp_dir().join(format!("iptwalk-bench-{}.v4", std::process::id()));
    std::fs::write(&fixed, &text).expect("temp file");
    let file = iptwalk::source::SourceFile::new(path.display().to_string(), text);
    let rules = iptwalk::ir::load(&file).ruleset.rule_count();
    let runs = 60;
    // Per-run wall time as the minimum over small batches: on a shared
    // machine some batch runs uncontended, and that is the tool's own speed.
    let mut batch_walls = Vec::new();
    let cpu0 = cpu_seconds();
    for _ in 0..runs / 3 {
        let t = Instant::now();
        for _ in 0..3 {
            let loaded = iptwalk::ir::load(&file);
            assert!(
                !loaded.has_errors(),
                "{:?}",
                loaded.diagnostics.first().map(|d| &d.message)
            );
            std::hint::black_box(iptwalk::ir::save::save(&loaded.ruleset, Default::default()));
        }
        batch_walls.push(t.elapsed().as_secs_f64() / 3.0);
    }
    let ours_cpu = (cpu_seconds() - cpu0) / runs as f64;
    let (ours_min, ours_median) = min_median(&mut batch_walls);
    println!("file: {} ({rules} rules), {runs} runs", path.display());
    print_phases(&file, runs);
    println!(
        "iptwalk parse+build+save:        wall min {:>7.2} ms  median {:>7.2} ms   cpu mean {:>7.2} ms",
        ours_min * 1e3,
        ours_median * 1e3,
        ours_cpu * 1e3
    );
    // The same job end to end, as users run both tools: a whole process that
    // reads the file and prints (or checks) it.
    let (cli_min, cli_median) = min_median(&mut fmt_process_walls(&fixed, 20));
    println!(
        "`iptwalk fmt FILE` (process):     wall min {:>7.2} ms  median {:>7.2} ms",
        cli_min * 1e3,
        cli_median * 1e3
    );
    match iptables_restore_test(&fixed, 20) {
        Some((cpu, mut walls)) => {
            let (min, median) = min_median(&mut walls);
            println!(
                "iptables-legacy-restore --test:  wall min {:>7.2} ms  median {:>7.2} ms   cpu mean {:>7.2} ms",
                min * 1e3,
                median * 1e3,
                cpu * 1e3
            );
            println!(
                "ratio, in process: {:.1}x faster (min wall), {:.1}x (median wall), {:.1}x less CPU",
                min / ours_min.max(1e-9),
                median / ours_median.max(1e-9),
                cpu / ours_cpu.max(1e-9)
            );
            println!(
                "ratio, whole processes: {:.1}x faster (min wall), {:.1}x (median wall)",
                min / cli_min.max(1e-9),
                median / cli_median.max(1e-9)
            );
        }
        None => println!("iptables-legacy-restore --test: not available (install iptables)"),
    }
    let _ = std::fs::remove_file(&fixed);
}
