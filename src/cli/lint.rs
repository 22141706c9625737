//! `iptwalk lint`: findings as rustc-style text, JSON or SARIF; `--fix`.

use super::{read_source, Ctx};
use iptwalk::diagnostic::{Diagnostic, Severity};
use iptwalk::lint::{self, LintInput, Selection};
use iptwalk::report::{diagnostics, findings};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Rule files (iptables-save/-restore text or shell scripts); `-` is stdin.
    #[arg(value_name = "RULES", required_unless_present_any = ["explain", "list"])]
    files: Vec<String>,
    /// Output format.
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    format: Format,
    /// Print the documentation of a lint (by code or name) and exit.
    #[arg(long, value_name = "CODE")]
    explain: Option<String>,
    /// List every lint with its code, name and summary.
    #[arg(long)]
    list: bool,
    /// Run only these lints (codes or prefixes, comma-separated: IPT2,IPT301).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    select: Vec<String>,
    /// Skip these lints (codes or prefixes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    ignore: Vec<String>,
    /// Apply the safe mechanical fixes in place (never to stdin).
    #[arg(long)]
    fix: bool,
    /// For each shadowed/redundant-rule finding (IPT201, IPT206), print a
    /// packet that shows it, in the replay notation, and the rule that
    /// decides it (`iptwalk replay` gives that packet that verdict).
    #[arg(long)]
    witness: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
    Sarif,
}

pub fn run(ctx: &Ctx, args: LintArgs) -> ExitCode {
    if args.list {
        for l in lint::rules::ALL {
            println!(
                "{}  {:<24} {:<8} {}",
                l.meta.code,
                l.meta.name,
                l.meta.severity.as_str(),
                l.meta.summary
            );
        }
        return ExitCode::SUCCESS;
    }
    if let Some(code) = &args.explain {
        return match lint::find(code) {
            Some(l) => {
                println!(
                    "{} {} ({})\n\n{}\n\n{}",
                    l.meta.code,
                    l.meta.name,
                    l.meta.severity.as_str(),
                    l.meta.summary,
                    l.meta.docs
                );
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("error: no lint named `{code}`; `iptwalk lint --list` shows them all");
                ExitCode::from(2)
            }
        };
    }
    let selection = Selection {
        select: upper(&args.select),
        ignore: upper(&args.ignore),
    };
    let mut all: Vec<Diagnostic> = Vec::new();
    let mut input_error = false;
    let mut witnesses: Vec<String> = Vec::new();
    for path in &args.files {
        let Some(file) = read_source(path) else {
            input_error = true;
            continue;
        };
        let loaded = iptwalk::ir::load(&file);
        let outcome = lint::run_loaded(&file, &loaded, &selection);
        if !outcome.input_errors.is_empty() {
            // Not readable as iptables input: report why (exit 2), lint nothing.
            input_error = true;
            ctx.report(&outcome.input_errors);
            continue;
        }
        let found = outcome.diagnostics;
        if args.witness {
            let input = LintInput {
                file: &file,
                ruleset: &loaded.ruleset,
                refused: &[],
            };
            witnesses.extend(witness_lines(path, &input, &found));
        }
        if args.fix && path != "-" {
            if let Err(e) = apply_fixes(path, &file.text, &found) {
                eprintln!("error: {path}: {e}");
                input_error = true;
            }
        }
        all.extend(found);
    }
    match args.format {
        Format::Text => print!("{}", diagnostics::render_all(&all, ctx.color_stdout())),
        Format::Json => println!("{}", findings::json(&all)),
        Format::Sarif => println!("{}", findings::sarif(&all)),
    }
    for w in &witnesses {
        println!("{w}");
    }
    if input_error {
        ExitCode::from(2)
    } else if all
        .iter()
        .any(|d| d.code.is_some() && d.severity != Severity::Note || d.is_error())
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `PATH:LINE: IPT201 witness: tcp ... S (NEW), decided by filter/INPUT/3`
/// for the findings that were reported (not suppressed, selected).
fn witness_lines(path: &str, input: &LintInput, found: &[Diagnostic]) -> Vec<String> {
    lint::rules::shadowed_rule::witnesses(input)
        .into_iter()
        .filter(|w| {
            found
                .iter()
                .any(|d| d.code == Some(w.code) && d.span == w.span)
        })
        .map(|w| {
            let line = input.file.line_col(w.span.start as usize).line;
            format!(
                "{path}:{line}: {} witness: {} ({}), decided by {}",
                w.code, w.packet, w.state, w.decided_by
            )
        })
        .collect()
}

fn upper(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Applies non-overlapping safe fixes, last first so offsets stay valid.
fn apply_fixes(path: &str, text: &str, found: &[Diagnostic]) -> std::io::Result<()> {
    let mut fixes: Vec<_> = found
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .filter(|f| f.safe)
        .collect();
    if fixes.is_empty() {
        return Ok(());
    }
    fixes.sort_by_key(|f| std::cmp::Reverse(f.span.start));
    let mut out = text.to_string();
    let mut limit = usize::MAX;
    for f in fixes {
        let r = f.span.range();
        if r.end > limit || r.end > out.len() {
            continue; // overlaps a fix already applied
        }
        out.replace_range(r.clone(), &f.replacement);
        limit = r.start;
    }
    std::fs::write(path, out)
}
