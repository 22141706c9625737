//! `iptwalk fmt`: canonical iptables-save text, or `--check` for CI.

use super::{read_source, Ctx};
use iptwalk::ir::{self, save::SaveOptions};
use iptwalk::report::style;
use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// Rule files (iptables-save/-restore text or shell scripts); `-` is stdin.
    #[arg(required = true, value_name = "RULES")]
    files: Vec<String>,
    /// Keep packet and byte counters (`[p:b]`), as `iptables-save -c` prints them.
    #[arg(long)]
    counters: bool,
    /// Print nothing but a diff, and exit 1, when a file is not already canonical.
    #[arg(long)]
    check: bool,
}

pub fn run(ctx: &Ctx, args: FmtArgs) -> ExitCode {
    let opts = SaveOptions {
        counters: args.counters,
    };
    let mut failed = false;
    let mut differs = false;
    let mut stdout = std::io::stdout().lock();
    for path in &args.files {
        let Some(file) = read_source(path) else {
            failed = true;
            continue;
        };
        let loaded = ir::load(&file);
        ctx.report(&loaded.diagnostics);
        if loaded.has_errors() {
            failed = true;
            continue;
        }
        let text = ir::save::save(&loaded.ruleset, opts);
        if args.check {
            if text != file.text {
                differs = true;
                let diff = similar::TextDiff::from_lines(file.text.as_str(), text.as_str());
                let shown = diff
                    .unified_diff()
                    .header(&file.name, &format!("{} (canonical)", file.name))
                    .to_string();
                let shown = style::lines(&shown, ctx.color_stdout(), style::of_diff_line);
                let _ = write!(stdout, "{shown}");
            }
        } else if stdout.write_all(text.as_bytes()).is_err() {
            return ExitCode::from(2);
        }
    }
    if failed {
        ExitCode::from(2)
    } else if differs {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
