//! `iptwalk graph`: the chain graph as Graphviz DOT (or SVG through `dot`).

use super::{read_source, Ctx};
use std::io::Write;
use std::process::{Command, ExitCode, Stdio};

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    /// Rule file (iptables-save/-restore text or a shell script); `-` is stdin.
    #[arg(value_name = "RULES")]
    file: String,
    /// `dot` prints Graphviz source; `svg` renders it with the `dot` program.
    #[arg(long, default_value = "dot", value_name = "FORMAT")]
    format: Format,
    /// Replay this capture first (with the host options below) and weigh each
    /// edge by the packets its rules sent along it: label and line width.
    #[arg(long, value_name = "PCAP")]
    counters_from_replay: Option<std::path::PathBuf>,
    #[command(flatten)]
    model: super::model::ModelArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Dot,
    Svg,
}

pub fn run(ctx: &Ctx, args: GraphArgs) -> ExitCode {
    let Some(file) = read_source(&args.file) else {
        return ExitCode::from(2);
    };
    let loaded = iptwalk::ir::load(&file);
    ctx.report(&loaded.diagnostics);
    if loaded.has_errors() {
        return ExitCode::from(2);
    }
    // As `list`: a capture with unreadable records still gives its graph
    // (the records that could be read), and exit status 2.
    let (dot, complete) = match &args.counters_from_replay {
        None => (iptwalk::report::graph::dot(&loaded.ruleset), true),
        Some(pcap) => {
            match super::model::replay_counters(ctx, &loaded.ruleset, pcap, &args.model) {
                Ok((counted, ok)) => (iptwalk::report::graph::dot_with(&counted, true), ok),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let shown = match args.format {
        Format::Dot => {
            print!("{dot}");
            ExitCode::SUCCESS
        }
        Format::Svg => render_svg(&dot),
    };
    if complete {
        shown
    } else {
        ExitCode::from(2)
    }
}

fn render_svg(dot: &str) -> ExitCode {
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) => {
            eprintln!("error: `--format svg` needs Graphviz's `dot` program (apt-get install graphviz); `--format dot` prints the source");
            return ExitCode::from(2);
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(dot.as_bytes());
    }
    match child.wait() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        _ => ExitCode::from(2),
    }
}
