//! The progress bar of long replays: bytes of the capture read, the rate and
//! the time left, on stderr, only when stderr is a terminal and `--quiet` was
//! not given (so pipes, files and CI logs never see it). It is cleared when
//! the replay ends. Colour in the bar follows `--color`/NO_COLOR like the rest.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Records between two position updates: updating costs an atomic store and
/// a clock read, so a few thousand records per update keeps it off the
/// replay's profile while the bar still moves several times a second.
const EVERY: u64 = 4096;

pub struct Progress {
    bar: Option<ProgressBar>,
    seen: u64,
}

/// Whether to draw: only for a person watching a terminal.
fn wanted(quiet: bool, stderr_is_terminal: bool) -> bool {
    !quiet && stderr_is_terminal
}

impl Progress {
    /// A bar over `total` bytes (the capture's size), or nothing.
    pub fn new(total: Option<u64>, quiet: bool, color: bool) -> Progress {
        let bar = wanted(quiet, std::io::stderr().is_terminal()).then(|| {
            let template = if color {
                "{elapsed_precise} [{bar:40.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            } else {
                "{elapsed_precise} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            };
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(4))
                .with_style(style);
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress { bar, seen: 0 }
    }

    /// One more record, which started at byte `offset` of the capture.
    pub fn record(&mut self, offset: u64) {
        self.seen += 1;
        if self.seen % EVERY == 0 {
            if let Some(b) = &self.bar {
                b.set_position(offset);
            }
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
        assert!(wanted(false, true));
        assert!(!wanted(true, true));
        assert!(!wanted(false, false));
        assert!(!wanted(true, false));
    }

    #[test]
    fn tests_run_without_a_terminal_so_no_bar_exists() {
        if !std::io::stderr().is_terminal() {
            let mut p = Progress::new(Some(100), false, false);
            p.record(10);
            assert!(p.bar.is_none());
            p.finish();
        }
    }
}
