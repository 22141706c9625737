//! Benchmark: parse + build + save of the largest corpus ruleset, next to
//! `iptables-legacy-restore --test` on the same file (when the tool is
//! installed). Run with `cargo bench --bench parse`.
//!
//! Both sides are measured in CPU time (user + system), which a busy machine
//! does not inflate, and in wall time. The ~5,000-rule university dump is
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

/// CPU and wall seconds per run of `runs` runs of iptables-legacy-restore
/// --test (it parses and checks without committing).
fn iptables_restore_test(path: &std::path::Path, runs: usize) -> Option<(f64, f64)> {
    let script = format!(
        "TIMEFORMAT='%3U %3S %3R'; time (for i in $(seq {runs}); do iptables-legacy-restore --test < '{}' >/dev/null 2>&1 || exit 9; done)",
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
    let [u, s, r] = nums[..] else { return None };
    Some(((u + s) / runs as f64, r / runs as f64))
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
    let runs = 50;
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    for _ in 0..runs {
        let loaded = iptwalk::ir::load(&file);
        assert!(
            !loaded.has_errors(),
            "{:?}",
            loaded.diagnostics.first().map(|d| &d.message)
        );
        std::hint::black_box(iptwalk::ir::save::save(&loaded.ruleset, Default::default()));
    }
    let ours_cpu = (cpu_seconds() - cpu0) / runs as f64;
    let ours_wall = wall0.elapsed().as_secs_f64() / runs as f64;
    println!("file: {} ({rules} rules), {runs} runs each", path.display());
    print_phases(&file, runs);
    println!(
        "iptwalk parse+build+save:        cpu {:>8.2} ms   wall {:>8.2} ms",
        ours_cpu * 1e3,
        ours_wall * 1e3
    );
    match iptables_restore_test(&fixed, 20) {
        Some((cpu, wall)) => {
            println!(
                "iptables-legacy-restore --test:  cpu {:>8.2} ms   wall {:>8.2} ms",
                cpu * 1e3,
                wall * 1e3
            );
            println!(
                "ratio: {:.1}x less CPU, {:.1}x faster wall-clock",
                cpu / ours_cpu.max(1e-9),
                wall / ours_wall.max(1e-9)
            );
        }
        None => println!("iptables-legacy-restore --test: not available (install iptables)"),
    }
    let _ = std::fs::remove_file(&fixed);
}
