//! Benchmark: parse + build + save of the largest corpus ruleset, next to
//! `iptables-legacy-restore --test` on the same file (when root and the tool
//! are available). Run with `cargo bench --bench parse`.
//!
//! The ~5,000-rule university dump is anonymised with `XX:XX:XX:XX:XX:XX`
//! MAC addresses, which iptables rejects; both sides get a valid MAC instead.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn corpus_file() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/rulesets");
    let p = dir.join("iptsem-tum-net-2015-09-03.v4");
    p.exists().then_some(p)
}

/// Median wall time of `runs` calls of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn iptables_restore_test(text: &str, runs: usize) -> Option<Duration> {
    let ns = format!("iptwalk-bench-{}", std::process::id());
    let ok = Command::new("ip")
        .args(["netns", "add", &ns])
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    let run = || -> bool {
        let mut child = match Command::new("ip")
            .args(["netns", "exec", &ns, "iptables-legacy-restore", "--test"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(_) => return false,
        };
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            let _ = stdin.write_all(text.as_bytes());
        }
        child.wait().map(|s| s.success()).unwrap_or(false)
    };
    let works = run();
    let t = works.then(|| {
        median(runs, || {
            run();
        })
    });
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    t
}

fn main() {
    let Some(path) = corpus_file() else {
        println!("parse bench: ../shared/corpus not found; skipped");
        return;
    };
    let text = std::fs::read_to_string(&path)
        .expect("corpus file is UTF-8")
        .replace("XX:XX:XX:XX:XX:XX", "02:00:00:00:00:01");
    let file = iptwalk::source::SourceFile::new(path.display().to_string(), text.clone());
    let rules = iptwalk::ir::load(&file).ruleset.rule_count();
    let ours = median(21, || {
        let loaded = iptwalk::ir::load(&file);
        assert!(
            !loaded.has_errors(),
            "{:?}",
            loaded.diagnostics.first().map(|d| &d.message)
        );
        std::hint::black_box(iptwalk::ir::save::save(&loaded.ruleset, Default::default()));
    });
    println!("file: {} ({rules} rules)", path.display());
    println!(
        "iptwalk parse+build+save: {:>10.3} ms",
        ours.as_secs_f64() * 1e3
    );
    match iptables_restore_test(&text, 7) {
        Some(theirs) => {
            println!(
                "iptables-legacy-restore --test: {:>10.3} ms",
                theirs.as_secs_f64() * 1e3
            );
            println!(
                "ratio: {:.1}x faster",
                theirs.as_secs_f64() / ours.as_secs_f64()
            );
        }
        None => println!(
            "iptables-legacy-restore --test: not available (needs root, ip, iptables-legacy)"
        ),
    }
}
