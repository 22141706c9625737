//! The progress bar of long replays: bytes of the capture read, the rate and
//! the time left, on stderr, only when stderr is a terminal and `--quiet` was
//! not given (so pipes, files and CI logs never see it), and not while the
//! records themselves scroll past on that terminal (stdout a terminal too and
//! a per-record format), where the bar would tear through the lines. It is
//! cleared when the replay ends. Colour in the bar follows `--color`/NO_COLOR.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// A replay shorter than this never shows a bar (no flash on small files).
const DELAY: Duration = Duration::from_millis(500);

pub struct Progress {
    /// Drawing is allowed (terminal, no --quiet); the bar appears after DELAY.
    allowed: bool,
    total: Option<u64>,
    color: bool,
    start: Instant,
    bar: Option<ProgressBar>,
}

/// Whether to draw: only for a person watching a terminal that the records
/// are not being printed to.
fn wanted(quiet: bool, stderr_is_terminal: bool, records_on_terminal: bool) -> bool {
    !quiet && stderr_is_terminal && !records_on_terminal
}

impl Progress {
    /// A bar over `total` bytes (the capture's size), or nothing.
    /// `per_record` says whether stdout gets a line per record.
    pub fn new(total: Option<u64>, quiet: bool, per_record: bool, color: bool) -> Progress {
        let records_on_terminal = per_record && std::io::stdout().is_terminal();
        Progress {
            allowed: wanted(quiet, std::io::stderr().is_terminal(), records_on_terminal),
            total,
            color,
            start: Instant::now(),
            bar: None,
        }
    }

    fn draw(&self) -> ProgressBar {
        let template = if self.color {
            "{elapsed_precise} [{bar:40.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
        } else {
            "{elapsed_precise} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(self.total, ProgressDrawTarget::stderr_with_hz(4))
            .with_style(style)
            .with_elapsed(self.start.elapsed());
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    }

    /// The replay has reached byte `offset` of the capture. The replay says
    /// so every few thousand records: updating costs an atomic store and a
    /// clock read, which would show in the replay's profile per record.
    pub fn at(&mut self, offset: u64) {
        if !self.allowed {
            return;
        }
        if self.bar.is_none() && self.start.elapsed() >= DELAY {
            self.bar = Some(self.draw());
        }
        if let Some(b) = &self.bar {
            b.set_position(offset);
        }
    }

    /// Removes the bar before the totals are printed.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_only_on_a_terminal_without_quiet() {
        assert!(wanted(false, true, false));
        assert!(!wanted(false, true, true));
        assert!(!wanted(true, true, false));
        assert!(!wanted(false, false, false));
        assert!(!wanted(true, false, false));
    }

    #[test]
    fn tests_run_without_a_terminal_so_no_bar_exists() {
        if !std::io::stderr().is_terminal() {
            let mut p = Progress::new(Some(100), false, false, false);
            p.at(10);
            assert!(!p.allowed && p.bar.is_none());
            p.finish();
        }
    }
}
