//! The command-line interface: the only place that knows clap, colour and exit
//! codes (0 ok, 1 findings or differences, 2 usage or input error).

mod diff;
mod fmt;
mod graph;
mod lint;
mod list;
mod model;
mod progress;
mod replay;
mod split;
mod test;
mod totals;
mod trace;

use clap::{Parser, Subcommand};
use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use iptwalk::source::SourceFile;

#[derive(Parser, Debug)]
#[command(
    name = "iptwalk",
    version,
    about = "Understand iptables firewalls offline: format, lint, and replay captures through a kernel-exact model",
    long_about = None,
    after_help = "Examples:\n  iptwalk replay rules.v4 capture.pcap --local 10.0.0.1   what the host did with each packet\n  iptwalk trace rules.v4 --local 10.0.0.1 --packet \"tcp 192.0.2.7:40000>10.0.0.1:22 S\"\n  iptwalk lint rules.v4                                   mistakes, shadowed rules, stateful pitfalls\n  iptwalk list rules.v4                                   iptables -L -v -n --line-numbers, offline\n  iptwalk fmt --check rules.v4                            exit 1 if the file is not canonical\n  iptwalk diff old.v4 new.v4 capture.pcap --local 10.0.0.1\n\nExit status: 0 success, 1 findings or differences, 2 usage or input error."
)]
pub struct Cli {
    /// When to use colour: auto (when the stream is a terminal and NO_COLOR
    /// is unset or empty), always, never. Colours verdicts (replay, trace),
    /// -/+ lines (diff, fmt --check), PASS/FAIL (test) and diagnostics.
    #[arg(long, global = true, default_value = "auto", value_name = "WHEN")]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print rule files in canonical iptables-save form (as iptables-restore
    /// followed by iptables-save would).
    #[command(
        after_help = "Reads iptables-save/-restore files, shell scripts of iptables commands and \
`iptables -S` output (with `# table: NAME` comments). `-` reads standard input.\n\n\
Examples:\n  iptwalk fmt testdata/rules/example.v4\n  iptwalk fmt --check --counters saved.v4\n  iptables-save | iptwalk fmt -"
    )]
    Fmt(fmt::FmtArgs),
    /// Find mistakes: rules iptables rejects, rules that never match, stateful pitfalls.
    #[command(
        after_help = "Exit status: 0 clean (notes only), 1 findings, 2 a file does not load.\n\n\
Silence a finding with a comment line directly above the rule: `# iptwalk: ignore[IPT202]`.\n\n\
Examples:\n  iptwalk lint rules.v4\n  iptwalk lint --explain IPT301\n  iptwalk lint --format sarif rules.v4 > lint.sarif\n  iptwalk lint --fix --select IPT501 rules.v4"
    )]
    Lint(lint::LintArgs),
    /// Draw the chain graph (jumps and gotos between chains) as Graphviz DOT or SVG.
    #[command(
        after_help = "Examples:\n  iptwalk graph rules.v4 | dot -Tpng > chains.png\n  iptwalk graph --format svg rules.v4 > chains.svg\n  iptwalk graph rules.v4 --counters-from-replay capture.pcap --local 10.0.0.104 | dot -Tsvg > traffic.svg"
    )]
    Graph(graph::GraphArgs),
    /// Print a table as `iptables -L -v -n --line-numbers` does, with the
    /// file's counters or those a replay of a capture leaves.
    #[command(
        after_help = "Examples:\n  iptwalk list rules.v4\n  iptwalk list -t nat rules.v4 PREROUTING\n  \
iptwalk list rules.v4 --counters-from-replay capture.pcap --local 10.0.0.104 -x"
    )]
    List(list::ListArgs),
    /// Replay a pcap/pcapng capture through the ruleset and conntrack, as the
    /// kernel would: each packet's verdict, deciding rule and conntrack state.
    #[command(
        after_help = "Host model: --local addresses are the host's (plus 127.0.0.0/8); eth0 is the WAN side \
with the default route, eth1 holds the --lan networks, lo is loopback. A packet from a local address is \
locally generated (OUTPUT), one to a local address arrives on its source's side (INPUT), anything else \
is forwarded.\n\nExamples:\n  iptwalk replay rules.v4 capture.pcap --local 10.0.0.104\n  \
iptwalk replay rules.v4 capture.pcapng --local 192.0.2.1 --lan 192.168.1.0/24 --format jsonl\n  \
iptwalk replay rules.v4 capture.pcap --local 10.0.0.104 --counters after.v4 --format summary\n  \
iptwalk replay rules.v4 capture.pcap --local 10.0.0.104 --split out/\n\n\
A progress bar is drawn on stderr when it is a terminal and the records are not printed to one \
(stdout redirected, or --format summary); --quiet hides it."
    )]
    Replay(replay::ReplayArgs),
    /// Follow one packet through every hook, table and chain: each rule it was
    /// tested against and why it did or did not match, jumps, returns, the
    /// conntrack state and the verdict.
    #[command(
        after_help = "Examples:\n  iptwalk trace rules.v4 --local 10.0.0.1 --packet \"tcp 203.0.113.5:40000>10.0.0.1:22 S\"\n  \
iptwalk trace rules.v4 --local 10.0.0.1 --ctstate ESTABLISHED --packet \"tcp 203.0.113.5:40000>10.0.0.1:22 A\"\n  \
iptwalk trace rules.v4 --local 10.0.0.104 --pcap capture.pcap --index 3 --format json"
    )]
    Trace(trace::TraceArgs),
    /// Replay a capture through two rulesets and list the packets, by
    /// connection, whose verdict or deciding rule differs.
    #[command(
        after_help = "Exit status: 0 no difference, 1 differences, 2 usage or input error.\n\n\
Examples:\n  iptwalk diff old.v4 new.v4 capture.pcap --local 10.0.0.1\n  \
iptwalk diff old.v4 new.v4 capture.pcap --local 10.0.0.1 --lan 192.168.1.0/24 --format json"
    )]
    Diff(diff::DiffArgs),
    /// Check firewall expectations (TOML, see grammar/test-spec.md): packets
    /// and the verdicts they must get, captures that must pass a hook.
    #[command(
        after_help = "Exit status: 0 all passed, 1 a failure, 2 usage or input error.\n\n\
Examples:\n  iptwalk test testdata/tests/user_chains.toml\n  iptwalk test firewall.toml --junit results.xml"
    )]
    Test(test::TestArgs),
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            no_color_unset() && std::io::IsTerminal::is_terminal(&std::io::stderr())
        }
    };
    let color_stdout = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            no_color_unset() && std::io::IsTerminal::is_terminal(&std::io::stdout())
        }
    };
    let ctx = Ctx {
        color,
        color_stdout,
    };
    match cli.command {
        Command::Fmt(args) => fmt::run(&ctx, args),
        Command::Lint(args) => lint::run(&ctx, args),
        Command::Graph(args) => graph::run(&ctx, args),
        Command::List(args) => list::run(&ctx, args),
        Command::Replay(args) => replay::run(&ctx, args),
        Command::Trace(args) => trace::run(&ctx, args),
        Command::Diff(args) => diff::run(&ctx, args),
        Command::Test(args) => test::run(&ctx, args),
    }
}

/// NO_COLOR (no-color.org): colour is off by default when it is set to a
/// non-empty value; `--color always` still turns it on.
fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Settings every command shares.
pub struct Ctx {
    /// Colour on stderr.
    pub color: bool,
    /// Colour on stdout.
    color_stdout: bool,
}

impl Ctx {
    pub fn color_stdout(&self) -> bool {
        self.color_stdout
    }

    /// Prints diagnostics to stderr.
    pub fn report(&self, diags: &[iptwalk::diagnostic::Diagnostic]) {
        if diags.is_empty() {
            return;
        }
        eprint!(
            "{}",
            iptwalk::report::diagnostics::render_all(diags, self.color)
        );
    }
}

/// Reads a named file, or standard input for `-`. Errors are printed; `None`
/// then means exit 2.
/// Standard input holds one input: refuses `-` for more than one of `inputs` (rule files and
/// captures), with a message, before anything is read.
pub fn stdin_at_most_once(inputs: &[&std::ffi::OsStr]) -> bool {
    let dashes = inputs.iter().filter(|p| **p == "-").count();
    if dashes > 1 {
        eprintln!("error: `-` (standard input) can stand for one input only, not {dashes}");
    }
    dashes <= 1
}

pub fn read_source(path: &str) -> Option<Arc<SourceFile>> {
    let result = if path == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read(path).and_then(|bytes| {
            String::from_utf8(bytes).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
                )
            })
        })
    };
    match result {
        Ok(text) => Some(SourceFile::new(
            if path == "-" { "<stdin>" } else { path },
            text,
        )),
        Err(e) => {
            eprintln!("error: {path}: {e}");
            None
        }
    }
}
