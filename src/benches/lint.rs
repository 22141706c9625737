//! Benchmark: every lint over the largest corpus ruleset (the ~5,000-rule
//! TUM university dump), the cost of an interactive `iptwalk lint`.
//! Run with `cargo bench --bench lint`.
//!
//! The dump is anonymised with `XX:XX:XX:XX:XX:XX` MAC addresses, which
//! iptables (and our loader) reject; they are replaced by a valid MAC.

/// The binary's allocator, so the bench measures what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use iptwalk::lint::{self, LintInput, Selection};
use iptwalk::source::SourceFile;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/rulesets");
    let path = dir.join("iptsem-tum-net-2015-09-03.v4");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("skip: {} not found", path.display());
        return;
    };
    let text = text.replace("XX:XX:XX:XX:XX:XX", "02:00:00:00:00:01");
    let file = SourceFile::new(path.display().to_string(), text);
    let loaded = iptwalk::ir::load(&file);
    if loaded.has_errors() {
        println!("skip: the corpus file does not load");
        return;
    }
    let rules: usize = loaded
        .ruleset
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .map(|c| c.rules.len())
        .sum();
    let input = LintInput {
        file: &file,
        ruleset: &loaded.ruleset,
        refused: &[],
    };
    let mut findings = 0;
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            findings = lint::run(&input, &Selection::default()).len();
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "lint {rules} rules: median {:.1} ms over 5 runs (min {:.1} ms), {findings} findings",
        times[2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
}
